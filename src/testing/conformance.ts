/**
 * The provider conformance suite: one set of checks that every `Provider` passes, the bundled kcp
 * providers and a user's own alike. Each check runs a real `Manager` with one controller over a
 * fresh provider from the fixture, and states the Provider contract (`src/provider/types.ts`) as
 * behaviour a controller author relies on:
 *
 * 1. clusters that exist before `start` and clusters that appear after it are engaged, and each
 *    object is reconciled under the cluster that holds it (and no other);
 * 2. `get` of a name the provider does not know throws the typed not-found error;
 * 3. `indexField` reaches the caches of clusters engaged now and of clusters engaged later;
 * 4. a cluster's removal disengages it: its engagement signal aborts, the in-flight reconcile's
 *    signal aborts, its queued work is dropped, and nothing of it reaches a handler afterwards;
 * 5. a cluster that leaves and comes back under the same name ends engaged;
 * 6. a cluster's first reconcile runs only once every informer the controller watches has synced
 *    (controller-runtime's cache sync, per cluster), for clusters that exist at start and clusters
 *    that appear later; a cluster that existed at start shows all its objects to that reconcile.
 *
 * Run it with mocha (`providerConformance('my provider', fixture)` inside a test file) or with any
 * other runner through `providerConformanceChecks(fixture)`.
 */
import { Logger } from '../log/index.js';
import { Manager } from '../manager/index.js';
import { isClusterNotFound, type Aware, type Cluster, type Engagement, type Provider } from '../provider/index.js';
import type { KubernetesObject, ObjectType } from '../client/index.js';
import type { Request } from '../controller/index.js';

/** The label each object the suite creates carries; its value is indexed by the index check. */
export const CONFORMANCE_LABEL = 'conformance.kcp-mc.dev/value';
/** The field name the index check registers. */
export const CONFORMANCE_FIELD = 'conformance.value';

/** What the suite needs from the environment a provider discovers clusters in. */
export interface ProviderFixture<P extends Provider = Provider> {
  /** Prepares the environment once before the checks (start a server, publish an export…). */
  setup?(): Promise<void>;
  /** Releases the environment once after the checks. */
  teardown?(): Promise<void>;
  /** A new provider, not started, logging to `log`. Each check builds its own. */
  provider(log: Logger): P;
  /**
   * Makes a new cluster appear to providers (a workspace bound to the export, a workspace of the
   * type, a workspace deleted…), holding `objects` (namespaced in `default`, of `type`) from the
   * moment it appears. `id` is unique per call and safe in a workspace name. Resolves with the name
   * the provider will report the cluster under.
   */
  addCluster(id: string, objects: KubernetesObject[]): Promise<string>;
  /** Makes the cluster leave (unbinding, the initializer or terminator removed…). */
  removeCluster(name: string): Promise<void>;
  /**
   * Makes a cluster that left appear again under the same name. Absent when the provider's clusters
   * cannot come back (an initialized workspace never initializes again); the rejoin check is then
   * skipped and says why.
   */
  rejoinCluster?(name: string): Promise<void>;
  /** Why `rejoinCluster` is absent, shown when the check is skipped. */
  rejoinUnsupported?: string;
  /** The namespaced type the checks watch and index; default ConfigMap (`v1`). */
  type?: ObjectType<KubernetesObject>;
  /**
   * A second type the suite's controller watches (as `owns`), served in every cluster (e.g. v1
   * Event where the export claims events). The first-reconcile check then also asserts that its
   * informer synced before the cluster's first reconcile. Default: none (only `type` is watched).
   */
  ownedType?: ObjectType<KubernetesObject>;
  /** Extra fields for each object the suite creates (e.g. finalizers, or `data`). */
  template?: Record<string, unknown>;
  /** Deadline of each wait in ms; default 30 s. */
  timeoutMs?: number;
}

/** One check of the suite, runnable by any test runner. */
export interface ConformanceCheck {
  /** What the check asserts, fit for an `it()` title. */
  readonly title: string;
  /** Set when the check does not apply to this fixture; `run` then does nothing. */
  readonly skip?: string;
  /** Runs the check; rejects with an assertion-style error when the controller misbehaves. */
  run(): Promise<void>;
}

