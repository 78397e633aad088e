/**
 * Section "informer": our informer engine against client-node 1.4.0's stock `makeInformer`, on the
 * same single-cluster stream (`/clusters/root`, since the stock cache keys by namespace/name only).
 *
 * - initial sync: both list N ConfigMaps from a reference server running in a child process (so
 *   that the server's memory and CPU stay out of this process's heap figures);
 * - memory per cached object: growth of the JS heap plus ArrayBuffer memory after a forced GC,
 *   divided by the objects cached;
 * - watch events applied per second: the server's real watch stream for those writes is captured
 *   once, then replayed from memory over loopback HTTP to each client, so that the figure is the
 *   client's cost and not the server's; a bare `JSON.parse` of the same lines is the raw bound.
 *
 * Our informer keeps each object as its JSON text until someone reads it. So it is measured two
 * ways: consuming deltas by key (cluster, namespace, name: what a controller needs to enqueue a
 * request; no object is decoded) and with a handler that reads every object (each one decoded).
 * The stock informer always decodes. Memory is measured on the cache as the initial sync leaves it,
 * and again after every object has been read.
 *
 * Ratios are taken per run (runs interleave ours / stock / bare) and their median reported.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { CoreV1Api, KubeConfig, makeInformer, type KubernetesObject } from '@kubernetes/client-node';
import { Transport } from '../../src/client/index.js';
import { LineSplitter, SharedInformer, type Log } from '../../src/informer/index.js';
import { median, nowMs, round, runBounded } from './stats.js';
import type { BenchContext, BenchRow, BenchSection } from './types.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');
const PATH = '/api/v1/configmaps';
const quietLog: Log = (e) => {
  if (e.level === 'error') process.stderr.write(`  informer: ${e.msg}\n`);
};

interface Sizes {
  objects: number;
  updates: number;
  /** Bound on any single wait (sync, replay), ms. */
  maxWaitMs: number;
}

function sizes(ctx: BenchContext): Sizes {
  return ctx.quick ? { objects: 10_000, updates: 2_000, maxWaitMs: 30_000 } : { objects: 100_000, updates: 20_000, maxWaitMs: 120_000 };
}

// A memory figure is only meaningful after a full collection; expose gc without a command-line flag.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
/**
 * Memory after a full collection: the JS heap plus ArrayBuffer memory outside it (our cache keeps
 * object texts in the buffers they arrived in, which the heap figure alone would not show).
 */
