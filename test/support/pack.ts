/**
 * The packed package (`npm pack`) for the tests that install it as users do: the tarball, npm run
 * without a shell, the flags that let installs come from the local cache, package.json reading.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { REPO } from './cli.js';

/** execFile as a promise. */
export const exec = promisify(execFile);
/** The npm executable. */
export const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
/** From the local cache when it holds the packages (as after the repository's own npm ci). */
export const NPM_FLAGS = ['--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'];

/** The fields of a package.json the tests read. */
export interface PackageJSON {
  name?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  scripts?: Record<string, string>;
  version?: string;
}

/** A package.json, parsed. */
export const readJSON = (file: string): PackageJSON => JSON.parse(fs.readFileSync(file, 'utf8')) as PackageJSON;

/** Packs the repository (its built dist/) into `dir`; resolves with the tarball's path. */
export async function packInto(dir: string): Promise<string> {
  const { stdout } = await exec(npm, ['pack', '--json', '--pack-destination', dir], { cwd: REPO, maxBuffer: 64 << 20 });
  const [packed] = JSON.parse(stdout) as { filename: string }[];
  return path.join(dir, packed!.filename);
}
