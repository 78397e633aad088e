/** `kcp-mc run`'s webhook flags: where the webhook server listens, its certificate, and the URL `--install` writes. */
import type { KubeConfigLike } from '../client/kubeconfig.js';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ClusterClient, Transport } from '../client/index.js';
import type { Logger } from '../log/index.js';
import type { Manager } from '../manager/index.js';
import { bindAddressArg } from './bind-address.js';
import { caBundleFromCertDir, defaultCertDir, installWebhookConfigurations, webhookURLProblem } from '../webhook/index.js';

/** The webhook part of `kcp-mc run`'s options, after flags and environment. */
export interface WebhookFlags {
  /** `--webhook-bind-address`. */
  webhookBindAddress: string;
  /** `--webhook-cert-dir`. */
  webhookCertDir: string;
  /** `--webhook-url`: base URL the API server calls; `--install` needs it when the module has webhooks. */
  webhookUrl?: string;
}

function webhookURL(v: string): string {
  const problem = webhookURLProblem(v);
  if (problem) throw new InvalidArgumentError(problem);
  return v;
}

/** Adds the webhook flags (each also `KCP_MC_<FLAG>`). */
export function addWebhookOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--webhook-bind-address <addr>', 'address of the HTTPS webhook server, started when the module registers webhooks (0 disables)').default(':9443').env('KCP_MC_WEBHOOK_BIND_ADDRESS').argParser(bindAddressArg))
    .addOption(new Option('--webhook-cert-dir <dir>', 'folder of the serving certificate (tls.crt, tls.key), reloaded when the files change').default(defaultCertDir()).env('KCP_MC_WEBHOOK_CERT_DIR'))
    .addOption(new Option('--webhook-url <url>', 'https://host:port at which kcp calls this process\'s webhooks (kcp has no Services); with --install the webhook configurations point there').env('KCP_MC_WEBHOOK_URL').argParser(webhookURL));
}

/** Help text for the webhook flags. */
export const WEBHOOK_HELP = `
Webhooks: a module that calls manager.webhook(type).default(fn) or .validate({...}) gets an HTTPS server
on --webhook-bind-address with the certificate in --webhook-cert-dir (kcp-mc certs makes one for development).
With --install, a MutatingWebhookConfiguration and a ValidatingWebhookConfiguration named kcp-mc-<name>
are applied in the kubeconfig's workspace: kcp calls them for the export's resources in every consumer workspace.
They call --webhook-url plus each path and trust ca.crt from the cert dir (else tls.crt).`;

/** What `--install` misses to write the webhook configurations (the URL, the CA), or undefined. */
export function checkWebhookInstall(o: WebhookFlags, manager: Manager): string | undefined {
  if (manager.webhooks().length === 0) return undefined;
  if (!o.webhookUrl) return '--install with webhooks needs --webhook-url (the https URL at which kcp reaches this process; `kcp-mc certs --cert-dir DIR` makes a serving certificate for --webhook-cert-dir)';
  try {
    caBundleFromCertDir(o.webhookCertDir);
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

/** Writes the module's webhook configurations into the kubeconfig's workspace. */
export async function installWebhooks(o: WebhookFlags, manager: Manager, kc: KubeConfigLike, name: string, log: Logger): Promise<void> {
  const regs = manager.webhooks();
  if (regs.length === 0) return;
  const transport = Transport.fromKubeConfig(kc);
  try {
    await installWebhookConfigurations(new ClusterClient(transport), regs, { name, url: o.webhookUrl!, caBundle: caBundleFromCertDir(o.webhookCertDir) }, log);
  } finally {
    transport.close();
  }
}