function memoryAfterGC(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function kubeConfig(server: string, token: string, ca?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, caData: ca ? Buffer.from(ca).toString('base64') : undefined, skipTLSVerify: !ca }],
    users: [{ name: 'u', token }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

/** Rejects after `ms`; for bounding waits on promises that may never settle. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

/** The reference server as a child process, populated with the benchmark's objects. */
interface Fixture {
  proc: ChildProcess;
  dir: string;
  base: string;
  token: string;
  ca: string;
  /** resourceVersion before the benchmark's writes: the watch replay starts after it. */
  rv0: string;
  /** The captured watch stream of the writes (ADDED then MODIFIED), newline-delimited JSON. */
  stream: Buffer;
  events: number;
}

async function startFixture(ctx: BenchContext, s: Sizes): Promise<Fixture> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-bench-informer-'));
  const proc = spawn(process.execPath, [CLI, 'server', '--port', '0', '--root-dir', dir, '--history-window', String((s.objects + s.updates) * 2)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = nowMs() + 20_000;
  let m: RegExpExecArray | null = null;
  while (!(m = /ready at (https:\/\/[\d.]+:\d+)\/clusters\/root .*kubeconfig: (.+)$/m.exec(out))) {
    if (nowMs() > deadline || proc.exitCode !== null) throw new Error(`reference server did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const base = m[1]!;
  const kcText = fs.readFileSync(m[2]!.trim(), 'utf8');
  const token = /token: (\S+)/.exec(kcText)![1]!;
  const ca = Buffer.from(/certificate-authority-data: (\S+)/.exec(kcText)![1]!, 'base64').toString('utf8');
  const t = Transport.fromKubeConfig(kubeConfig(`${base}/clusters/root`, token, ca));
  try {
    const rv0 = (await t.requestJSON<{ metadata: { resourceVersion: string } }>({ url: PATH, query: { limit: 1 } })).metadata.resourceVersion;
    ctx.log(`  populating: ${s.objects} ConfigMaps, then ${s.updates} updates`);
    const body = (i: number, v: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, labels: { app: 'bench', shard: String(i % 16) } }, data: { value: v, other: 'x'.repeat(64) } });
    for (const [n, op] of [
      [s.objects, (i: number) => t.requestJSON({ method: 'POST', url: '/api/v1/namespaces/default/configmaps', body: body(i, `v-${i}`) })],
      [s.updates, (i: number) => t.requestJSON({ method: 'PUT', url: `/api/v1/namespaces/default/configmaps/cm-${i}`, body: body(i, `u-${i}`) })],
    ] as const) {
      const r = await runBounded({ concurrency: 16, maxOps: n, maxMs: 300_000, op: async (i) => void (await op(i)) });
      if (r.failed || r.ok !== n) throw new Error(`populating failed: ${r.ok}/${n} ok, first error: ${r.firstError?.message ?? 'time bound'}`);
    }
    const events = s.objects + s.updates;
    const stream = await capture(t, rv0, events, s.maxWaitMs);
    return { proc, dir, base, token, ca, rv0, stream, events };
  } finally {
    t.close();
  }
}

/**
 * Reads the server's watch stream from `rv` until `events` events have arrived. The server closes a
 * watcher that falls 16 MiB behind (a history replay does), so this resumes from the last event
 * seen, as an informer would; the lines are kept exactly as the server sent them.
 */
async function capture(t: Transport, rv: string, events: number, maxMs: number): Promise<Buffer> {
  const lines: string[] = [];
  let from = rv;
  const deadline = nowMs() + maxMs;
  while (lines.length < events) {
    if (nowMs() > deadline) throw new Error(`capturing the watch stream: ${lines.length}/${events} events within ${maxMs} ms`);
    const ctrl = new AbortController();
    const res = await t.request({ url: PATH, query: { watch: 'true', resourceVersion: from }, signal: ctrl.signal });
    if (res.status !== 200) throw new Error(`capture watch: HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
    const done = new Promise<void>((resolve, reject) => {
      const split = new LineSplitter((line) => {
        if (lines.length >= events) return;
        const ev = JSON.parse(line) as { type: string; object: { metadata?: { resourceVersion?: string } } };
        if (ev.type === 'ERROR') return reject(new Error(`capture watch: ${line.slice(0, 200)}`));
        lines.push(line);
        from = ev.object.metadata?.resourceVersion ?? from;
        if (lines.length === events) resolve();
      });
      res.body.on('data', (c: Buffer) => split.push(c));
      res.body.on('error', reject);
      res.body.on('end', () => resolve());
    });
    try {
      await within(done, Math.max(1, deadline - nowMs()), 'capturing the watch stream');
    } finally {
      ctrl.abort();
    }
  }
  return Buffer.from(lines.join('\n') + '\n', 'utf8');
}

/** Serves an empty list at `rv` and, to each watch from `rv`, the captured stream (then silence). */
class Replay {
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  /** When the last replay started (the watch request arrived). */
  startedAt = 0;
  url = '';

  constructor(f: Fixture) {
    const list = JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: f.rv0 }, items: [] });
    this.server = http.createServer((req, res) => {
      const q = new URL(req.url ?? '/', 'http://x').searchParams;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (q.get('watch') !== 'true' && q.get('watch') !== '1') return void res.end(list);
      if (q.get('resourceVersion') !== f.rv0) return; // a re-watch: stay silent
      this.startedAt = nowMs();
      const CHUNK = 64 * 1024;
      let off = 0;
      const pump = (): void => {
        while (off < f.stream.length) {
          const ok = res.write(f.stream.subarray(off, off + CHUNK));
          off += CHUNK;
          if (!ok) return void res.once('drain', pump);
        }
      };
      pump();
    });
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/clusters/root`;
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}

/** Resolves when `count()` reaches `n` (checked by the caller's callbacks via `tick`), or rejects at the bound. */
function counter(n: number, maxMs: number, what: string): { tick: () => void; done: Promise<number>; seen: () => number } {
  let seen = 0;
  let finish!: (t: number) => void;
  const done = within(new Promise<number>((r) => (finish = r)), maxMs, what);
  return {
    tick: () => {
      if (++seen === n) finish(nowMs());
    },
    done,
    seen: () => seen,
  };
}

interface SyncRun {
  ms: number;
  objects: number;
  bytesPerObject: number;
  /** Heap per object once every object has been read (decoded); ours only. */
  decodedBytesPerObject?: number;
}

/** Initial sync consumed by key (a controller's enqueue), then every object read once. */
async function syncOurs(f: Fixture, s: Sizes, pageSize: number): Promise<SyncRun> {
  const before = memoryAfterGC();
  const t = Transport.fromKubeConfig(kubeConfig(`${f.base}/clusters/root`, f.token, f.ca));
  const inf = new SharedInformer(t, { path: PATH, freeze: false, log: quietLog, pageSize });
  let handled = 0;
  const t0 = nowMs();
  const sub = inf.events$.subscribe((d) => {
    if (d.type === 'ADDED' && d.name !== '') handled++;
  });
  try {
    await inf.whenSynced(AbortSignal.timeout(s.maxWaitMs));
    const ms = nowMs() - t0;
    const objects = inf.store.size;
    const bytes = memoryAfterGC() - before;
    if (handled !== objects) throw new Error(`subscriber saw ${handled} of ${objects}`);
    let read = 0;
    for (const o of inf.store.list()) if (o.metadata?.name) read++;
    if (read !== objects) throw new Error(`read ${read} of ${objects}`);
    const decoded = memoryAfterGC() - before;
    return { ms, objects, bytesPerObject: bytes / objects, decodedBytesPerObject: decoded / objects };
  } finally {
    sub.unsubscribe();
    t.close();
  }
}

async function syncStock(f: Fixture, s: Sizes): Promise<SyncRun> {
  const before = memoryAfterGC();
  const kc = kubeConfig(`${f.base}/clusters/root`, f.token, f.ca);
  const core = kc.makeApiClient(CoreV1Api);
  const inf = makeInformer(kc, PATH, () => core.listConfigMapForAllNamespaces());
  let handled = 0;
  inf.on('add', () => handled++);
  const t0 = nowMs();
  try {
    await within(inf.start(), s.maxWaitMs, 'stock informer start');
    const ms = nowMs() - t0;
    const objects = inf.list().length;
    const bytes = memoryAfterGC() - before;
    if (handled !== objects) throw new Error(`handler saw ${handled} of ${objects}`);
    return { ms, objects, bytesPerObject: bytes / objects };
  } finally {
    await inf.stop();
  }
}

/** How our informer's events are consumed in a replay. */
type Consume = 'keys' | 'objects' | 'frozen';

/**
 * Events per second our informer applies from the replayed stream: `keys` reads each delta's
 * cluster/namespace/name (no decoding); `objects` has a handler receive every object (decoded);
 * `frozen` as `objects` with deep-freezing on (the dev/test default).
 */
async function replayOurs(f: Fixture, r: Replay, s: Sizes, consume: Consume): Promise<number> {
  const t = Transport.fromKubeConfig(kubeConfig(r.url, 't'));
  const inf = new SharedInformer(t, { path: PATH, freeze: consume === 'frozen', log: quietLog });
  const c = counter(f.events, s.maxWaitMs, 'our informer replay');
  const sub =
    consume === 'keys'
      ? inf.events$.subscribe((d) => {
          if (d.cluster !== '' && d.name !== '') c.tick();
        })
      : inf.addEventHandler({ onAdd: c.tick, onUpdate: c.tick });
  try {
    const end = await c.done;
    return f.events / ((end - r.startedAt) / 1000);
  } finally {
    sub.unsubscribe();
    t.close();
  }
}

async function replayStock(f: Fixture, r: Replay, s: Sizes): Promise<number> {
  const kc = kubeConfig(r.url, 't');
  const inf = makeInformer<KubernetesObject>(kc, PATH, async () => ({ apiVersion: 'v1', kind: 'ConfigMapList', metadata: { resourceVersion: f.rv0 }, items: [] }));
  const c = counter(f.events, s.maxWaitMs, 'stock informer replay');
  inf.on('add', c.tick);
  inf.on('update', c.tick);
  try {
    await within(inf.start(), s.maxWaitMs, 'stock informer start');
    const end = await c.done;
    return f.events / ((end - r.startedAt) / 1000);
  } finally {
    await inf.stop();
  }
}

/** The raw bound: the same bytes over the same loopback HTTP, split into lines, one JSON.parse each. */
async function replayBare(f: Fixture, r: Replay, s: Sizes): Promise<number> {
  const c = counter(f.events, s.maxWaitMs, 'bare JSON.parse replay');
  const req = http.get(`${r.url}${PATH}?watch=true&resourceVersion=${f.rv0}`, (res) => {
    res.setEncoding('utf8');
    let buf = '';
    res.on('data', (chunk: string) => {
      buf += chunk;
      let start = 0;
      let nl: number;
      while ((nl = buf.indexOf('\n', start)) >= 0) {
        JSON.parse(buf.slice(start, nl));
        c.tick();
        start = nl + 1;
      }
      buf = buf.slice(start);
    });
  });
  req.on('error', () => undefined);
  try {
    const end = await c.done;
    return f.events / ((end - r.startedAt) / 1000);
  } finally {
    req.destroy();
  }
}

/**
 * JSON.parse of the captured lines from memory, no I/O: a ceiling for any client. With `keep`, each
 * event's object is kept in a Map by namespace/name until the end, as any cache of decoded objects
 * must: the objects then survive young-generation collections and are copied into the old
 * generation, which a parse that drops its result never pays. CPU µs per event (from a collected
 * heap) and events/s.
 */
function parseInMemory(f: Fixture, keep: boolean): { cpu: number; rate: number } {
  const text = f.stream.toString('utf8');
  const kept = new Map<string, unknown>();
  memoryAfterGC();
  const c0 = process.cpuUsage();
  const t0 = nowMs();
  let n = 0;
  for (let start = 0, nl = text.indexOf('\n'); nl >= 0; start = nl + 1, nl = text.indexOf('\n', start)) {
    const ev = JSON.parse(text.slice(start, nl)) as { object: { metadata: { namespace?: string; name: string } } };
    if (keep) kept.set(`${ev.object.metadata.namespace ?? ''}/${ev.object.metadata.name}`, ev.object);
    n++;
  }
  const rate = n / ((nowMs() - t0) / 1000);
  const c = process.cpuUsage(c0);
  kept.clear();
  return { cpu: (c.user + c.system) / n, rate };
}

function row(name: string, unit: string, runs: number[], extra: Partial<BenchRow> = {}): BenchRow {
  return { section: 'informer', name, unit, median: round(median(runs)), runs: runs.map(round), ...extra };
}

async function measure(ctx: BenchContext): Promise<BenchRow[]> {
  const s = sizes(ctx);
  const f = await startFixture(ctx, s);
  const replay = new Replay(f);
  await replay.listen();
  try {
    ctx.log(`  captured ${f.events} watch events, ${Math.round(f.stream.length / 1024 / 1024)} MiB; warm-up`);
    await syncOurs(f, s, 0);
    await syncStock(f, s);
    await replayOurs(f, replay, s, 'keys');
    await replayOurs(f, replay, s, 'objects');
    await replayStock(f, replay, s);
    await replayBare(f, replay, s);
    const sync = { ours: [] as SyncRun[], stock: [] as SyncRun[] };
    const rate = { ours: [] as number[], objects: [] as number[], stock: [] as number[], bare: [] as number[], frozen: [] as number[], memory: [] as number[], memoryCpu: [] as number[], keptCpu: [] as number[] };
    const cpu = { ours: [] as number[], objects: [] as number[], frozen: [] as number[], stock: [] as number[], bare: [] as number[] };
    // Once, not in the ratio: the reference server filters its whole bucket for every page, so
    // a paged list of N objects costs it O(N²/page); the figure is the server's, not the client's.
    ctx.log('  one paged initial sync (500 per page, the default)');
    const paged = await syncOurs(f, s, 500);
    ctx.log(`  paged initial sync: ${Math.round(paged.ms)} ms`);
    for (let i = 0; i < ctx.runs; i++) {
      sync.ours.push(await syncOurs(f, s, 0));
      sync.stock.push(await syncStock(f, s));
      // CPU time per event as well: on a loaded machine it is steadier than wall-clock rates.
      // It includes the in-process replay server's share, the same for every client.
      // Each replay starts from a collected heap, so that none pays for the garbage of the one before.
      const timed = async (into: number[], cpuInto: number[], fn: () => Promise<number>): Promise<void> => {
        memoryAfterGC();
        const c0 = process.cpuUsage();
        into.push(await fn());
        const c = process.cpuUsage(c0);
        cpuInto.push((c.user + c.system) / f.events);
      };
      await timed(rate.ours, cpu.ours, () => replayOurs(f, replay, s, 'keys'));
      await timed(rate.objects, cpu.objects, () => replayOurs(f, replay, s, 'objects'));
      await timed(rate.stock, cpu.stock, () => replayStock(f, replay, s));
      await timed(rate.bare, cpu.bare, () => replayBare(f, replay, s));
      await timed(rate.frozen, cpu.frozen, () => replayOurs(f, replay, s, 'frozen'));
      const parsed = parseInMemory(f, false);
      rate.memory.push(parsed.rate);
      rate.memoryCpu.push(parsed.cpu);
      rate.keptCpu.push(parseInMemory(f, true).cpu);
      const [so, ss] = [sync.ours[i]!, sync.stock[i]!];
      ctx.log(
        `  run ${i + 1}/${ctx.runs}: sync ${Math.round(so.ms)} vs ${Math.round(ss.ms)} ms; ${Math.round(so.bytesPerObject)} vs ${Math.round(ss.bytesPerObject)} B/object; ` +
          `events/s ${Math.round(rate.ours[i]!)} by key, ${Math.round(rate.objects[i]!)} decoded, vs ${Math.round(rate.stock[i]!)} (bare ${Math.round(rate.bare[i]!)}); ` +
          `CPU µs/event ${round(cpu.ours[i]!)} by key / ${round(cpu.objects[i]!)} decoded / ${round(cpu.frozen[i]!)} frozen vs ${round(cpu.stock[i]!)} (bare ${round(cpu.bare[i]!)})`,
      );
    }
    const objects = sync.ours[0]!.objects;
    const per = (a: number[], b: number[]) => a.map((x, i) => (100 * x) / b[i]!);
    const detail = { objects, events: f.events, streamBytes: f.stream.length, pageSize: 0, freeze: false, bounds: s, pagedDefault500Ms: round(paged.ms) };
    return [
      row(`initial sync of ${objects} objects, ours (one list, as stock)`, 'ms', sync.ours.map((r) => r.ms), { detail }),
      row(`initial sync of ${objects} objects, stock makeInformer (one list)`, 'ms', sync.stock.map((r) => r.ms)),
      row('initial sync speed, stock time / ours', '%', per(sync.stock.map((r) => r.ms), sync.ours.map((r) => r.ms))),
      row('watch events applied, ours, consumed by key (no decoding)', 'events/s', rate.ours, { detail: { events: f.events, cpuMicrosPerEvent: cpu.ours.map(round) } }),
      row('watch events applied, ours, a handler reads every object', 'events/s', rate.objects, { detail: { cpuMicrosPerEvent: cpu.objects.map(round) } }),
      row('watch events applied, ours, every object read, deep-frozen (dev/test default)', 'events/s', rate.frozen, { detail: { cpuMicrosPerEvent: cpu.frozen.map(round) } }),
      row('watch events applied, stock makeInformer', 'events/s', rate.stock, { detail: { cpuMicrosPerEvent: cpu.stock.map(round) } }),
      row('watch lines, bare JSON.parse over the same HTTP (raw bound)', 'events/s', rate.bare, { detail: { inMemoryParsePerSecond: rate.memory.map(round), cpuMicrosPerEvent: cpu.bare.map(round) } }),
      row('event rate, ours by key / stock', '%', per(rate.ours, rate.stock), { target: { min: 200, why: 'issue 5: ≥ 2× the stock informer' } }),
      row('event rate, ours reading every object / stock', '%', per(rate.objects, rate.stock)),
      row('CPU per watch event, stock / ours by key', '%', per(cpu.stock, cpu.ours)),
      // The same comparisons by CPU time: on a loaded machine wall-clock rates move with the load.
      row('CPU per watch event, stock / ours reading every object', '%', per(cpu.stock, cpu.objects), { target: { min: 150, why: '≥ 1.5× the stock informer' } }),
      row('CPU per watch event, stock / ours reading every object, deep-frozen', '%', per(cpu.stock, cpu.frozen), { target: { min: 120, why: '≥ 1.2× the stock informer' } }),
      row('CPU per watch event, raw bound / ours reading every object', '%', per(cpu.bare, cpu.objects), { target: { min: 85, why: '≥ 0.85 of a bare JSON.parse' } }),
      // What any cache that holds decoded objects pays beyond the raw bound: the retained objects'
      // collections. No I/O, no store, no events: a floor below every informer that decodes.
      row('in memory: JSON.parse of every line, CPU per event', 'µs', rate.memoryCpu),
      row('in memory: JSON.parse of every line and keep each object (a cache of decoded objects), CPU per event', 'µs', rate.keptCpu),
      row('in memory: parse only / parse and keep (the best any decoding cache can do against the raw bound)', '%', per(rate.memoryCpu, rate.keptCpu)),
      row('CPU per watch event, raw bound / (raw bound + what keeping the objects adds in memory): the most a decoding cache can reach of the raw bound', '%', cpu.bare.map((b, i) => (100 * b) / (b + rate.keptCpu[i]! - rate.memoryCpu[i]!))),
      row('event rate, ours by key / raw bound', '%', per(rate.ours, rate.bare), { target: { min: 50, why: 'issue 5: ≥ 0.5 of a bare JSON.parse' } }),
      row('event rate, ours reading every object / raw bound', '%', per(rate.objects, rate.bare)),
      row('memory per cached object (heap + buffers), ours as synced (JSON text)', 'bytes', sync.ours.map((r) => r.bytesPerObject)),
      row('memory per cached object (heap + buffers), ours after every object was read', 'bytes', sync.ours.map((r) => r.decodedBytesPerObject ?? NaN)),
      row('memory per cached object (heap + buffers), stock makeInformer', 'bytes', sync.stock.map((r) => r.bytesPerObject)),
      row('memory, stock bytes / ours as synced', '%', per(sync.stock.map((r) => r.bytesPerObject), sync.ours.map((r) => r.bytesPerObject)), {
        target: { min: 100, why: 'issue 5: ≤ 1× the stock informer per object' },
      }),
      row('memory, stock bytes / ours after every object was read', '%', per(sync.stock.map((r) => r.bytesPerObject), sync.ours.map((r) => r.decodedBytesPerObject ?? NaN)), {
        target: { min: 133, why: 'ours ≤ 0.75× the stock informer per object' },
      }),
    ];
  } finally {
    await replay.close();
    f.proc.kill('SIGINT');
    await within(new Promise((r) => f.proc.once('exit', r)), 10_000, 'server exit').catch(() => f.proc.kill('SIGKILL'));
    fs.rmSync(f.dir, { recursive: true, force: true });
  }
}

/** The section as `npm run bench` lists it (see sections.ts). */
export const informerSection: BenchSection = {
  id: 'informer',
  title: 'Informer engine vs client-node makeInformer (one cluster): initial sync, events/s, memory per object',
  async run(ctx) {
    try {
      return await measure(ctx);
    } catch (e) {
      return [row('informer benchmark', '-', [NaN], { problem: (e as Error).message })];
    }
  },
};
