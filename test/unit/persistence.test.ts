/** The --data-dir journal: every commit that returned is found again after a crash, across snapshots. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { FileJournal, Store } from '../../src/server/storage/index.js';
import type { KubeObject } from '../../src/server/types.js';

const cm = (name: string, v: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { v } }) as KubeObject;

describe('persistence: journal and snapshots', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-journal-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps every committed write when the journal rolls over into a snapshot (no close: as after a kill)', () => {
    const store = new Store();
    // A tiny threshold: a snapshot every few writes.
    FileJournal.open(dir, store, 600);
    const written = new Map<string, string>();
    for (let i = 0; i < 60; i++) {
      const name = `cm-${i % 20}`;
      if (i % 7 === 6 && written.has(name)) {
        store.delete('configmaps', 'c1', 'default', name);
        written.delete(name);
      } else {
        const stored = store.put('configmaps', 'c1', cm(name, String(i)));
        written.set(name, stored.metadata.resourceVersion!);
      }
    }
    const rv = store.resourceVersion;
    const again = new Store();
    FileJournal.open(dir, again, 600);
    expect(again.resourceVersion).to.equal(rv);
    const found = new Map([...again.entries()].map((e) => [e.object.metadata.name!, e.object.metadata.resourceVersion!]));
    expect(found).to.deep.equal(written);
  });
});
