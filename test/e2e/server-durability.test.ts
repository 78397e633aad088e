/**
 * `kcp-mc server --data-dir` killed with SIGKILL while writes flow on both shards (journals rolling
 * over into snapshots), restarted on the same directory: every acknowledged create, update and
 * delete is found, and no resourceVersion is handed out twice. And `--faults` on the process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { ApiError, Transport } from '../../src/client/index.js';
import { CLI, childEnv } from '../support/cli.js';
import { eventually } from '../support/server.js';

interface Server {
  proc: ChildProcess;
  out: string;
  url: string;
  kubeconfig: string;
  exited: Promise<number | null>;
}

async function startCli(args: string[]): Promise<Server> {
  const proc = spawn(process.execPath, [CLI, 'server', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
  const s: Server = { proc, out: '', url: '', kubeconfig: '', exited: new Promise((r) => proc.once('exit', (code) => r(code))) };
  proc.stdout!.on('data', (d: Buffer) => (s.out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (s.out += d.toString()));
  let exit: number | null | undefined;
  void s.exited.then((c) => (exit = c));
  const m = await eventually(() => {
    if (exit !== undefined) throw new Error(`kcp-mc server exited (${exit}):\n${s.out}`);
    return /ready at (\S+)\/clusters\/root \(port \d+\); kubeconfig: (.+)$/m.exec(s.out);
  }, 'server ready', 20_000);
  s.url = m![1]!;
  s.kubeconfig = m![2]!;
  return s;
}

function transportOf(s: Server): Transport {
  const kc = new KubeConfig();
  kc.loadFromFile(s.kubeconfig);
  kc.setCurrentContext('base');
  return Transport.fromKubeConfig(kc);
}

type Obj = { metadata: { name: string; resourceVersion: string; annotations?: Record<string, string> }; data?: Record<string, string>; spec?: { cluster?: string }; status?: { phase?: string } };

/** What the writers know of one ConfigMap: its acknowledged state, and the state of a write whose answer never came. */
interface Known {
  acked: { v: string; rv: string } | null;
  pending?: { v: string } | null;
}