/** The conformance checks for `fixture`, in order; `setup`/`teardown` are the caller's to run. */
export function providerConformanceChecks<P extends Provider>(fixture: ProviderFixture<P>): ConformanceCheck[] {
  const ids = idMaker();
  return [
    {
      title: 'engages clusters that exist before start and clusters that appear after, each reconciled as itself',
      run: () => withHarness(fixture, async (h) => {
        const before = ids();
        const a = await fixture.addCluster(before, [h.object(`${before}-a1`, 'x'), h.object(`${before}-a2`, 'y')]);
        await h.start();
        await h.engaged(a);
        const after = ids();
        const b = await fixture.addCluster(after, [h.object(`${after}-b1`, 'x')]);
        await h.engaged(b);
        await h.until(() => h.reconciled(a, `${before}-a1`) && h.reconciled(a, `${before}-a2`) && h.reconciled(b, `${after}-b1`), 'every object reconciled');
        const wrong = h.requests.filter((r) => (r.name.startsWith(before) && r.cluster !== a) || (r.name.startsWith(after) && r.cluster !== b));
        check(wrong.length === 0, `objects reconciled under a cluster that does not hold them: ${JSON.stringify(wrong)}`);
        for (const name of [a, b]) {
          const c = h.provider.get(name);
          check(c.name === name, `get(${JSON.stringify(name)}) returned a cluster named ${JSON.stringify(c.name)}`);
          check(h.provider.clusterNames().includes(name), `clusterNames() lacks ${JSON.stringify(name)}`);
        }
      }),
    },
    {
      title: 'get of an unknown name throws the typed not-found error',
      run: () => withHarness(fixture, async (h) => {
        const id = ids();
        await h.engaged(await h.started(fixture.addCluster(id, [h.object(`${id}-o1`, 'o')])));
        const name = `conformance-unknown-${ids()}`;
        for (const [who, get] of [
          ['provider.get', (n: string) => h.provider.get(n)],
          ['manager.getCluster', (n: string) => h.manager.getCluster(n)],
        ] as const) {
          let thrown: unknown;
          try {
            get(name);
          } catch (e) {
            thrown = e;
          }
          check(thrown !== undefined, `${who}(${JSON.stringify(name)}) returned a cluster`);
          check(isClusterNotFound(thrown), `${who}(${JSON.stringify(name)}) threw ${String(thrown)}, not ClusterNotFoundError`);
        }
      }),
    },
    {
      title: 'indexField reaches the caches of current and future clusters',
      run: () => withHarness(fixture, async (h) => {
        const id = ids();
        const a = await fixture.addCluster(id, [h.object(`${id}-r1`, 'red'), h.object(`${id}-r2`, 'red'), h.object(`${id}-b1`, 'blue')]);
        await h.start();
        await h.engaged(a);
        await h.until(() => h.reconciled(a, `${id}-b1`), 'the first cluster synced');
        h.provider.indexField(h.type, CONFORMANCE_FIELD, (o) => {
          const v = o.metadata?.labels?.[CONFORMANCE_LABEL];
          return v === undefined ? [] : [v];
        });
        const names = (cluster: string, value: string): string[] =>
          h.provider
            .get(cluster)
            .cache.list(h.type, { namespace: 'default', fields: { [CONFORMANCE_FIELD]: value } })
            .map((o) => o.metadata?.name ?? '')
            .sort();
        await h.until(() => same(names(a, 'red'), [`${id}-r1`, `${id}-r2`]), 'the index of a current cluster', () => `red in ${a}: ${JSON.stringify(names(a, 'red'))}`);
        check(same(names(a, 'blue'), [`${id}-b1`]), `blue in ${a}: ${JSON.stringify(names(a, 'blue'))}`);
        const later = ids();
        const b = await fixture.addCluster(later, [h.object(`${later}-r1`, 'red')]);
        await h.engaged(b);
        await h.until(() => same(names(b, 'red'), [`${later}-r1`]), 'the index of a future cluster', () => `red in ${b}: ${JSON.stringify(names(b, 'red'))}`);
        check(same(names(a, 'red'), [`${id}-r1`, `${id}-r2`]), `the index of ${a} shows another cluster's objects: ${JSON.stringify(names(a, 'red'))}`);
        check(names(b, 'blue').length === 0, `blue in ${b}: ${JSON.stringify(names(b, 'blue'))}`);
      }),
    },
    {
      title: 'removal disengages: the signal fires, in-flight work is aborted, queued work is dropped, no handler sees the cluster again',
      run: () => withHarness(fixture, async (h) => {
        const id = ids();
        const held = [`${id}-q1`, `${id}-q2`, `${id}-q3`];
        const x = await fixture.addCluster(id, held.map((n) => h.object(n, 'q')));
        h.hold(x);
        await h.start();
        await h.engaged(x);
        await h.until(() => h.inflight.has(x), 'a reconcile of the cluster in flight');
        const first = h.inflight.get(x)!;
        await h.until(() => h.provider.get(x).cache.list(h.type, { namespace: 'default' }).length >= held.length, 'the other objects cached (and queued)');
        const startedBefore = h.requests.filter((r) => r.cluster === x).length;
        await fixture.removeCluster(x);
        await h.until(() => h.signals.get(x)?.aborted === true, 'the engagement signal aborted');
        await h.until(() => first.signal.aborted, 'the in-flight reconcile signal aborted');
        await h.until(() => !h.manager.clusters().some((c) => c.name === x), 'the manager forgot the cluster');
        let thrown: unknown;
        try {
          h.provider.get(x);
        } catch (e) {
          thrown = e;
        }
        check(isClusterNotFound(thrown), `get(${JSON.stringify(x)}) after removal: ${thrown === undefined ? 'a cluster' : String(thrown)}`);
        h.release(x);
        // A barrier: a new cluster's object reconciled means the queue ran past everything before it.
        const bid = ids();
        const y = await fixture.addCluster(bid, [h.object(`${bid}-y1`, 'y')]);
        await h.engaged(y);
        await h.until(() => h.reconciled(y, `${bid}-y1`), 'a later cluster reconciled');
        const startedAfter = h.requests.filter((r) => r.cluster === x).length;
        check(
          startedAfter === startedBefore,
          `${startedAfter - startedBefore} reconcile(s) of ${JSON.stringify(x)} started after its removal (queued work not dropped)`,
        );
        check(!h.provider.clusterNames().includes(x), `clusterNames() still lists ${JSON.stringify(x)}`);
      }),
    },
    {
      title: "a cluster's first reconcile sees every watched informer synced, and every object of a cluster that existed at start",
      run: () => withHarness(fixture, async (h) => {
        const early = ids();
        const late = ids();
        const objects = (id: string): KubernetesObject[] => Array.from({ length: 20 }, (_, i) => h.object(`${id}-s${i}`, 's'));
        const a = await fixture.addCluster(early, objects(early));
        await h.start();
        await h.engaged(a);
        const b = await fixture.addCluster(late, objects(late));
        await h.engaged(b);
        await h.until(() => h.firsts.has(a) && h.firsts.has(b), 'the first reconcile of each cluster');
        for (const name of [a, b]) {
          const first = h.firsts.get(name)!;
          check(first.unsynced.length === 0, `the first reconcile of ${JSON.stringify(name)} ran before these informers synced: ${first.unsynced.join(', ')}`);
        }
        // A later cluster's objects may still be arriving when it appears (an initializing
        // workspace is written through the VW only once it exists); the early one's are all there.
        const missing = objects(early).map((o) => o.metadata?.name ?? '').filter((n) => !h.firsts.get(a)!.cached.includes(n));
        check(missing.length === 0, `the first reconcile of ${JSON.stringify(a)} found ${missing.length} of its ${objects(early).length} objects missing from the cache: ${missing.slice(0, 5).join(', ')}`);
      }),
    },
    {
      title: 'a cluster that leaves and comes back under the same name ends engaged',
      skip: fixture.rejoinCluster ? undefined : (fixture.rejoinUnsupported ?? 'the fixture has no rejoinCluster'),
      run: () => withHarness(fixture, async (h) => {
        const id = ids();
        const x = await fixture.addCluster(id, [h.object(`${id}-o1`, 'o')]);
        await h.start();
        await h.engaged(x);
        await h.until(() => h.reconciled(x, `${id}-o1`), 'the object reconciled');
        // A quick leave and rejoin: the provider may see both, or neither; it must end engaged.
        await fixture.removeCluster(x);
        await fixture.rejoinCluster!(x);
        await h.engaged(x);
        await h.until(() => h.signals.get(x)?.aborted === false, 'a live engagement signal');
        // Once settled, still engaged: a late disengage of the old engagement must not remove the new one.
        const count = h.requests.length;
        const bid = ids();
        const y = await fixture.addCluster(bid, [h.object(`${bid}-y1`, 'y')]);
        await h.engaged(y);
        await h.until(() => h.reconciled(y, `${bid}-y1`) && h.requests.length > count, 'a later cluster reconciled');
        await h.engaged(x);
        check(h.provider.get(x).name === x, `get(${JSON.stringify(x)}) after rejoin`);
      }),
    },
  ];
}

