/**
 * `kcp-mc run <controller>`: loads a controller module (a path, or the name of a bundled controller
 * in `controllers/`), builds its provider (an APIExportProvider unless the module exports
 * `provider()`) and a Manager from flags (each also `KCP_MC_*` in
 * the environment), and runs until SIGINT/SIGTERM. Configuration mistakes are one clear line and
 * exit code 2; an unreachable kcp is retried with backoff while `/readyz` says why.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadKubeConfig as readKubeConfig, toClientNodeKubeConfig, UnknownContextError, type ClusterClient, type LoadedKubeConfig } from '../client/index.js';
import { Logger, type LogFormat, type LogLevel } from '../log/index.js';
import { LeaderElectionLostError, Manager, parseBindAddress } from '../manager/index.js';
import type { ControllerModule, ProviderContext } from '../module/index.js';
import { APIExportProvider, ClusterEventRecorder, type Provider } from '../provider/index.js';
import { defaultCertDir } from '../webhook/index.js';
import { installModuleAPIs, moduleAPIs, soleExport } from './module-apis.js';
import { defaultLeaseName, moduleName } from './identity.js';
import { defaultKubeconfigSource, kubeConfigProblem } from './kubeconfig-check.js';
import { moduleLoadFailure } from './module-errors.js';
import { parseDuration } from './duration.js';
import { bindAddressArg } from './bind-address.js';
import { addShardingOptions, SHARDING_HELP, shardingFrom, type ShardingFlags } from './sharding-flags.js';
import { addWebhookOptions, checkWebhookInstall, installWebhooks, WEBHOOK_HELP, type WebhookFlags } from './webhook-flags.js';

export { parseDuration } from './duration.js';

import { UsageError } from './usage.js';

export { UsageError };

/** Options of `kcp-mc run`, after flags and environment. */
export interface RunOptions extends ShardingFlags, Partial<WebhookFlags> {
  kubeconfig?: string;
  context?: string;
  endpointslice?: string;
  metricsBindAddress: string;
  healthProbeBindAddress: string;
  leaderElect: boolean;
  /** Apply the module's `install` before starting. */
  install?: boolean;
  leaderElectionId?: string;
  leaderElectionNamespace: string;
  concurrency?: number;
  logFormat: LogFormat;
  logLevel: LogLevel;
  /** Milliseconds reconciles may finish after SIGTERM. */
  gracefulShutdown?: number;
  /** Lease timings in milliseconds (controller-runtime's LeaseDuration, RenewDeadline, RetryPeriod). */
  leaderElectionLeaseDuration?: number;
  leaderElectionRenewDeadline?: number;
  leaderElectionRetryPeriod?: number;
}

/** Folder of the bundled controllers (`dist/controllers` next to `dist/src`). */
export function bundledControllersDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../controllers');
}

/** Names of the bundled controllers. */
export function bundledControllers(): string[] {
  const dir = bundledControllersDir();
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((n) => fs.existsSync(path.join(dir, n, 'index.js'))).sort();
}

/** Resolves `<controller>` to a module file: an existing path, or a bundled controller's name. */
export function resolveController(spec: string, cwd = process.cwd()): string {
  const looksLikePath = spec.startsWith('.') || spec.startsWith('/') || spec.includes(path.sep) || /\.(c|m)?(js|ts)$/.test(spec);
  if (looksLikePath) {
    const file = path.resolve(cwd, spec);
    if (!fs.existsSync(file)) throw new UsageError(`controller module ${spec} not found (${file})`);
    return fs.statSync(file).isDirectory() ? path.join(file, 'index.js') : file;
  }
  if (!/^[a-z0-9][-a-z0-9]*$/.test(spec)) throw new UsageError(`invalid controller name ${JSON.stringify(spec)}`);
  const file = path.join(bundledControllersDir(), spec, 'index.js');
  if (!fs.existsSync(file)) {
    throw new UsageError(`no bundled controller named ${spec} (bundled: ${bundledControllers().join(', ') || 'none'}); pass a path to a module instead`);
  }
  return file;
}

/** Imports a controller module and checks that it has a default `setup` function. */
export async function loadController(file: string): Promise<ControllerModule> {
  let mod: Partial<ControllerModule>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Partial<ControllerModule>;
  } catch (e) {
    throw new UsageError(await moduleLoadFailure(file, e));
  }
  if (typeof mod.default !== 'function') throw new UsageError(`controller module ${file} has no default export function setup(manager)`);
  return mod as ControllerModule;
}

