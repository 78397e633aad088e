/**
 * Controller semantics without a server: results and errors (requeue, requeueAfter, TerminalError,
 * non-Error throws, the error policy), priorities of initial and resync events, predicates, owns
 * and watches routing within a cluster, manager defaults, late controllers, engagement tokens,
 * timeouts and the reconcile logger.
 */
import { expect } from 'chai';
import { generationChanged, LOW_PRIORITY, TerminalError, type Controller, type Request } from '../../src/index.js';
import { ClusterNotFoundError } from '../../src/provider/index.js';
import { harness, record } from '../support/fake-manager.js';
import { eventually } from '../support/server.js';

const CM = { apiVersion: 'v1', kind: 'ConfigMap' } as const;
const WIDGET = { apiVersion: 'example.dev/v1alpha1', kind: 'Widget' } as const;

function cm(name: string, extra: Record<string, unknown> = {}) {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', ...extra } };
}

describe('controller (fake provider)', function () {
  this.timeout(10_000);

  it('maps results to queue actions as controller-runtime does', async () => {
    let ctrl!: Controller;
    const calls: Record<string, number> = {};
    const h = await harness((m) => {
      ctrl = m.controller('results').for(CM).reconcile((req) => {
        calls[req.name] = (calls[req.name] ?? 0) + 1;
        const n = calls[req.name]!;
        switch (req.name) {
          case 'after':
            return n < 2 ? { requeueAfter: 20 } : undefined;
          case 'requeue':
            return n < 3 ? { requeue: true } : undefined;
          case 'terminal':
            throw new TerminalError('bad spec');
          case 'string':
            if (n < 2) throw 'not an Error';
            return undefined;
          case 'gone':
            throw new ClusterNotFoundError('x');
          default:
            return undefined;
        }
      });
    });
    const seen = record(ctrl);
    const inf = h.provider.endpoint.informer(CM);
    h.provider.add('c1');
    for (const n of ['ok', 'after', 'requeue', 'terminal', 'string', 'gone']) inf.put('c1', cm(n));
    try {
      await eventually(() => calls['after'] === 2 && calls['requeue'] === 3 && calls['string'] === 2, 'requeues done');
      const of = (n: string) => seen.filter((o) => o.request.name === n).map((o) => o.result);
      expect(of('ok')).to.deep.equal(['success']);
      expect(of('after')).to.deep.equal(['requeue_after', 'success']);
      expect(of('requeue')).to.deep.equal(['requeue', 'requeue', 'success']);
      expect(of('terminal')).to.deep.equal(['error']);
      expect(of('string')).to.deep.equal(['error', 'success']);
      expect(of('gone')).to.deep.equal(['success']);
      // A terminal error is not retried.
      expect(calls['terminal']).to.equal(1);
      expect(ctrl.queue.numRequeues({ cluster: 'c1', namespace: 'default', name: 'terminal' })).to.equal(0);
      const text = await h.manager.metrics.metrics();
      expect(text).to.match(/controller_runtime_terminal_reconcile_errors_total\{controller="results"\} 1/);
      expect(text).to.match(/controller_runtime_reconcile_panics_total\{controller="results"\} 1/);
      expect(text).to.match(/controller_runtime_reconcile_errors_total\{controller="results"\} 2/);
      expect(text).to.match(/controller_runtime_reconcile_total\{controller="results",result="requeue_after"\} 1/);
    } finally {
      await h.stop();
    }
  });

  it('treats anything thrown as a failure, even undefined or an object that cannot become a string, without crashing', async () => {
    let ctrl!: Controller;
    const calls: Record<string, number> = {};
    const h = await harness((m) => {
      ctrl = m
        .controller('odd-throws')
        .for(CM)
        .withOptions({ errorPolicy: (req) => (req.name === 'bad-policy' ? (null as never) : 'backoff') })
        .reconcile((req) => {
          calls[req.name] = (calls[req.name] ?? 0) + 1;
          if (calls[req.name]! > 1) return;
          if (req.name === 'undef') throw undefined;
          if (req.name === 'nullproto') throw Object.create(null);
          throw new Error('boom');
        });
    });
    const seen = record(ctrl);
    const inf = h.provider.endpoint.informer(CM);
    h.provider.add('c1');
    for (const n of ['undef', 'nullproto', 'bad-policy']) inf.put('c1', cm(n));
    try {
      await eventually(() => ['undef', 'nullproto', 'bad-policy'].every((n) => calls[n] === 2), 'each retried once');
      for (const n of ['undef', 'nullproto', 'bad-policy']) {
        expect(seen.filter((o) => o.request.name === n).map((o) => o.result), n).to.deep.equal(['error', 'success']);
      }
    } finally {
      await h.stop();
    }
  });

  it('lets an error policy drop or delay a failed request', async () => {
    let ctrl!: Controller;
    const attempts: Record<string, number[]> = {};
    const h = await harness((m) => {
      ctrl = m
        .controller('policy')
        .for(CM)
        .withOptions({ errorPolicy: (req) => (req.name === 'drop' ? 'drop' : { requeueAfter: 30 }) })
        .reconcile((req, ctx) => {
          (attempts[req.name] ??= []).push(ctx.retry.attempt);
          if ((attempts[req.name]?.length ?? 0) < 3) throw new Error('boom');
        });
    });
    record(ctrl);
    h.provider.add('c1');
    const inf = h.provider.endpoint.informer(CM);
    inf.put('c1', cm('drop'));
    inf.put('c1', cm('delay'));
    try {
      await eventually(() => attempts['delay']?.length === 3, 'delayed retries');
      expect(attempts['drop']).to.deep.equal([0]);
    } finally {
      await h.stop();
    }
  });

  it('enqueues initial-list objects and resyncs at low priority, live events at 0', async () => {
    let ctrl!: Controller;
    const h = await harness((m) => {
      ctrl = m.controller('prio').for(CM).reconcile(() => undefined);
    });
    const seen = record(ctrl);
    const inf = h.provider.endpoint.informer(CM);
    inf.put('c1', cm('existing'));
    h.provider.add('c1');
    try {
      await eventually(() => seen.some((o) => o.request.name === 'existing'), 'initial object');
      inf.put('c1', cm('live'));
      await eventually(() => seen.some((o) => o.request.name === 'live'), 'live object');
      inf.put('c1', cm('live'), { sameRV: true });
      await eventually(() => seen.filter((o) => o.request.name === 'live').length === 2, 'resync');
      const prio = (n: string) => seen.filter((o) => o.request.name === n).map((o) => o.priority);
      expect(prio('existing')).to.deep.equal([LOW_PRIORITY]);
      expect(prio('live')).to.deep.equal([0, LOW_PRIORITY]);
    } finally {
      await h.stop();
    }
  });

  it('applies predicates, routes owned objects to their controlling owner and mapped objects in their own cluster', async () => {
    let ctrl!: Controller;
    const h = await harness((m) => {
      ctrl = m
        .controller('widgets')
        .for(WIDGET, { predicates: [generationChanged()] })
        .owns(CM)
        .watches({ apiVersion: 'v1', kind: 'Secret' }, (obj) => [{ namespace: 'default', name: String(obj.metadata?.labels?.['widget']) }])
        .reconcile(() => undefined);
    });
    const seen = record(ctrl);
    const widgets = h.provider.endpoint.informer(WIDGET);
    const cms = h.provider.endpoint.informer(CM);
    const secrets = h.provider.endpoint.informer({ apiVersion: 'v1', kind: 'Secret' });
    h.provider.add('c1');
    h.provider.add('c2');
    const count = (cluster: string, name: string) => seen.filter((o) => o.request.cluster === cluster && o.request.name === name).length;
    try {
      await eventually(() => ctrl.clusterNames().length === 2, 'engaged');
      widgets.put('c1', { apiVersion: WIDGET.apiVersion, kind: 'Widget', metadata: { name: 'w', namespace: 'default', generation: 1 } });
      await eventually(() => count('c1', 'w') === 1, 'created widget');
      // A status-only write (same generation) is filtered out; a spec change is not.
      widgets.put('c1', { apiVersion: WIDGET.apiVersion, kind: 'Widget', metadata: { name: 'w', namespace: 'default', generation: 1 }, status: { x: 1 } } as never);
      widgets.put('c1', { apiVersion: WIDGET.apiVersion, kind: 'Widget', metadata: { name: 'w', namespace: 'default', generation: 2 } });
      await eventually(() => count('c1', 'w') === 2, 'spec change');
      const owner = { apiVersion: 'example.dev/v1alpha1', kind: 'Widget', name: 'w2', uid: 'u', controller: true };
      cms.put('c2', cm('owned', { ownerReferences: [owner] }));
      cms.put('c2', cm('not-controlled', { ownerReferences: [{ ...owner, name: 'w3', controller: false }] }));
      secrets.put('c1', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default', labels: { widget: 'w4' } } });
      await eventually(() => count('c2', 'w2') === 1 && count('c1', 'w4') === 1, 'owner and mapped requests');
      expect(count('c2', 'owned')).to.equal(0);
      expect(count('c2', 'w3')).to.equal(0);
      expect(seen.filter((o) => o.request.name === 'w4').map((o) => o.request.cluster)).to.deep.equal(['c1']);
    } finally {
      await h.stop();
    }
  });

  it('drops events of clusters that are not engaged', async () => {
    let ctrl!: Controller;
    const h = await harness((m) => {
      ctrl = m.controller('only-engaged').for(CM).reconcile(() => undefined);
    });
    const seen = record(ctrl);
    const inf = h.provider.endpoint.informer(CM);
    h.provider.add('c1');
    try {
      await eventually(() => ctrl.clusterNames().includes('c1'), 'engaged');
      inf.put('stranger', cm('x'));
      inf.put('c1', cm('y'));
      await eventually(() => seen.some((o) => o.request.name === 'y'), 'engaged cluster served');
      expect(seen.some((o) => o.request.cluster === 'stranger')).to.equal(false);
    } finally {
      await h.stop();
    }
  });

  it('gives every controller the manager defaults, and engages controllers added later with every cluster', async () => {
    const h = await harness((m) => {
      m.controller('early').for(CM).reconcile(() => undefined);
    }, { controllerDefaults: { maxConcurrentReconciles: 4 } });
    const inf = h.provider.endpoint.informer(CM);
    inf.put('c1', cm('a'));
    inf.put('c2', cm('b'));
    h.provider.add('c1');
    h.provider.add('c2');
    try {
      await eventually(() => h.manager.clusters().filter((c) => c.state === 'engaged').length === 2, 'engaged');
      const late = h.manager.controller('late').for(CM).withOptions({ fairness: false }).reconcile(() => undefined);
      const seen = record(late);
      expect(late.options.maxConcurrentReconciles).to.equal(4);
      expect(late.options.fairness).to.equal(false);
      expect(h.manager.getControllers().find((c) => c.name === 'early')!.options.maxConcurrentReconciles).to.equal(4);
      await eventually(() => seen.length === 2, 'the late controller reconciles both clusters');
      expect(seen.map((o) => o.request.cluster).sort()).to.deep.equal(['c1', 'c2']);
      expect(() => h.manager.controller('late')).to.throw(/already exists/);
    } finally {
      await h.stop();
    }
  });

  it('keys engagements by token: a stale abort never removes the new engagement of the same name', async () => {
    let ctrl!: Controller;
    const h = await harness((m) => {
      ctrl = m.controller('tokens').for(CM).reconcile(() => undefined);
    });
    const seen = record(ctrl);
    const inf = h.provider.endpoint.informer(CM);
    h.provider.add('c1');
    try {
      await eventually(() => ctrl.clusterNames().includes('c1'), 'engaged');
      const old = h.provider.engagementOf('c1')!;
      // Re-report with a new handle: the provider aborts the old engagement after reporting the new one.
      const fresh = new AbortController();
      const cluster = h.provider.get('c1');
      (h.manager as unknown as { lifecycle: { engage(n: string, c: unknown, s: AbortSignal): void } }).lifecycle.engage('c1', cluster, fresh.signal);
      old.abort();
      await eventually(() => h.manager.clusters().some((c) => c.name === 'c1' && c.state === 'engaged'), 're-engaged');
      inf.put('c1', cm('after'));
      await eventually(() => seen.some((o) => o.request.name === 'after'), 'still served');
      expect(ctrl.clusterNames()).to.deep.equal(['c1']);
    } finally {
      await h.stop();
    }
  });

  it('retries a failed engagement with backoff and engages once the type is served', async () => {
    const h = await harness((m) => {
      m.controller('retry').for(CM).reconcile(() => undefined);
    });
    h.provider.endpoint.failing.add('v1/ConfigMap');
    h.provider.add('c1');
    try {
      await eventually(() => h.manager.clusters().some((c) => c.state === 'retrying' && /not served/.test(c.lastError ?? '')), 'retrying');
      h.provider.endpoint.failing.clear();
      await eventually(() => h.manager.clusters().some((c) => c.state === 'engaged'), 'engaged after retry', 5_000);
    } finally {
      await h.stop();
    }
  });

  it('aborts the reconcile signal on timeout and when the cluster leaves, and logs with the request fields', async () => {
    const reasons: Record<string, string> = {};
    let ctrl!: Controller;
    const h = await harness((m) => {
      ctrl = m
        .controller('signals')
        .for(CM)
        .withOptions({ reconcileTimeoutMs: 50, maxConcurrentReconciles: 2 })
        .reconcile(async (req: Request, ctx) => {
          ctx.log.info('working', { extra: 1 });
          if (req.name === 'quick') return;
          await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
          reasons[req.name] = String(ctx.signal.reason);
          return undefined;
        });
    });
    record(ctrl);
    const inf = h.provider.endpoint.informer(CM);
    h.provider.add('c1');
    try {
      inf.put('c1', cm('quick'));
      inf.put('c1', cm('slow'));
      await eventually(() => reasons['slow'] !== undefined, 'timed out');
      expect(reasons['slow']).to.match(/timed out/);
      const line = h.lines.find((l) => l['msg'] === 'working' && l['name'] === 'quick')!;
      expect(line).to.include({ controller: 'signals', cluster: 'c1', namespace: 'default', name: 'quick', level: 'info', extra: 1 });
      expect(line['reconcileID']).to.match(/^[0-9a-f-]{36}$/);
      expect(await h.manager.metrics.metrics()).to.match(/controller_runtime_reconcile_timeouts_total\{controller="signals"\} [1-9]/);
    } finally {
      await h.stop();
    }
  });

  it('makes the reconcile signal only for a reconciler that reads it; read after a timeout, it is born aborted with the reason', async () => {
    const Real = globalThis.AbortController;
    let made = 0;
    globalThis.AbortController = class extends Real {
      constructor() {
        super();
        made++;
      }
    };
    const late: Record<string, { aborted: boolean; reason: string }> = {};
    let ctrl!: Controller;
    let plain = 0;
    try {
      const h = await harness((m) => {
        ctrl = m
          .controller('lazy-signals')
          .for(CM)
          .withOptions({ reconcileTimeoutMs: 30 })
          .reconcile(async (req: Request, ctx) => {
            if (req.name !== 'late') {
              plain++;
              return;
            }
            await new Promise((r) => setTimeout(r, 120));
            late[req.name] = { aborted: ctx.signal.aborted, reason: String(ctx.signal.reason) };
          });
      });
      record(ctrl);
      const inf = h.provider.endpoint.informer(CM);
      h.provider.add('c1');
      try {
        await eventually(() => ctrl.clusterNames().includes('c1'), 'engaged');
        const before = made;
        for (let i = 0; i < 50; i++) inf.put('c1', cm(`plain-${i}`));
        await eventually(() => plain >= 50 && ctrl.queue.len() === 0, '50 reconciles');
        expect(made - before).to.equal(0);
        inf.put('c1', cm('late'));
        await eventually(() => late['late'] !== undefined, 'late read');
        expect(late['late']!.aborted).to.equal(true);
        expect(late['late']!.reason).to.match(/timed out after 30 ms/);
      } finally {
        await h.stop();
      }
    } finally {
      globalThis.AbortController = Real;
    }
  });

  it('stops within the grace period even when a reconciler hangs', async () => {
    const h = await harness((m) => {
      m.controller('hung').for(CM).reconcile(() => new Promise<void>(() => undefined));
    }, { gracefulShutdownMs: 200 });
    h.provider.endpoint.informer(CM).put('c1', cm('forever'));
    h.provider.add('c1');
    await eventually(() => h.manager.getControllers()[0]!.clusterNames().length === 1, 'engaged');
    const t0 = Date.now();
    await h.stop();
    expect(Date.now() - t0).to.be.below(2_000);
  });
});
