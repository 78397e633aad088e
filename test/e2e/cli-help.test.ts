/** `--help` of kcp-mc and of every command: exit 0, every flag described, and examples. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { CLI } from '../support/cli.js';

const exec = promisify(execFile);

describe('kcp-mc --help', () => {
  const help = async (...args: string[]): Promise<string> => (await exec(process.execPath, [CLI, ...args, '--help'])).stdout;

  it('lists every command with examples', async () => {
    const out = await help();
    for (const c of ['server', 'demo', 'watch', 'run', 'apigen', 'init']) expect(out).to.match(new RegExp(`^\\s+${c}\\b`, 'm'));
    expect(out).to.contain('Examples:');
  });

  for (const command of ['server', 'demo', 'watch', 'run', 'apigen', 'init']) {
    it(`${command} --help describes every flag and shows examples of the command`, async () => {
      const out = await help(command);
      expect(out).to.contain(`Usage: kcp-mc ${command}`);
      expect(out).to.contain('Examples:');
      expect(out).to.match(new RegExp(`^\\s+(KCP_MC_\\S+ )*kcp-mc ${command}\\b`, 'm'));
      // Every option line carries a description.
      const options = out.slice(out.indexOf('Options:')).split('\n').filter((l) => /^\s+-/.test(l));
      expect(options.length).to.be.greaterThan(1);
      for (const l of options) expect(l.trim(), l).to.match(/^-\S.*\s{2,}\S/);
    });
  }
});
