/** `kcp-mc server`: the reference kcp server as a process. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { normalizeFaultConfig, startServer, type FaultConfig } from '../server/index.js';

/** Options of `kcp-mc server`. */
export interface ServerCommandOptions {
  port: string;
  bind: string;
  rootDir: string;
  dataDir?: string;
  journalMaxBytes?: string;
  historyWindow: string;
  tokenFile?: string;
  shards: string;
  faults?: string;
  verbose?: boolean;
}

/** `--faults`: inline JSON, or `@file` holding it. */
export function faultsFlag(value: string): FaultConfig {
  const text = value.startsWith('@') ? readFaultsFile(value.slice(1)) : value;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(`--faults: not JSON: ${(e as Error).message}`);
  }
  try {
    return normalizeFaultConfig(parsed);
  } catch (e) {
    throw new Error(`--faults: ${(e as Error).message}`);
  }
}

function readFaultsFile(file: string): string {
  try {
    return fs.readFileSync(path.resolve(file), 'utf8');
  } catch (e) {
    throw new Error(`--faults: cannot read ${file}: ${(e as Error).message}`);
  }
}

function portNumber(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`invalid port "${s}"`);
  return n;
}

function shardCount(s: string): number {
  const n = Number(s);
  // Each shard is a port, a store and a journal; a few dozen is already far beyond any test.
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`invalid shard count "${s}" (1..64)`);
  return n;
}

function journalBytes(s: string): number {
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`invalid journal size "${s}" (a positive number of bytes)`);
  return n;
}

/** Runs the server until SIGINT/SIGTERM; resolves when it has stopped. */
export async function runServer(o: ServerCommandOptions): Promise<void> {
  const srv = await startServer({
    port: portNumber(o.port),
    bind: o.bind,
    rootDir: path.resolve(o.rootDir),
    dataDir: o.dataDir ? path.resolve(o.dataDir) : undefined,
    journalMaxBytes: o.journalMaxBytes !== undefined ? journalBytes(o.journalMaxBytes) : undefined,
    historyWindow: Number(o.historyWindow),
    tokenFile: o.tokenFile ? path.resolve(o.tokenFile) : undefined,
    shards: shardCount(o.shards),
    faults: o.faults !== undefined ? faultsFlag(o.faults) : undefined,
    log: o.verbose
      ? (l) => process.stderr.write(JSON.stringify({ msg: 'request', ...l }) + '\n')
      : undefined,
  });
  process.stdout.write(
    `kcp reference server ready at ${srv.url}/clusters/root (port ${srv.port}); kubeconfig: ${srv.kubeconfigPath}\n`,
  );
  // Wildcard requests and virtual workspaces are per shard, so their URLs matter to controllers.
  if (srv.shardURLs.length > 1) srv.shardURLs.forEach((u, i) => process.stdout.write(`shard ${i === 0 ? 'root' : `shard-${i}`}: ${u}\n`));
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void srv.stop().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  process.stdout.write('kcp reference server stopped\n');
}

/** Registers `server` on the CLI. */
export function registerServer(program: Command): void {
  program
    .command('server')
    .description('run the bundled reference kcp server')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '6443')
    .option('--bind <address>', 'address to bind', '127.0.0.1')
    .option('--root-dir <dir>', 'where admin.kubeconfig is written', '.kcp')
    .option('--data-dir <dir>', 'keep state here across restarts (in memory when absent)')
    .option('--journal-max-bytes <bytes>', 'with --data-dir: journal size past which a shard snapshots its state (default 64 MiB)')
    .option('--history-window <events>', 'watch history kept for resume', '20000')
    .option('--token-file <file>', 'extra bearer tokens: token,user,uid,"group1,group2" per line')
    .option('--shards <n>', 'number of shards, each with its own port, store and resourceVersion counter', '1')
    .option('--faults <json|@file>', 'inject faults (tests): a FaultConfig as JSON; also serves GET/PUT/DELETE /debug/faults to admins')
    .option('-v, --verbose', 'log every request as a JSON line on stderr')
    .addHelpText(
      'after',
      `
Examples:
  kcp-mc server                                   # https://127.0.0.1:6443, kubeconfig in .kcp/admin.kubeconfig
  kcp-mc server --port 0 --root-dir /tmp/kcp      # a free port; the address is printed
  kcp-mc server --data-dir .kcp/data              # state survives restarts
  kcp-mc server --shards 2                        # two shards, one endpoint per shard in each APIExportEndpointSlice
  kcp-mc server --faults '{"watchCuts":{},"errors":{"rate":0.01}}'   # cut watches every 1-5 s, fail 1 % of requests
  kcp-mc server --token-file tokens.csv           # more users, for RBAC and kubectl auth can-i
  kubectl --kubeconfig .kcp/admin.kubeconfig get workspaces`,
    )
    .action(async (o: ServerCommandOptions) => runServer(o));
}
