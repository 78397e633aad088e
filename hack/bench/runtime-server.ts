/**
 * The reference server for the runtime sections, in a child process of its own (started with
 * `fork`), so that the runtime's heap and CPU figures are the runtime's alone and the server gets
 * its own event loop, as a real kcp would. The section drives it over IPC: setup (an APIExport with a
 * ConfigMap claim, a WorkspaceType whose default APIBinding binds it, N workspaces of that type),
 * counting open watches, and a paced writer that updates ConfigMaps over HTTP and reports when each
 * write was sent and acknowledged.
 *
 * Timestamps crossing the process boundary are `performance.timeOrigin + performance.now()` (ms);
 * the section measures the offset between the two clocks with IPC pings.
 */
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { HttpClient, WatchCounter, transport } from './client.js';
import { nowMs, waitFor } from './stats.js';
import { EXPORT, LOAD_CM, PROVIDER_PATH, TYPE, type Started } from './runtime-light.js';

export { EXPORT, LOAD_CM, PROVIDER_PATH, TYPE, type Started } from './runtime-light.js';

const WS = '/apis/tenancy.kcp.io/v1alpha1/workspaces';

/** A ConfigMap the writer updates. */
export interface Target {
  cluster: string;
  name: string;
}

/** One paced stream of writes: `rate` writes/s over `targets`, round-robin. */
export interface Stream {
  targets: Target[];
  rate: number;
}

/** One acknowledged write: target index in the stream, sequence written, send and ack times (absolute ms). */
export type Ack = [stream: number, target: number, seq: number, sentAt: number, ackedAt: number];

/** What the writer did. */
export interface LoadResult {
  sent: number;
  acked: number;
  failed: number;
  firstError?: string;
  /** Writes skipped because `maxInFlight` were outstanding (the server could not keep up). */
  skipped: number;
  seconds: number;
  acks: Ack[];
}

/** Requests the section sends. */
export type Request =
  | { op: 'start'; tls: boolean }
  | { op: 'workspaces'; count: number; concurrency: number; prefix: string; loadConfigMap: boolean; maxMs: number }
  | { op: 'createConfigMaps'; cluster: string; names: string[] }
  | { op: 'watches' }
  | { op: 'now' }
  | { op: 'load'; streams: Stream[]; seconds: number; maxInFlight: number }
  | { op: 'fill'; clusters: string[]; perCluster: number; concurrency: number; maxMs: number }
  | { op: 'touch'; clusters: string[]; perCluster: number; token: string; concurrency: number; maxMs: number }
  | { op: 'cpu' }
  | { op: 'profile'; start: boolean }
  | { op: 'stop' };

/** What `touch` answers: every write was sent between `startedAt` and `endedAt` (Date.now() ms). */
export interface Touched {
  ok: number;
  failed: number;
  firstError?: string;
  startedAt: number;
  endedAt: number;
}

/** The name of the `i`-th ConfigMap `fill` creates in each cluster. */
export function fillName(i: number): string {
  return `fill-${i}`;
}

/** What `workspaces` answers. */
export interface Created {
  clusters: string[];
  /** The endpoint slice's URL (the APIExport VW of the one shard; listed once a binding exists). */
  vw: string;
  seconds: number;
  perSecond: number;
}

function absNow(): number {
  return performance.timeOrigin + performance.now();
}

/** A ConfigMap body for the writer: `seq` and the send time in `data`. */
function cmBody(name: string, seq: number, t: number): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { seq: String(seq), t: String(t), pad: 'x'.repeat(64) } });
}

class ServerChild {
  private srv: RunningServer | undefined;
  private c: HttpClient | undefined;
  private session: Session | undefined;

  async handle(r: Request): Promise<unknown> {
    switch (r.op) {
      case 'start':
        return this.start(r.tls);
      case 'workspaces':
        return this.workspaces(r.count, r.concurrency, r.prefix, r.loadConfigMap, r.maxMs);
      case 'createConfigMaps':
        return this.createConfigMaps(r.cluster, r.names);
      case 'watches':
        return this.srv!.openWatches();
      case 'now':
        return absNow();
      case 'load':
        return this.load(r.streams, r.seconds, r.maxInFlight);
      case 'fill':
        return this.eachConfigMap(r.clusters, r.perCluster, r.concurrency, r.maxMs, 'POST', 201, () => ({}));
      case 'touch':
        return this.eachConfigMap(r.clusters, r.perCluster, r.concurrency, r.maxMs, 'PUT', 200, () => ({ touch: r.token }));
      case 'cpu': {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1e6;
      }
      case 'profile':
        return this.profile(r.start);
      case 'stop':
        this.c?.close();
        await this.srv?.stop();
        return null;
    }
  }

