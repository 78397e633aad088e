/**
 * What every example's `main.ts` does before and after its own lines: common flags, the
 * kubeconfig (`--kubeconfig`, else KUBECONFIG / ~/.kube/config), a logger, and a signal that
 * aborts on SIGINT/SIGTERM so that `manager.start` returns and the program exits 0.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { KubeConfig, Logger, type LogFormat, type LogLevel } from 'kcp-multicluster-provider';

/** The flags every example takes. */
export const COMMON_FLAGS = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  'log-level': { type: 'string', default: 'info' },
  'log-format': { type: 'string', default: 'text' },
  'metrics-bind-address': { type: 'string', default: '0' },
  'health-probe-bind-address': { type: 'string', default: '0' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** The common flags' values. */
export interface CommonFlags {
  kubeconfig?: string;
  context?: string;
  'log-level': string;
  'log-format': string;
  'metrics-bind-address': string;
  'health-probe-bind-address': string;
  help?: boolean;
}

/** Parses `argv` against the common flags plus `extra`; prints `usage` and exits 0 on --help, 2 on a mistake. */
export function flags(usage: string, extra: Record<string, { type: 'string'; default?: string }> = {}, argv = process.argv.slice(2)): CommonFlags & Record<string, string | undefined> {
  try {
    const { values } = parseArgs({ args: argv, options: { ...COMMON_FLAGS, ...extra }, strict: true, allowPositionals: false });
    const f = values as CommonFlags & Record<string, string | undefined>;
    if (f.help) {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    }
    return f;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${usage}\n`);
    process.exit(2);
  }
}

/** A logger from `--log-level` and `--log-format`. */
export function logger(f: CommonFlags): Logger {
  if (!['debug', 'info', 'warn', 'error'].includes(f['log-level'])) fail(`--log-level must be debug, info, warn or error, not ${f['log-level']}`);
  if (!['text', 'json'].includes(f['log-format'])) fail(`--log-format must be text or json, not ${f['log-format']}`);
  return new Logger({ level: f['log-level'] as LogLevel, format: f['log-format'] as LogFormat });
}

/** Loads `--kubeconfig` (else KUBECONFIG or ~/.kube/config) and selects `--context`. */
export function kubeconfig(f: CommonFlags): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (f.kubeconfig) kc.loadFromFile(f.kubeconfig);
    else kc.loadFromDefault();
    if (f.context) kc.setCurrentContext(f.context);
  } catch (e) {
    fail(`cannot load kubeconfig ${f.kubeconfig ?? '(default)'}: ${(e as Error).message.split('\n')[0]}`);
  }
  const server = kc.getCurrentCluster()?.server;
  // client-node falls back to localhost:8080 when it finds nothing.
  if (!server || (!f.kubeconfig && server === 'http://localhost:8080')) fail('no kubeconfig: pass --kubeconfig FILE or set KUBECONFIG');
  return kc;
}

/** Prints `message` and exits 2 (a configuration mistake). */
function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

/** A signal that aborts on the first SIGINT or SIGTERM. */
export function shutdownSignal(log: Logger): AbortSignal {
  const ctl = new AbortController();
  const stop = (sig: NodeJS.Signals): void => {
    log.info('shutting down', { signal: sig });
    ctl.abort();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return ctl.signal;
}