/**
 * Loads the kubeconfig (file, else KUBECONFIG / ~/.kube/config) and picks the context. Without
 * client-node unless the user needs it (exec plugin, auth provider, proxy): a controller process
 * then never loads client-node's generated API, unless its module asks for a `KubeConfig`.
 */
export async function loadKubeConfig(file: string | undefined, context: string | undefined): Promise<LoadedKubeConfig> {
  let kc: LoadedKubeConfig;
  try {
    kc = await readKubeConfig({ file, context });
  } catch (e) {
    if (e instanceof UnknownContextError) throw new UsageError(e.message);
    throw new UsageError(`cannot read kubeconfig ${file ?? '(default)'}: ${(e as Error).message}`);
  }
  const problem = kubeConfigProblem(kc, file ?? defaultKubeconfigSource(), true);
  if (problem) throw new UsageError(problem);
  return kc;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function positiveDuration(v: string): number {
  const ms = parseDuration(v);
  if (ms < 1) throw new InvalidArgumentError('must be a positive duration');
  return ms;
}

/** client-go's rules (NewLeaderElector), checked up front so a bad combination is a usage error. */
function checkLeaseTimings(o: RunOptions): void {
  const lease = o.leaderElectionLeaseDuration ?? 15_000;
  const renew = o.leaderElectionRenewDeadline ?? 10_000;
  const retry = o.leaderElectionRetryPeriod ?? 2_000;
  if (!(lease > renew)) throw new UsageError(`--leader-election-lease-duration (${lease} ms) must be greater than --leader-election-renew-deadline (${renew} ms)`);
  if (!(renew > 1.2 * retry)) throw new UsageError(`--leader-election-renew-deadline (${renew} ms) must be greater than 1.2 × --leader-election-retry-period (${retry} ms)`);
}

/** The module's own provider, or an APIExportProvider on the endpoint slice. */
async function moduleProvider(mod: ControllerModule, file: string, kc: LoadedKubeConfig, ctx: ProviderContext): Promise<Provider> {
  if (!mod.provider) {
    // Recorders are built as clusters engage, after setup: by then ctx.eventSource is the final name.
    const recorder = (client: ClusterClient, cluster: string) => new ClusterEventRecorder({ client, controller: ctx.eventSource, log: ctx.log.with({ cluster }) });
    return new APIExportProvider(kc, { endpointSlice: ctx.endpointSlice!, log: ctx.log, recorder });
  }
  if (typeof mod.provider !== 'function') throw new UsageError(`controller module ${file} exports a provider that is not a function`);
  try {
    // The module contract gives it client-node's KubeConfig, loaded now.
    return await mod.provider(await toClientNodeKubeConfig(kc), ctx);
  } catch (e) {
    throw new UsageError(`the provider of ${file} failed: ${(e as Error).message}`);
  }
}

/** Runs a controller module until `signal` aborts. */
export async function runController(spec: string, o: RunOptions, signal: AbortSignal): Promise<void> {
  const log = new Logger({ format: o.logFormat, level: o.logLevel });
  if (o.leaderElect) checkLeaseTimings(o);
  if (o.leaderElect && o.sharding) {
    throw new UsageError('--sharding and --leader-elect are exclusive: with --sharding every replica works, each on its own clusters');
  }
  const file = resolveController(spec);
  const mod = await loadController(file);
  const kc = await loadKubeConfig(o.kubeconfig, o.context);
  const apis = moduleAPIs(mod, file);
  if (o.install && (apis.length > 0 || typeof mod.install === 'function')) {
    log.info('installing', { module: file, server: kc.getCurrentCluster()?.server });
    if (apis.length) await installModuleAPIs(kc, apis, log, file);
    if (typeof mod.install === 'function') await mod.install(await toClientNodeKubeConfig(kc), log);
  }
  const endpointSlice = o.endpointslice ?? mod.endpointSlice ?? soleExport(apis);
  if (!endpointSlice && !mod.provider) throw new UsageError('no endpoint slice: pass --endpointslice NAME (the APIExportEndpointSlice in the kubeconfig\'s workspace)');
  // Typed as the contract says, but a module may export anything: identity() checks it.
  const exported: unknown = mod.name;
  // Without `export const name` the name is the first controller's, known once setup has run; a
  // module's own provider is built before that and gets the file's name.
  let name = exported === undefined ? fileName(file) : identity(exported, [], file);
  const provider = await moduleProvider(mod, file, kc, { log, get eventSource() { return name; }, endpointSlice });
  const leaderElection = o.leaderElect
    ? {
        id: o.leaderElectionId ?? '',
        namespace: o.leaderElectionNamespace,
        leaseDurationMs: o.leaderElectionLeaseDuration,
        renewDeadlineMs: o.leaderElectionRenewDeadline,
        retryPeriodMs: o.leaderElectionRetryPeriod,
      }
    : undefined;
  const sharding = shardingFrom(o);
  const manager = new Manager({
    provider,
    kubeconfig: kc,
    log,
    metricsBindAddress: o.metricsBindAddress,
    healthProbeBindAddress: o.healthProbeBindAddress,
    controllerDefaults: o.concurrency ? { maxConcurrentReconciles: o.concurrency } : {},
    gracefulShutdownMs: o.gracefulShutdown,
    leaderElection,
    sharding,
    webhook: { bindAddress: o.webhookBindAddress, certDir: o.webhookCertDir },
  });
  try {
    await mod.default(manager);
  } catch (e) {
    throw new UsageError(`setup of ${file} failed: ${(e as Error).message}`);
  }
  // A process that neither reconciles nor admits anything is a mistake, not a state to run in.
  if (manager.getControllers().length === 0 && manager.webhooks().length === 0) {
    throw new UsageError(`controller module ${file} registered no controllers or webhooks: its setup(manager) must call manager.controller(name)...reconcile(fn) or manager.webhook(type)...`);
  }
  // A module of webhooks only, without a name export, keeps its file's name.
  if (exported !== undefined || manager.getControllers().length > 0) name = identity(exported, manager.getControllers(), file);
  const hooks = { webhookBindAddress: o.webhookBindAddress ?? ':9443', webhookCertDir: o.webhookCertDir ?? defaultCertDir(), webhookUrl: o.webhookUrl };
  if (o.install) {
    // Known only after setup: whether the module registered webhooks to write configurations for.
    if (typeof mod.install !== 'function' && apis.length === 0 && manager.webhooks().length === 0) {
      throw new UsageError(`controller module ${file} has nothing to install (no exported apis, install function or webhooks)`);
    }
    const problem = checkWebhookInstall(hooks, manager);
    if (problem) throw new UsageError(problem);
    await installWebhooks(hooks, manager, kc, defaultLeaseName(name), log);
  }
  // The manager reads the Lease settings when it starts, which is after this.
  if (leaderElection && !o.leaderElectionId) leaderElection.id = defaultLeaseName(name);
  // The replica group is named as the leader-election Lease would be.
  if (sharding) sharding.group = o.leaderElectionId ?? defaultLeaseName(name);
  log.info('starting', { controller: name, endpointSlice, server: kc.getCurrentCluster()?.server });
  await manager.start({ signal });
  log.info('stopped');
}

/** The module's name from its file: `<dir>` for `<dir>/index.js`, else the file name without extension. */
function fileName(file: string): string {
  return path.basename(file) === 'index.js' ? path.basename(path.dirname(file)) : path.basename(file).replace(/\.[cm]?js$/, '');
}

function identity(exported: unknown, controllers: readonly { name: string }[], file: string): string {
  try {
    return moduleName(exported, controllers, file);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function env(name: string): string | undefined {
  const v = process.env[`KCP_MC_${name}`];
  return v === undefined || v === '' ? undefined : v;
}

/** Registers `run` on the CLI. */
export function registerRun(program: Command): void {
  const run = program
    .command('run')
    .description('run a controller module (a path, or a bundled controller name) across every workspace bound to an APIExport')
    .argument('<controller>', `module path, or a bundled controller (${bundledControllers().join(', ') || 'none found'})`)
    .addOption(new Option('--kubeconfig <file>', 'kubeconfig of the provider workspace (holding the APIExportEndpointSlice)').env('KCP_MC_KUBECONFIG'))
    .addOption(new Option('--context <name>', 'kubeconfig context').env('KCP_MC_CONTEXT'))
    .addOption(new Option('--endpointslice <name>', 'APIExportEndpointSlice name').env('KCP_MC_ENDPOINTSLICE'))
    .addOption(new Option('--metrics-bind-address <addr>', 'address of /metrics (0 disables)').default(':8080').env('KCP_MC_METRICS_BIND_ADDRESS').argParser(bindAddressArg))
    .addOption(new Option('--health-probe-bind-address <addr>', 'address of /healthz and /readyz (0 disables)').default(':8081').env('KCP_MC_HEALTH_PROBE_BIND_ADDRESS').argParser(bindAddressArg))
    .addOption(new Option('--install', "apply the module's APIs (schema, export, endpoint slice) in the kubeconfig's workspace first; idempotent").env('KCP_MC_INSTALL'))
    .addOption(new Option('--leader-elect', 'hold a Lease so that one replica works at a time').env('KCP_MC_LEADER_ELECT'))
    .addOption(new Option('--leader-election-id <name>', 'Lease name (default kcp-mc-<name>, the module\'s name: see below)').env('KCP_MC_LEADER_ELECTION_ID'))
    .addOption(new Option('--leader-election-namespace <ns>', 'Lease namespace').default('default').env('KCP_MC_LEADER_ELECTION_NAMESPACE'))
    .addOption(new Option('--leader-election-lease-duration <duration>', 'how long a standby waits after the last renewal it saw before taking over (default 15s)').env('KCP_MC_LEADER_ELECTION_LEASE_DURATION').argParser(positiveDuration))
    .addOption(new Option('--leader-election-renew-deadline <duration>', 'how long the leader retries a failing renewal before giving up (default 10s)').env('KCP_MC_LEADER_ELECTION_RENEW_DEADLINE').argParser(positiveDuration))
    .addOption(new Option('--leader-election-retry-period <duration>', 'interval between lease attempts (default 2s)').env('KCP_MC_LEADER_ELECTION_RETRY_PERIOD').argParser(positiveDuration))
    .addOption(new Option('--concurrency <n>', 'reconciles at once per controller').env('KCP_MC_CONCURRENCY').argParser(positiveInt))
    .addOption(new Option('--log-format <format>', 'log format').choices(['json', 'text']).default('json').env('KCP_MC_LOG_FORMAT'))
    .addOption(new Option('--log-level <level>', 'lowest level logged').choices(['debug', 'info', 'warn', 'error']).default('info').env('KCP_MC_LOG_LEVEL'))
    .addOption(new Option('--graceful-shutdown <duration>', 'how long reconciles in flight may finish after SIGINT/SIGTERM (default 30s)').env('KCP_MC_GRACEFUL_SHUTDOWN').argParser(parseDuration));
  addShardingOptions(addWebhookOptions(run))
    .addHelpText('after', `
The module's name is its \`export const name\`, else the name of the first controller its setup registers
(not its file name): it is the reportingController of the Events it records and the default Lease name,
kcp-mc-<name>. A module that exports its own provider() gets it as eventSource; without a name export
that is the file's name, as the provider is built before setup runs. A module that registers no
controllers and no webhooks is a configuration mistake.
${SHARDING_HELP}
${WEBHOOK_HELP}

Durations are like 500ms, 15s or 1m (a bare number is milliseconds). Exit codes: 0 after SIGINT/SIGTERM, 1 on a runtime failure or lost leadership, 2 on a usage or configuration mistake.

Examples:
  kcp-mc run apiexport-example --kubeconfig provider.kubeconfig --endpointslice cms
  kcp-mc run ./dist/my-controller.js --kubeconfig provider.kubeconfig --endpointslice widgets --log-format text
  kcp-mc run widgets --install --kubeconfig provider.kubeconfig --webhook-cert-dir ./certs --webhook-url https://10.0.0.5:9443
                                                                       # the widgets service: APIs and webhooks installed, then run
  kcp-mc run apiexport-example --leader-elect --graceful-shutdown 20s   # settings also from KCP_MC_* variables
  kcp-mc run apiexport-example --sharding --shard-id replica-0          # one of several replicas, each on its own clusters
  KCP_MC_KUBECONFIG=/etc/kcp/kubeconfig KCP_MC_ENDPOINTSLICE=cms kcp-mc run apiexport-example`)
    .action(async (spec: string, o: RunOptions, cmd: Command) => {
      // Commander turns any value of a boolean's env variable into true; "false" should mean false,
      // and a flag on the command line wins over the environment.
      for (const [key, name] of [['install', 'INSTALL'], ['leaderElect', 'LEADER_ELECT'], ['sharding', 'SHARDING']] as const) {
        const v = env(name);
        if (v !== undefined && cmd.getOptionValueSource(key) === 'env') o[key] = !/^(0|false|no|off)$/i.test(v);
      }
      const ctl = new AbortController();
      const stop = (): void => ctl.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await runController(spec, { ...o, leaderElect: Boolean(o.leaderElect) }, ctl.signal);
      } catch (e) {
        if (e instanceof UsageError) {
          // One line, whatever the cause said: js-yaml, for one, appends a code excerpt.
          process.stderr.write(`kcp-mc run: ${e.message.split('\n')[0]!.trim()}\n`);
          process.exit(2);
        }
        if (e instanceof LeaderElectionLostError) {
          process.stderr.write('kcp-mc run: leader election lost\n');
          process.exit(1);
        }
        throw e;
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
      process.exit(0);
    });
}