  /** Starts the CPU profiler, or stops it and answers the profile (JSON of a `.cpuprofile`). */
  private async profile(start: boolean): Promise<string | null> {
    if (start) {
      const session = (this.session = new Session());
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 100 });
      await session.post('Profiler.start');
      return null;
    }
    const session = this.session;
    if (!session) throw new Error('the profiler was not started');
    this.session = undefined;
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    return JSON.stringify(profile);
  }

  private async start(tls: boolean): Promise<Started> {
    const srv = (this.srv = await startServer({ port: 0, bind: '127.0.0.1', tls, historyWindow: 50_000 }));
    const c = (this.c = new HttpClient(srv, 256, 30_000));
    const provider = srv.createLogicalCluster(undefined, { path: PROVIDER_PATH });
    await c.expect(201, 'POST', `/clusters/${provider}/apis/apis.kcp.io/v1alpha2/apiexports`, JSON.stringify({
      apiVersion: 'apis.kcp.io/v1alpha2',
      kind: 'APIExport',
      metadata: { name: EXPORT },
      spec: { permissionClaims: [{ group: '', resource: 'configmaps', verbs: ['*'] }] },
    }));
    await c.expect(201, 'POST', '/clusters/root/apis/tenancy.kcp.io/v1alpha1/workspacetypes', JSON.stringify({
      apiVersion: 'tenancy.kcp.io/v1alpha1',
      kind: 'WorkspaceType',
      metadata: { name: TYPE },
      spec: { extend: { with: [{ name: 'universal', path: 'root' }] }, defaultAPIBindings: [{ path: PROVIDER_PATH, export: EXPORT }] },
    }));
    return { url: srv.url, token: srv.token, ca: srv.ca, port: srv.port };
  }

  /** Creates `count` workspaces of the bound type in root, many in flight; resolves when each is Ready (and has its load ConfigMap). */
  private async workspaces(count: number, concurrency: number, prefix: string, loadConfigMap: boolean, maxMs: number): Promise<Created> {
    const srv = this.srv!;
    const c = this.c!;
    const names = new Set<string>();
    const clusters: string[] = [];
    const wt = transport(srv, 1);
    const watcher = new WatchCounter(srv, `/clusters/root${WS}?watch=true&resourceVersion=${srv.resourceVersion()}`, wt, count, (ev) => {
      const o = ev.object as { metadata?: { name?: string }; spec?: { cluster?: string }; status?: { phase?: string } };
      const name = o.metadata?.name ?? '';
      if (ev.type === 'DELETED' || o.status?.phase !== 'Ready' || !names.delete(name)) return false;
      clusters.push(o.spec?.cluster ?? '');
      return true;
    });
    const t0 = nowMs();
    try {
      await watcher.opened;
      let next = 0;
      let failure: Error | undefined;
      const worker = async () => {
        while (next < count && !failure && nowMs() - t0 < maxMs) {
          const name = `${prefix}-${next++}`;
          names.add(name);
          const body = JSON.stringify({ apiVersion: 'tenancy.kcp.io/v1alpha1', kind: 'Workspace', metadata: { name }, spec: { type: { name: TYPE, path: 'root' } } });
          // Over tens of thousands of creates a request is now and then reset or left unanswered
          // (a kept-alive socket closed, a long collection in the server): sent again, and a 409
          // then means an earlier attempt got through.
          for (let attempt = 0; ; attempt++) {
            let r: { status: number; text: string };
            try {
              r = await c.request('POST', `/clusters/root${WS}`, body);
            } catch (e) {
              if (attempt < 3) continue;
              failure = e as Error;
              break;
            }
            if (r.status !== 201 && !(attempt > 0 && r.status === 409)) failure = new Error(`POST workspace ${name}: ${r.status}: ${r.text.slice(0, 200)}`);
            break;
          }
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      if (failure) throw failure;
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((_, reject) => (timer = setTimeout(() => reject(new Error(`${watcher.count}/${count} workspaces Ready within ${maxMs} ms`)), Math.max(1, maxMs - (nowMs() - t0)))));
      try {
        await Promise.race([watcher.done, bound]);
      } finally {
        clearTimeout(timer);
      }
    } finally {
      watcher.close();
      wt.agent.destroy();
    }
    if (loadConfigMap) {
      let next = 0;
      const worker = async () => {
        while (next < clusters.length) {
          const cluster = clusters[next++]!;
          await c.expect(201, 'POST', `/clusters/${cluster}/api/v1/namespaces/default/configmaps`, cmBody(LOAD_CM, 0, 0));
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
    }
    const seconds = (nowMs() - t0) / 1000;
    return { clusters, vw: await this.vw(), seconds, perSecond: count / seconds };
  }

  private async vw(): Promise<string> {
    const c = this.c!;
    const deadline = nowMs() + 10_000;
    for (;;) {
      const s = await c.request('GET', `/clusters/${PROVIDER_PATH}/apis/apis.kcp.io/v1alpha1/apiexportendpointslices/${EXPORT}`);
      const url = s.status === 200 ? (JSON.parse(s.text) as { status?: { endpoints?: { url?: string }[] } }).status?.endpoints?.[0]?.url : undefined;
      if (url) return url;
      if (nowMs() > deadline) throw new Error('the endpoint slice lists no URL within 10 s');
      await waitFor(() => false, 20);
    }
  }

  private async createConfigMaps(cluster: string, names: string[]): Promise<number> {
    const c = this.c!;
    let next = 0;
    const worker = async () => {
      while (next < names.length) await c.expect(201, 'POST', `/clusters/${cluster}/api/v1/namespaces/default/configmaps`, cmBody(names[next++]!, 0, 0));
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    return names.length;
  }

  /**
   * One write of each of `perCluster` ConfigMaps (`fillName(i)`) in every cluster, `concurrency` in
   * flight: a create (POST) or an unconditional replace (PUT) with `data` added. Bounded by `maxMs`.
   */
  private async eachConfigMap(clusters: string[], perCluster: number, concurrency: number, maxMs: number, method: 'POST' | 'PUT', status: number, data: () => Record<string, string>): Promise<Touched> {
    const c = this.c!;
    const total = clusters.length * perCluster;
    const res: Touched = { ok: 0, failed: 0, startedAt: Date.now(), endedAt: 0 };
    const deadline = nowMs() + maxMs;
    let next = 0;
    const worker = async () => {
      while (next < total && nowMs() < deadline) {
        const i = next++;
        const cluster = clusters[i % clusters.length]!;
        const name = fillName(Math.floor(i / clusters.length));
        const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { pad: 'x'.repeat(64), ...data() } });
        const path = `/clusters/${cluster}/api/v1/namespaces/default/configmaps${method === 'PUT' ? `/${name}` : ''}`;
        try {
          await c.expect(status, method, path, body);
          res.ok++;
        } catch (e) {
          res.failed++;
          res.firstError ??= (e as Error).message;
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    res.endedAt = Date.now();
    if (res.ok + res.failed < total) res.firstError ??= `${res.ok + res.failed}/${total} writes sent within ${maxMs} ms`;
    return res;
  }

  /**
   * Paced writes: every millisecond tick, each stream sends the writes that are due by its rate
   * (PUT of the whole ConfigMap, unconditional), at most `maxInFlight` outstanding in all; a due
   * write that finds the limit reached is skipped and counted. Bounded by `seconds`.
   */
  private async load(streams: Stream[], seconds: number, maxInFlight: number): Promise<LoadResult> {
    const c = this.c!;
    const acks: Ack[] = [];
    const sent = streams.map(() => 0);
    const res: LoadResult = { sent: 0, acked: 0, failed: 0, skipped: 0, seconds: 0, acks };
    let inFlight = 0;
    const outstanding = new Set<Promise<void>>();
    const t0 = nowMs();
    const end = t0 + seconds * 1000;
    let seq = 0;
    for (let now = nowMs(); now < end; now = nowMs()) {
      const elapsed = (now - t0) / 1000;
      for (let s = 0; s < streams.length; s++) {
        const st = streams[s]!;
        const due = Math.floor(elapsed * st.rate) - sent[s]!;
        for (let k = 0; k < due; k++) {
          const target = sent[s]! % st.targets.length;
          sent[s]!++;
          if (inFlight >= maxInFlight) {
            res.skipped++;
            continue;
          }
          const { cluster, name } = st.targets[target]!;
          const n = ++seq;
          const at = absNow();
          inFlight++;
          res.sent++;
          const p = c
            .expect(200, 'PUT', `/clusters/${cluster}/api/v1/namespaces/default/configmaps/${name}`, cmBody(name, n, at))
            .then(
              () => {
                res.acked++;
                acks.push([s, target, n, at, absNow()]);
              },
              (e: unknown) => {
                res.failed++;
                res.firstError ??= (e as Error).message;
              },
            )
            .finally(() => {
              inFlight--;
              outstanding.delete(p);
            });
          outstanding.add(p);
        }
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all([...outstanding]);
    res.seconds = (nowMs() - t0) / 1000;
    return res;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.send) {
  const child = new ServerChild();
  process.on('message', (m: { id: number; req: Request }) => {
    child.handle(m.req).then(
      (result) => process.send!({ id: m.id, ok: true, result }),
      (e: unknown) => process.send!({ id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) }),
    );
  });
  process.on('disconnect', () => void child.handle({ op: 'stop' }).finally(() => process.exit(0)));
}