/** Mocha's registration functions, looked up at call time so the library does not depend on mocha. */
interface MochaLike {
  describe(title: string, fn: (this: { timeout(ms: number): void }) => void): void;
  it: ((title: string, fn: () => Promise<void>) => void) & { skip(title: string, fn?: () => void): void };
  before(fn: () => Promise<void>): void;
  after(fn: () => Promise<void>): void;
}

/**
 * Registers the suite with mocha as `describe('provider conformance: <name>')`, with the fixture's
 * setup and teardown as `before`/`after`. Call it at the top level of a test file.
 */
export function providerConformance<P extends Provider>(name: string, fixture: ProviderFixture<P>): void {
  const g = globalThis as unknown as Partial<MochaLike>;
  if (!g.describe || !g.it || !g.before || !g.after) {
    throw new Error('providerConformance registers mocha tests: call it from a file mocha runs (or use providerConformanceChecks)');
  }
  const { describe, it, before, after } = g as MochaLike;
  describe(`provider conformance: ${name}`, function () {
    this.timeout(4 * (fixture.timeoutMs ?? 30_000) + 30_000);
    before(async () => fixture.setup?.());
    after(async () => fixture.teardown?.());
    for (const c of providerConformanceChecks(fixture)) {
      if (c.skip !== undefined) it.skip(`${c.title} (skipped: ${c.skip})`);
      else it(c.title, () => c.run());
    }
  });
}

