/**
 * A benchmark child process driven over IPC: requests `{ id, req }` answered by
 * `{ id, ok, result | error }`, each bounded in time; a pending request fails when the child exits.
 */
import { fork, type ChildProcess } from 'node:child_process';

/** The child at `file`, its errors labelled `label` (e.g. "server process"). */
export class IpcChild<Req extends { op: string }> {
  private readonly proc: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  /** Resolves with the exit code (or the signal's name) once the child is gone. */
  readonly exited: Promise<number | string>;

  constructor(
    file: string,
    private readonly label: string,
    env?: NodeJS.ProcessEnv,
    nodeFlags: readonly string[] = [],
  ) {
    // KCP_BENCH_CHILD_ARGV (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the children of a run being looked into.
    const execArgv = [...nodeFlags, ...(process.env['KCP_BENCH_CHILD_ARGV'] ?? '').split(' ').filter(Boolean)];
    this.proc = fork(file, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv, ...(env ? { env } : {}) });
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
    this.proc.on('message', (m: { id: number; ok: boolean; result?: unknown; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`${label}: ${m.error ?? '?'}`));
    });
    this.proc.on('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`${label} exited with ${String(code)}`));
      this.pending.clear();
    });
  }

  /** One request, bounded by `maxMs`. */
  call<T>(req: Req, maxMs: number): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (!this.proc.connected) {
        reject(new Error(`${this.label}: ${req.op} sent after the process exited`));
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.label}: ${req.op} did not answer within ${maxMs} ms`));
      }, maxMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.proc.send({ id, req });
    });
  }

  /** Sends `signal` to the child (SIGTERM: a graceful stop; SIGKILL: gone at once). */
  kill(signal: NodeJS.Signals): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
  }

  /** Asks the child to stop with `stopReq` (`timeoutMs` at most, default 20 s), then disconnects and kills it if still there. */
  async stop(stopReq: Req, timeoutMs = 20_000): Promise<void> {
    try {
      await this.call(stopReq, timeoutMs);
    } catch {
      // killed below either way
    }
    if (this.proc.connected) this.proc.disconnect();
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill();
  }
}
