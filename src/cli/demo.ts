/** `kcp-mc demo`: starts the reference server and shows what to try against it. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Command } from 'commander';
import { startServer } from '../server/index.js';

/** Runs the demo until Ctrl-C, or for `seconds` when given. */
export async function runDemo(o: { port: string; seconds?: string }): Promise<void> {
  const rootDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-mc-demo-'));
  const srv = await startServer({ port: Number(o.port), rootDir });
  const team = srv.createLogicalCluster(undefined, { path: 'root:team' });
  const kc = `--kubeconfig ${srv.kubeconfigPath}`;
  const lines = [
    `kcp reference server ready at ${srv.url}/clusters/root; kubeconfig: ${srv.kubeconfigPath}`,
    `A second logical cluster "${team}" is reachable as /clusters/root:team.`,
    '',
    'Try, in another terminal:',
    `  kubectl ${kc} api-resources`,
    `  kubectl ${kc} create configmap hello --from-literal=greeting=hi`,
    `  kubectl ${kc} get configmaps -o yaml`,
    `  kubectl ${kc} get configmaps -w`,
    `  kubectl ${kc} --server ${srv.url}/clusters/root:team get configmaps`,
    `  kubectl ${kc} get --raw '/clusters/*/api/v1/configmaps'`,
    '',
    'Press Ctrl-C to stop.',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  await new Promise<void>((resolve) => {
    const done = () => resolve();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    if (o.seconds) setTimeout(done, Number(o.seconds) * 1000).unref();
  });
  await srv.stop();
  fs.rmSync(rootDir, { recursive: true, force: true });
}

/** Registers `demo` on the CLI. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('start the reference kcp server and print what to try against it')
    .option('--port <port>', 'port (0 picks a free one)', '6443')
    .option('--seconds <n>', 'stop after n seconds')
    .addHelpText('after', '\nExamples:\n  kcp-mc demo                 # until Ctrl-C\n  kcp-mc demo --port 0        # a free port\n  kcp-mc demo --seconds 30')
    .action(async (o: { port: string; seconds?: string }) => runDemo(o));
}