describe('kcp-mc server: durability across SIGKILL (e2e)', function () {
  this.timeout(90_000);
  let dir: string;
  const procs: ChildProcess[] = [];

  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-durable-'))));
  afterEach(() => {
    for (const p of procs.splice(0)) p.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('finds every acknowledged write after a SIGKILL in the middle of concurrent writes on two shards', async () => {
    const args = ['--shards', '2', '--data-dir', path.join(dir, 'data'), '--root-dir', path.join(dir, 'root'), '--journal-max-bytes', '50000'];
    const first = await startCli(args);
    procs.push(first.proc);
    const t = transportOf(first);
    const clusters: string[] = [];
    for (const [name, shard] of [['near', 'root'], ['far', 'shard-1']] as const) {
      await t.requestJSON({ method: 'POST', url: '/clusters/root/apis/tenancy.kcp.io/v1alpha1/workspaces', body: { metadata: { name }, spec: { location: { selector: { matchLabels: { name: shard } } } } } });
      const ws = await eventually(async () => {
        const w = await t.requestJSON<Obj>({ url: `/clusters/root/apis/tenancy.kcp.io/v1alpha1/workspaces/${name}` });
        return w.status?.phase === 'Ready' ? w : undefined;
      }, `workspace ${name} Ready`, 20_000);
      clusters.push(ws!.spec!.cluster!);
    }

    // Each worker owns its keys, so the acknowledged state of every key is known exactly.
    const known = new Map<string, Known>();
    let acked = 0;
    let stop = false;
    const cmURL = (cluster: string, name?: string) => `/clusters/${cluster}/api/v1/namespaces/default/configmaps${name ? `/${name}` : ''}`;
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const cluster = clusters[(w + i) % 2]!;
        // Some keys are written once: a lost write of theirs is never papered over by a later one.
        const name = i % 3 === 0 ? `w${w}-once-${i}` : `w${w}-k${i % 12}`;
        const key = `${cluster}/${name}`;
        const k = known.get(key) ?? { acked: null };
        known.set(key, k);
        const v = `${w}.${i}`;
        const del = k.acked !== null && i % 5 === 4;
        k.pending = del ? null : { v };
        try {
          if (del) {
            await t.requestJSON({ method: 'DELETE', url: cmURL(cluster, name) });
            k.acked = null;
          } else {
            const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { v } };
            const o = k.acked
              ? await t.requestJSON<Obj>({ method: 'PUT', url: cmURL(cluster, name), body })
              : await t.requestJSON<Obj>({ method: 'POST', url: cmURL(cluster), body });
            k.acked = { v, rv: o.metadata.resourceVersion };
          }
          delete k.pending;
          acked++;
        } catch (e) {
          // The kill: this write's outcome is unknown and stays pending.
          if (e instanceof ApiError) throw e;
          return;
        }
      }
    };
    const workers = Array.from({ length: 8 }, (_, w) => worker(w));
    await eventually(() => acked >= 1500, '1,500 acknowledged writes', 40_000);
    first.proc.kill('SIGKILL');
    stop = true;
    await Promise.all(workers);
    await first.exited;
    t.close();
    const snapshots = ['root', 'shard-1'].map((s) => fs.existsSync(path.join(dir, 'data', s, 'snapshot.json')));
    expect(snapshots, 'both journals rolled over into snapshots').to.deep.equal([true, true]);

    const second = await startCli(args);
    procs.push(second.proc);
    const t2 = transportOf(second);
    try {
      let checked = 0;
      for (const cluster of clusters) {
        const items = (await t2.requestJSON<{ items: Obj[] }>({ url: cmURL(cluster) })).items;
        const found = new Map(items.map((o) => [`${cluster}/${o.metadata.name}`, o]));
        for (const [key, k] of known) {
          if (!key.startsWith(`${cluster}/`)) continue;
          const o = found.get(key);
          const got = o ? { v: o.data!['v']!, rv: o.metadata.resourceVersion } : null;
          if (k.pending !== undefined && (k.pending === null ? got === null : got?.v === k.pending.v)) continue;
          expect(got, key).to.deep.equal(k.acked);
          checked++;
        }
        // A fresh write never reuses an acknowledged resourceVersion of its shard.
        const maxRV = Math.max(...[...known].filter(([key]) => key.startsWith(`${cluster}/`)).map(([, k]) => Number(k.acked?.rv ?? 0)));
        const fresh = await t2.requestJSON<Obj>({ method: 'POST', url: cmURL(cluster), body: { metadata: { name: 'after-restart' } } });
        expect(Number(fresh.metadata.resourceVersion)).to.be.greaterThan(maxRV);
      }
      expect(checked).to.be.at.least(known.size - 8).and.greaterThan(500);
      console.log(`      (${acked} writes acknowledged before SIGKILL; ${known.size} keys checked after restart)`);
    } finally {
      t2.close();
    }
  });

  it('--faults @file injects from the start and serves /debug/faults; a bad --faults is refused', async () => {
    const file = path.join(dir, 'faults.json');
    fs.writeFileSync(file, JSON.stringify({ errors: { rate: 1, codes: [500] } }));
    const s = await startCli(['--root-dir', path.join(dir, 'root'), '--faults', `@${file}`]);
    procs.push(s.proc);
    const t = transportOf(s);
    try {
      const err = await t.requestJSON({ url: '/clusters/root/api/v1/namespaces' }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ApiError);
      expect((err as ApiError).code).to.equal(500);
      const state = await t.requestJSON<{ config: unknown; stats: Record<string, number> }>({ url: '/debug/faults' });
      expect(state).to.deep.equal({ config: { errors: { rate: 1, codes: [500], retryAfterSeconds: 1 } }, stats: { error500: 1 } });
      await t.requestJSON({ method: 'DELETE', url: '/debug/faults' });
      await t.requestJSON({ url: '/clusters/root/api/v1/namespaces' });
    } finally {
      t.close();
    }
    const bad = spawn(process.execPath, [CLI, 'server', '--port', '0', '--root-dir', path.join(dir, 'bad'), '--faults', '{"errors":{"rate":5}}'], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
    procs.push(bad);
    let err = '';
    bad.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => bad.once('exit', (c) => r(c)));
    expect(code).to.not.equal(0);
    expect(err).to.contain('--faults: invalid fault config: errors.rate must be a number in [0, 1]');
  });
});
