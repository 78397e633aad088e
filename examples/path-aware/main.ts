/**
 * kcp's `examples/path-aware` as a program: a Manager on a PathAwareProvider, with the ConfigMap
 * controller of `controller.ts`, until SIGINT/SIGTERM.
 *
 *   node dist/examples/path-aware/main.js [--kubeconfig FILE] [--endpointslice NAME]
 */
import { Manager } from 'kcp-multicluster-provider';
import { flags, kubeconfig, logger, shutdownSignal } from '../support/program.js';
import setup, { CONTROLLER, ENDPOINT_SLICE, provider } from './controller.js';

const f = flags('usage: main.js [--kubeconfig FILE] [--context NAME] [--endpointslice NAME] [--log-level debug|info|warn|error] [--log-format text|json]', {
  endpointslice: { type: 'string', default: ENDPOINT_SLICE },
});
const log = logger(f);
const kc = kubeconfig(f);
const manager = new Manager({
  provider: provider(kc, { log, eventSource: CONTROLLER, endpointSlice: f.endpointslice }),
  kubeconfig: kc,
  log,
  metricsBindAddress: f['metrics-bind-address'],
  healthProbeBindAddress: f['health-probe-bind-address'],
});
setup(manager);
log.info('starting', { endpointSlice: f.endpointslice, server: kc.getCurrentCluster()?.server });
await manager.start({ signal: shutdownSignal(log) });
log.info('stopped');
process.exit(0);
