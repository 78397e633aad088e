/**
 * Running the examples as their READMEs do: `node dist/examples/<name>/main.js` (JSON log lines),
 * `kcp-mc run <name>-example`, and `kcp-mc server` as a child process; each child's stderr is kept
 * and parsed, and a child is stopped with a signal and its exit code awaited.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { CLI, REPO, childEnv, jsonLines } from './cli.js';
import type { Obj } from './kcp.js';
import { eventually } from './server.js';

/** A child process with its output collected. */
export class Proc {
  readonly child: ChildProcess;
  out = '';
  err = '';
  readonly exited: Promise<number | null>;
  private exit: number | null | undefined;

  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv(env, ['KUBECONFIG']), cwd: REPO });
    this.child.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.err += d.toString()));
    this.exited = new Promise((r) => this.child.once('exit', (code) => r(code)));
    void this.exited.then((c) => (this.exit = c));
  }

  /** Complete stderr lines that parse as JSON objects. */
  logs(): Obj[] {
    return jsonLines(this.err);
  }

  /** Log lines matching `pred`. */
  lines(pred: (l: Obj) => boolean): Obj[] {
    return this.logs().filter(pred);
  }

  /** Waits until `check` (over the log lines) is truthy; fails early, with the output, if the process exits first. */
  async waitFor<T>(check: (logs: Obj[]) => T | undefined | false, what: string, timeoutMs = 30_000): Promise<T> {
    const v = await eventually(() => {
      const hit = check(this.logs());
      if (!hit && this.exit !== undefined) throw new Error(`exited with ${this.exit}`);
      return hit;
    }, what, timeoutMs).catch((e: Error) => {
      throw new Error(`${e.message}\n--- stderr ---\n${this.err}`);
    });
    return v as T;
  }

  /** Waits for one log line matching `pred`. */
  waitLog(pred: (l: Obj) => boolean, what: string, timeoutMs?: number): Promise<Obj> {
    return this.waitFor((logs) => logs.find(pred), what, timeoutMs);
  }

  /** Sends `signal` and resolves with the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
    if (this.exit === undefined) this.child.kill(signal);
    return this.exited;
  }

  /** SIGKILL if still running (after a failed test). */
  async kill(): Promise<void> {
    if (this.exit === undefined) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** `node dist/examples/<name>/main.js --log-format json ...args`. */
export function runExample(name: string, args: string[]): Proc {
  return new Proc([path.join(REPO, 'dist/examples', name, 'main.js'), '--log-format', 'json', ...args]);
}

/** `kcp-mc run ...args` (metrics and health on free ports). */
export function kcpMcRun(args: string[]): Proc {
  return new Proc([CLI, 'run', ...args, '--metrics-bind-address', '127.0.0.1:0', '--health-probe-bind-address', '127.0.0.1:0']);
}

/** A `kcp-mc server` child on a free port writing `admin.kubeconfig` into `rootDir`. */
export async function kcpMcServer(rootDir: string): Promise<{ proc: Proc; url: string; kubeconfigPath: string }> {
  const proc = new Proc([CLI, 'server', '--port', '0', '--root-dir', rootDir]);
  const m = await eventually(() => {
    if (proc.child.exitCode !== null) throw new Error(`kcp-mc server exited: ${proc.err}`);
    return /ready at (https?:\/\/[^/\s]+)\S* .*kubeconfig: (\S+)/.exec(proc.out + proc.err);
  }, 'kcp-mc server ready', 30_000);
  return { proc, url: m![1]!, kubeconfigPath: m![2]! };
}
