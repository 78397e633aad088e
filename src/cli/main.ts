#!/usr/bin/env node
/** `kcp-mc`: the command-line entry point. */
import { Command } from 'commander';
import { registerDemo } from './demo.js';
import { registerServer } from './server.js';
import { registerWatch } from './watch.js';

const program = new Command();
program.name('kcp-mc').description('kcp multicluster controllers for TypeScript').showHelpAfterError();
registerServer(program);
registerDemo(program);
registerWatch(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`kcp-mc: ${(e as Error).message}\n`);
  process.exit(1);
});
