/**
 * The provider conformance suite (`kcp-multicluster-provider/testing`) on every bundled provider
 * and on a provider written from the library's public pieces, each against its own reference
 * server.
 */
import { expect } from 'chai';
import { ConformanceError, providerConformance, providerConformanceChecks } from '../../src/testing/index.js';
import {
  type Faults,
  apiExportFixture,
  compositeFixture,
  initializingFixture,
  pathAwareFixture,
  terminatingFixture,
  userProviderFixture,
} from '../support/conformance-fixtures.js';

providerConformance('APIExportProvider', apiExportFixture());
providerConformance('PathAwareProvider', pathAwareFixture());
providerConformance('InitializingWorkspacesProvider', initializingFixture());
providerConformance('TerminatingWorkspacesProvider', terminatingFixture());
providerConformance('CompositeProvider (tenants and the own workspace)', compositeFixture());
providerConformance('a user-written provider (labelled workspaces)', userProviderFixture());

describe('provider conformance: the suite catches each breach of the contract', function () {
  this.timeout(60_000);
  const cases: [string, Faults, RegExp][] = [
    ['get of an unknown name returns a cluster', { getAnything: true }, /returned a cluster/],
    ['indexField reaches only current clusters', { forgetIndexes: true }, /the index of a future cluster/],
    ['removal never aborts the engagement', { neverDisengage: true }, /the engagement signal aborted/],
  ];
  for (const [what, faults, message] of cases) {
    it(what, async () => {
      const fixture = userProviderFixture(faults, 2_000);
      await fixture.setup!();
      try {
        const failures: string[] = [];
        for (const c of providerConformanceChecks(fixture)) {
          await c.run().catch((e: unknown) => {
            expect(e).to.be.instanceOf(ConformanceError);
            failures.push((e as Error).message);
          });
        }
        expect(failures.some((f) => message.test(f)), `no failure matches ${message}: ${JSON.stringify(failures)}`).to.equal(true);
      } finally {
        await fixture.teardown!();
      }
    });
  }
});
