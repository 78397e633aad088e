/**
 * kcp's `examples/initializingworkspaces` as a program: a Manager on an
 * InitializingWorkspacesProvider for one WorkspaceType, with the initializer controller of
 * `controller.ts`, until SIGINT/SIGTERM.
 *
 *   node dist/examples/initializing-workspaces/main.js [--kubeconfig FILE] [--workspace-type NAME]
 */
import { Manager } from 'kcp-multicluster-provider';
import { flags, kubeconfig, logger, shutdownSignal } from '../support/program.js';
import setup, { CONTROLLER, WORKSPACE_TYPE, provider } from './controller.js';

const f = flags('usage: main.js [--kubeconfig FILE] [--context NAME] [--workspace-type NAME] [--log-level debug|info|warn|error] [--log-format text|json]', {
  'workspace-type': { type: 'string', default: WORKSPACE_TYPE },
});
const log = logger(f);
const kc = kubeconfig(f);
const manager = new Manager({
  provider: provider(kc, { log, eventSource: CONTROLLER, workspaceType: f['workspace-type'] }),
  kubeconfig: kc,
  log,
  metricsBindAddress: f['metrics-bind-address'],
  healthProbeBindAddress: f['health-probe-bind-address'],
});
setup(manager);
log.info('starting', { workspaceType: f['workspace-type'], server: kc.getCurrentCluster()?.server });
await manager.start({ signal: shutdownSignal(log) });
log.info('stopped');
process.exit(0);
