/** Abort plumbing shared by requests and waits: one listener per signal, none left behind. */
import { getEventListeners } from 'node:events';
import { expect } from 'chai';
import { sleep } from '../../src/client/index.js';
import { waitFor } from '../../src/testing/index.js';

/** Runs `fn`, collecting the process warnings it causes (they arrive on a later tick). */
async function warningsDuring(fn: () => Promise<void>): Promise<string[]> {
  const warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  try {
    await fn();
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off('warning', onWarning);
  }
  return warnings;
}

describe('client: abort', () => {
  it('100 concurrent sleeps on one signal hold one listener, and leave none when they end', async () => {
    const signal = new AbortController().signal;
    const warnings = await warningsDuring(async () => {
      const sleeps = Array.from({ length: 100 }, () => sleep(5, signal));
      expect(getEventListeners(signal, 'abort')).to.have.length(1);
      await Promise.all(sleeps);
    });
    expect(getEventListeners(signal, 'abort')).to.have.length(0);
    expect(warnings).to.deep.equal([]);
  });

  it('aborting a signal shared by 100 sleeps rejects each with the reason, once', async () => {
    const ac = new AbortController();
    const warnings = await warningsDuring(async () => {
      const results = Array.from({ length: 100 }, () => sleep(60_000, ac.signal).then(() => 'slept', (e: unknown) => (e as Error).message));
      ac.abort(new Error('stop'));
      expect(await Promise.all(results)).to.deep.equal(Array.from({ length: 100 }, () => 'stop'));
    });
    expect(getEventListeners(ac.signal, 'abort')).to.have.length(0);
    expect(warnings).to.deep.equal([]);
  });

  it('waitFor: 30 concurrent waits on one signal, no warning and no listener left', async () => {
    const signal = new AbortController().signal;
    let n = 0;
    const warnings = await warningsDuring(async () => {
      await Promise.all(Array.from({ length: 30 }, () => waitFor(() => ++n > 60, { signal, intervalMs: 1 })));
    });
    expect(getEventListeners(signal, 'abort')).to.have.length(0);
    expect(warnings).to.deep.equal([]);
  });
});