/** A failed conformance check. */
export class ConformanceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConformanceError';
  }
}

function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new ConformanceError(message);
}

function same(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function idMaker(): () => string {
  const run = Math.random().toString(36).slice(2, 7);
  let n = 0;
  return () => `cf${run}${(n++).toString(36)}`;
}

interface Inflight {
  readonly signal: AbortSignal;
}

/** One check's manager, provider and observations. */
class Harness<P extends Provider> {
  readonly log: Logger;
  readonly lines: string[] = [];
  readonly provider: P;
  readonly manager: Manager;
  readonly type: ObjectType<KubernetesObject>;
  readonly requests: Request[] = [];
  /** The latest engagement signal per name, as the provider reported it. */
  readonly signals = new Map<string, AbortSignal>();
  readonly inflight = new Map<string, Inflight>();
  /** What each cluster's first reconcile saw: informers not yet synced, and the names in its cache of `type`. */
  readonly firsts = new Map<string, { unsynced: string[]; cached: string[] }>();
  private readonly watched: ObjectType<KubernetesObject>[];
  private readonly holds = new Map<string, { promise: Promise<void>; release: () => void }>();
  private readonly ctl = new AbortController();
  private running?: Promise<void>;
  private crashed: unknown;
  private readonly timeoutMs: number;

  constructor(private readonly fixture: ProviderFixture<P>) {
    this.timeoutMs = fixture.timeoutMs ?? 30_000;
    this.type = fixture.type ?? { apiVersion: 'v1', kind: 'ConfigMap' };
    this.log = new Logger({
      level: 'debug',
      write: (line) => {
        this.lines.push(line);
        if (this.lines.length > 200) this.lines.shift();
      },
    });
    const inner = fixture.provider(this.log);
    this.provider = observed(inner, this.signals);
    this.manager = new Manager({ provider: this.provider, log: this.log, gracefulShutdownMs: 2_000 });
    this.watched = fixture.ownedType ? [this.type, fixture.ownedType] : [this.type];
    const builder = this.manager.controller('conformance').for(this.type);
    if (fixture.ownedType) builder.owns(fixture.ownedType);
    builder
      .withOptions({ maxConcurrentReconciles: 1 })
      .reconcile(async (req, ctx) => {
        if (!this.firsts.has(req.cluster)) {
          // Read before anything else: what the cache held when the reconcile was handed out.
          const cached = ctx.cluster.cache.list(this.type, { namespace: 'default' }).map((o) => o.metadata?.name ?? '');
          const unsynced: string[] = [];
          for (const t of this.watched) if (!(await ctx.cluster.informer(t, ctx.signal)).synced) unsynced.push(`${t.apiVersion}/${t.kind}`);
          this.firsts.set(req.cluster, { unsynced, cached });
        }
        this.requests.push(req);
        const hold = this.holds.get(req.cluster);
        if (hold) {
          this.inflight.set(req.cluster, { signal: ctx.signal });
          await Promise.race([hold.promise, new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }))]);
          // Held until released, also after an abort: work queued meanwhile must be dropped, not run.
          await hold.promise;
        }
      });
  }

  object(name: string, value: string): KubernetesObject {
    const t = this.fixture.template ?? {};
    const meta = (t['metadata'] ?? {}) as Record<string, unknown>;
    return {
      ...t,
      apiVersion: this.type.apiVersion,
      kind: this.type.kind,
      metadata: { ...meta, name, namespace: 'default', labels: { ...((meta['labels'] ?? {}) as Record<string, string>), [CONFORMANCE_LABEL]: value } },
    } as KubernetesObject;
  }

  /** Reconciles of `cluster` block until `release(cluster)`. */
  hold(cluster: string): void {
    let release!: () => void;
    const promise = new Promise<void>((resolve) => (release = resolve));
    this.holds.set(cluster, { promise, release });
  }

  release(cluster: string): void {
    this.holds.get(cluster)?.release();
  }

  async start(): Promise<void> {
    this.running = this.manager.start({ signal: this.ctl.signal }).catch((e: unknown) => {
      this.crashed = e ?? new Error('manager.start rejected');
    });
    await Promise.resolve();
  }

  /** Starts the manager once `added` resolved (a cluster added before start); resolves with its name. */
  async started(added: Promise<string>): Promise<string> {
    const name = await added;
    await this.start();
    return name;
  }

  reconciled(cluster: string, name: string): boolean {
    return this.requests.some((r) => r.cluster === cluster && r.name === name);
  }

  async engaged(name: string): Promise<Cluster> {
    let c: Cluster | undefined;
    await this.until(
      () => {
        if (this.manager.clusters().find((r) => r.name === name)?.state !== 'engaged') return false;
        try {
          c = this.provider.get(name);
          return true;
        } catch {
          return false;
        }
      },
      `cluster ${JSON.stringify(name)} engaged`,
      () => `manager clusters: ${JSON.stringify(this.manager.clusters())}; provider clusterNames(): ${JSON.stringify(this.provider.clusterNames())}`,
    );
    return c!;
  }

  async until(cond: () => boolean, what: string, state?: () => string): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    let thrown: unknown;
    for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
      if (this.crashed !== undefined) throw new ConformanceError(`the manager stopped with an error while waiting for ${what}: ${String(this.crashed)}`);
      try {
        if (cond()) return;
        thrown = undefined;
      } catch (e) {
        // Not there yet (e.g. no such index): keep waiting, and say so if it never comes.
        thrown = e;
      }
      if (Date.now() > deadline) {
        const errors = this.lines.filter((l) => l.includes('"level":"error"')).slice(-5);
        let now = '';
        try {
          now = state ? `\n  state: ${state()}` : '';
        } catch (e) {
          now = `\n  state: ${String(e)}`;
        }
        throw new ConformanceError(
          `timed out after ${this.timeoutMs} ms waiting for ${what}` +
            (thrown !== undefined ? `\n  last error: ${String(thrown)}` : '') +
            now +
            (errors.length ? `\n  last errors logged:\n    ${errors.join('\n    ')}` : ''),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  async stop(): Promise<void> {
    for (const h of this.holds.values()) h.release();
    this.ctl.abort();
    await this.running;
  }

  get failure(): unknown {
    return this.crashed;
  }
}

/** The provider with its reports to the manager observed (engagement signals per name). */
function observed<P extends Provider>(inner: P, signals: Map<string, AbortSignal>): P {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'start') {
        return (aware: Aware, signal: AbortSignal) =>
          target.start(
            {
              engage(name: string, cluster: Cluster, engagement: AbortSignal) {
                signals.set(name, engagement);
                aware.engage(name, cluster, engagement);
              },
              // Offered whenever the manager offers it, so both ways of reporting are held to the contract.
              ...(aware.engageWith
                ? {
                    engageWith(name: string, cluster: Cluster, engagement: Engagement) {
                      signals.set(name, engagement.signal);
                      aware.engageWith!(name, cluster, engagement);
                    },
                  }
                : {}),
            },
            signal,
          );
      }
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

async function withHarness<P extends Provider>(fixture: ProviderFixture<P>, body: (h: Harness<P>) => Promise<void>): Promise<void> {
  const h = new Harness(fixture);
  try {
    await body(h);
  } finally {
    await h.stop();
  }
  if (h.failure !== undefined) throw new ConformanceError(`manager.start rejected: ${String(h.failure)}`);
}
