#!/usr/bin/env node
/** `kcp-mc`: the command-line entry point. */
import { Command } from 'commander';

/**
 * Each command's module, loaded only when that command runs (or for help, which lists them all):
 * `kcp-mc run` then loads the runtime alone, not the reference server, the demo's client-node
 * or the generators, which would otherwise sit in every controller's heap.
 */
const COMMANDS: Record<string, () => Promise<(program: Command) => void>> = {
  server: async () => (await import('./server.js')).registerServer,
  demo: async () => (await import('./demo.js')).registerDemo,
  watch: async () => (await import('./watch.js')).registerWatch,
  run: async () => (await import('./run.js')).registerRun,
  apigen: async () => (await import('./apigen.js')).registerApigen,
  certs: async () => (await import('./certs.js')).registerCerts,
  init: async () => (await import('./init/index.js')).registerInit,
};

const program = new Command();
program
  .name('kcp-mc')
  .description('kcp multicluster controllers for TypeScript')
  // A usage mistake is one line on stderr (commander puts "Did you mean" on a line of its own, and
  // a help dump after it would bury the line that matters); subcommands inherit this.
  .configureOutput({ outputError: (str, write) => write(`${str.trim().replace(/\s*\n\s*/g, ' ')} (see --help)\n`) });
// Bad flags and arguments are usage errors: exit code 2, as the run command promises.
program.exitOverride((err) => {
  process.exit(err.exitCode === 0 ? 0 : 2);
});
program.addHelpText(
  'after',
  `
Examples:
  kcp-mc demo                                        # the reference server and what to try against it
  kcp-mc server --port 0                             # the reference kcp server alone
  kcp-mc run apiexport-example --kubeconfig provider.kubeconfig --endpointslice cms
  kcp-mc watch configmaps --kubeconfig .kcp/admin.kubeconfig
  kcp-mc apigen --from-crd config/crd/bases --output-dir manifests
  kcp-mc certs --cert-dir ./certs                    # a development CA and webhook serving certificate
  kcp-mc init my-provider --group example.dev --kind Database    # a new provider project

Run "kcp-mc <command> --help" for a command's flags.`,
);
const named = process.argv[2];
const wanted = named !== undefined && Object.hasOwn(COMMANDS, named) ? [named] : Object.keys(COMMANDS);
Promise.all(wanted.map((n) => COMMANDS[n]!()))
  .then((registers) => {
    for (const register of registers) register(program);
    return program.parseAsync(process.argv);
  })
  .catch((e: unknown) => {
    process.stderr.write(`kcp-mc: ${(e as Error).message}\n`);
    process.exit(1);
  });
