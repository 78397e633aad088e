/**
 * `kcp-mc run` as a child process in end-to-end tests: the process with its output collected and
 * JSON log lines parsed, waits on log lines that fail early when the process exits, and kubeconfig
 * files for the reference server's workspaces.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunningServer } from '../../src/server/index.js';
import type { Obj } from './kcp.js';
import { eventually, kubeConfigFor } from './server.js';

/** The CLI of the repository's build. */
export const CLI = path.resolve('dist/src/cli/main.js');
/** The repository (the working directory of `npm test`). */
export const REPO = path.resolve('.');

/** The parent's environment without KCP_MC_* and the names in `drop` (a developer's shell must not change the tests), plus `extra`. */
export function childEnv(extra: Record<string, string> = {}, drop: readonly string[] = []): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KCP_MC_') && !drop.includes(k)) env[k] = v;
  return { ...env, ...extra };
}

/** The complete lines of `text` that parse as JSON objects (a child's log lines). */
export function jsonLines(text: string): Obj[] {
  const out: Obj[] = [];
  for (const l of text.split('\n').slice(0, -1)) {
    try {
      const v: unknown = JSON.parse(l);
      if (v && typeof v === 'object') out.push(v as Obj);
    } catch {
      // a text line
    }
  }
  return out;
}

/** A `kcp-mc run` child with its output collected; log lines are on stderr. */
export class Run {
  readonly child: ChildProcess;
  out = '';
  err = '';
  readonly exited: Promise<number | null>;

  constructor(args: string[], env: Record<string, string> = {}, cwd = REPO, cli = CLI) {
    this.child = spawn(process.execPath, [cli, 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv(env), cwd });
    this.child.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.err += d.toString()));
    this.exited = new Promise((r) => this.child.once('exit', (code) => r(code)));
  }

  /** Complete stderr lines that parse as JSON objects. */
  logs(): Obj[] {
    return jsonLines(this.err);
  }

  /** Waits for a log line; fails early, with the output, if the process exits first. */
  async waitLog(pred: (l: Obj) => boolean, what: string, timeoutMs = 15_000): Promise<Obj> {
    let exit: number | null | undefined;
    void this.exited.then((c) => (exit = c));
    const l = await eventually(() => {
      const hit = this.logs().find(pred);
      if (!hit && exit !== undefined) throw new Error(`exited with ${exit}:\n${this.err}`);
      return hit;
    }, what, timeoutMs).catch((e: Error) => {
      throw new Error(`${e.message}\n--- stderr ---\n${this.err}`);
    });
    return l!;
  }

  /** The health probe server's URL, from its log line. */
  async healthURL(): Promise<string> {
    return (await this.waitLog((l) => l['msg'] === 'serving health probes', 'health probe address'))['url'] as string;
  }

  /** Sends `signal` and resolves with the exit code and how long the exit took. */
  async stop(signal: NodeJS.Signals): Promise<{ code: number | null; ms: number }> {
    const t0 = Date.now();
    this.child.kill(signal);
    const code = await this.exited;
    return { code, ms: Date.now() - t0 };
  }
}

/** Kills (SIGKILL) every run still alive, empties `runs`, and waits for each to exit: an `afterEach` cleanup. */
export async function killRuns(runs: Run[]): Promise<void> {
  for (const r of runs.splice(0)) {
    if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
    await r.exited;
  }
}

/** Writes a kubeconfig for logical cluster `cluster` (client-node's export: YAML's JSON subset, CA inline). */
export function writeKubeconfig(dir: string, srv: RunningServer, cluster: string): string {
  const file = path.join(dir, `${cluster.replace(/:/g, '_')}.kubeconfig`);
  fs.writeFileSync(file, kubeConfigFor(srv, cluster).exportConfig(), { mode: 0o600 });
  return file;
}

