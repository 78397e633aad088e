/**
 * `kcp-mc certs`: a development CA and a webhook serving certificate in a folder (`ca.crt`,
 * `ca.key`, `tls.crt`, `tls.key`), for `kcp-mc run --webhook-cert-dir`. Re-running keeps the CA, so
 * installed configurations keep trusting the server.
 */
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { defaultCertDir, writeWebhookCertificates } from '../webhook/index.js';

/** Registers `certs` on the CLI. */
export function registerCerts(program: Command): void {
  program
    .command('certs')
    .description('make a development CA and a serving certificate for the webhook server')
    .addOption(new Option('--cert-dir <dir>', 'folder to write ca.crt, ca.key, tls.crt and tls.key into').default(defaultCertDir()).env('KCP_MC_WEBHOOK_CERT_DIR'))
    .addOption(new Option('--host <name...>', 'DNS name or IP address the API server calls the webhooks at (repeatable)').default(['localhost', '127.0.0.1', '::1']))
    .addOption(new Option('--days <n>', 'days of validity').default('365'))
    .addHelpText('after', `
An existing ca.crt/ca.key in the folder signs the new serving certificate. The CA is for development:
in production let cert-manager (or your PKI) write tls.crt and tls.key; kcp-mc run reloads them when they change.

Examples:
  kcp-mc certs --cert-dir ./certs --host 127.0.0.1
  kcp-mc run widgets --install --webhook-cert-dir ./certs --webhook-url https://127.0.0.1:9443`)
    .action(async (o: { certDir: string; host: string[]; days: string }) => {
      const days = Number(o.days);
      if (!Number.isInteger(days) || days < 1) {
        process.stderr.write('kcp-mc certs: --days must be a positive integer\n');
        process.exit(2);
      }
      const dir = path.resolve(o.certDir);
      await writeWebhookCertificates(dir, { hosts: o.host, days });
      process.stdout.write(`wrote ca.crt, ca.key, tls.crt and tls.key to ${dir} (hosts: ${o.host.join(', ')})\n`);
    });
}
