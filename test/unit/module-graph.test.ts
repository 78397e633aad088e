/**
 * The shape of the source tree: no cycles of runtime imports between modules (type-only imports are
 * erased and may point both ways), the reference server and the library never import each other
 * (types included), and the layers of the library point one way (a provider never reaches up into
 * controllers or the manager, not even for a type), and the reference server is grouped into folders
 * by concept, each with an `index.ts` face.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { REPO } from '../support/cli.js';

const SRC = path.join(REPO, 'src');

/** Every `.ts` file under `dir`, relative to the repository. */
function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : p.endsWith('.ts') ? [path.relative(REPO, p)] : [];
  });
}

/** Whether an import or export clause names types only (`import type {…}`, or every name marked `type`). */
function typeOnly(clause: string): boolean {
  if (/^(?:import|export)\s+type\s/.test(clause)) return true;
  const names = /\{([^}]*)\}/.exec(clause)?.[1];
  if (names === undefined || /^(?:import|export)\s+[\w*]/.test(clause.replace(/^(?:import|export)\s+\{/, ''))) return false;
  const parts = names.split(',').map((n) => n.trim()).filter(Boolean);
  return parts.length > 0 && parts.every((n) => n.startsWith('type '));
}

/** Relative imports and re-exports of each file as repository paths; `runtime` leaves out type-only ones. */
function importGraph(runtime: boolean): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(SRC)) {
    const text = fs.readFileSync(path.join(REPO, file), 'utf8');
    const deps = [...text.matchAll(/^(?:import|export)\s[^;]*?\sfrom\s+'(\.[^']+)'/gms)]
      .filter((m) => !runtime || !typeOnly(m[0]))
      .map((m) => path.join(path.dirname(file), m[1]!.replace(/\.js$/, '.ts')));
    graph.set(file, deps);
  }
  return graph;
}

/** The strongly connected components of more than one file (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1) out.push(scc.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

/** The top folder under src/ of a repository path. */
const area = (file: string): string => file.split(path.sep)[1]!;

describe('module graph of src/', () => {
  const graph = importGraph(false);

  it('finds the imports it checks (the parser is not blind)', () => {
    expect(graph.size).to.be.greaterThan(100);
    expect(graph.get(path.join('src', 'provider', 'endpoint.ts'))).to.include(path.join('src', 'provider', 'cluster.ts'));
    expect(cycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]))).to.deep.equal([['a', 'b', 'c']]);
    expect(['import type { A } from', 'import { type A, type B } from', 'export type { A } from'].map(typeOnly)).to.deep.equal([true, true, true]);
    expect(['import { A, type B } from', 'import X, { type B } from', "export * from", 'import * as x from'].map(typeOnly)).to.deep.equal([false, false, false, false]);
  });

  it('has no cycles of runtime imports', () => {
    expect(cycles(importGraph(true))).to.deep.equal([]);
  });

  it('keeps the reference server and the library apart (testing and the CLI may use both)', () => {
    const both = new Set(['testing', 'cli']);
    const wrong: string[] = [];
    for (const [file, deps] of graph) {
      for (const dep of deps) {
        const [from, to] = [area(file), area(dep)];
        if (both.has(from)) continue;
        if ((from === 'server') !== (to === 'server')) wrong.push(`${file} → ${dep}`);
      }
    }
    expect(wrong).to.deep.equal([]);
  });

  it('groups the reference server into folders, each with an index.ts face, leaving a handful of files at its top', () => {
    const server = path.join(SRC, 'server');
    const entries = fs.readdirSync(server, { withFileTypes: true });
    const top = entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => e.name);
    expect(top, 'files at the top of src/server').to.include('index.ts');
    expect(top.length, `files at the top of src/server: ${top.join(', ')}`).to.be.at.most(5);
    const faceless = entries.filter((e) => e.isDirectory() && !fs.existsSync(path.join(server, e.name, 'index.ts'))).map((e) => e.name);
    expect(faceless, 'folders of src/server without an index.ts').to.deep.equal([]);
  });

  it('points the library layers one way: providers never import controllers or the manager', () => {
    const upward: Record<string, string[]> = { client: ['informer', 'provider', 'controller', 'manager', 'webhook'], informer: ['provider', 'controller', 'manager', 'webhook'], provider: ['controller', 'manager', 'webhook'], controller: ['manager', 'webhook'], webhook: ['controller', 'manager'] };
    const wrong: string[] = [];
    for (const [file, deps] of graph) for (const dep of deps) if (upward[area(file)]?.includes(area(dep))) wrong.push(`${file} → ${dep}`);
    expect(wrong).to.deep.equal([]);
  });
});
