/**
 * `npm run docs`: the API reference builds from the doc comments of both package entries, with
 * TypeDoc's validation as errors, so a public symbol without a doc comment (or a broken `{@link}`,
 * or a public signature naming a type the package does not export) fails the suite.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { REPO } from '../support/cli.js';

const exec = promisify(execFile);

describe('API reference (npm run docs)', function () {
  this.timeout(180_000);
  let out = '';

  before(() => {
    out = mkdtempSync(join(tmpdir(), 'kcp-mc-docs-'));
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  it('documents every public symbol of both entries, with no warnings', async () => {
    const bin = join(REPO, 'node_modules', 'typedoc', 'bin', 'typedoc');
    const { stdout, stderr } = await exec(process.execPath, [bin, '--out', out, '--treatValidationWarningsAsErrors', '--treatWarningsAsErrors'], {
      cwd: REPO,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      maxBuffer: 16 * 1024 * 1024,
    }).catch((e: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`typedoc failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`.slice(0, 8000));
    });
    expect(`${stdout}${stderr}`).not.to.match(/\[(warning|error)\]/);
    expect(existsSync(join(out, 'index.html'))).to.equal(true);
  });

  it('has a page for the main classes of each entry, with their doc comments', () => {
    const modules = readFileSync(join(out, 'modules.html'), 'utf8');
    expect(modules).to.contain('index').and.to.contain('testing');
    for (const [page, text] of [
      ['classes/index.Manager.html', 'Manager'],
      ['classes/index.APIExportProvider.html', 'APIExport'],
      ['classes/index.ClusterClient.html', 'ClusterClient'],
      ['functions/testing.startTestEnvironment.html', 'startTestEnvironment'],
    ] as const) {
      const file = join(out, page);
      expect(existsSync(file), page).to.equal(true);
      expect(readFileSync(file, 'utf8')).to.contain(text);
    }
  });
});
