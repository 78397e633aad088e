/** A Manager over the in-memory FakeProvider, with its log lines kept, for controller unit tests. */
import { Logger, Manager, type Controller, type ReconcileOutcome } from '../../src/index.js';
import { FakeProvider } from './fake-cluster.js';

/** A started manager on a fake provider. */
export interface Harness {
  provider: FakeProvider;
  manager: Manager;
  lines: Record<string, unknown>[];
  stop(): Promise<void>;
}

/** A manager on a new FakeProvider with `setup`'s controllers, started; `stop()` ends it. */
export async function harness(setup: (m: Manager) => void, opts: Partial<ConstructorParameters<typeof Manager>[0]> = {}): Promise<Harness> {
  const provider = new FakeProvider();
  const lines: Record<string, unknown>[] = [];
  const log = new Logger({ level: 'debug', write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) });
  const manager = new Manager({ provider, log, gracefulShutdownMs: 1000, ...opts });
  setup(manager);
  const ctl = new AbortController();
  const done = manager.start({ signal: ctl.signal });
  return {
    provider,
    manager,
    lines,
    stop: async () => {
      ctl.abort();
      await done;
    },
  };
}

/** Every reconcile outcome of `c`, in order. */
export function record(c: Controller): ReconcileOutcome[] {
  const out: ReconcileOutcome[] = [];
  c.onReconcile((o) => out.push(o));
  return out;
}

