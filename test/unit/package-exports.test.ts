/** The package's public entry points load and expose the library by its public names. */
import { expect } from 'chai';

describe('package exports', () => {
  it('exposes the client, the informer engine, the controller runtime and the authoring helpers from the main entry, and the server and the provider conformance suite from ./testing', async () => {
    // Through the package's own name, as users import it (a variable keeps tsc from resolving the
    // self-reference before dist/ exists).
    const main = 'kcp-multicluster-provider';
    const lib = (await import(main)) as Record<string, unknown>;
    for (const name of [
      'Transport', 'ClusterClient', 'Discovery', 'isNotFound', 'listWatch', 'SharedInformer', 'InformerFactory', 'ScopedReader', 'Store',
      // the controller runtime
      'Manager', 'APIExportProvider', 'Controller', 'Builder', 'PriorityQueue', 'ItemExponentialRateLimiter', 'BucketRateLimiter',
      'TerminalError', 'ClusterNotFoundError', 'NotWatchedError', 'RuntimeMetrics', 'HealthChecks', 'LeaderElector', 'Logger',
      'ClusterEventRecorder', 'finalizer', 'generationChanged', 'controllerOf', 'LOW_PRIORITY',
      // sharding
      'LeaseCoordinator', 'rendezvousOwner', 'defaultShardId',
      // authoring helpers
      'setStatusCondition', 'findStatusCondition', 'isStatusConditionTrue', 'isStatusConditionFalse', 'removeStatusCondition',
      'createOrUpdate', 'createOrPatch', 'CONFIG_MAP', 'SECRET', 'NAMESPACE', 'EVENT', 'SERVICE_ACCOUNT', 'ROLE', 'ROLE_BINDING',
      // API authoring
      'defineAPI', 'Type', 'apiManifests', 'apiBinding', 'installAPIs', 'schemaSpecFromCRD', 'APIDefinitionError',
    ]) {
      expect(lib, name).to.have.property(name);
    }
    const testing = (await import(`${main}/testing`)) as Record<string, unknown>;
    expect(testing['startServer']).to.be.a('function');
    expect(testing['providerConformance']).to.be.a('function');
    expect(testing['providerConformanceChecks']).to.be.a('function');
  });
});
