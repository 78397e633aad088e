/** Errors of sharding. */

/** The cluster exists, but another replica of the group owns it now. */
export class ClusterNotOwnedError extends Error {
  /** The name asked for. */
  readonly cluster: string;
  /** The replica that owns it, when known. */
  readonly owner: string | undefined;
  constructor(cluster: string, owner?: string) {
    super(`cluster ${JSON.stringify(cluster)} is owned by ${owner ? `replica ${JSON.stringify(owner)}` : 'another replica'}, not this one`);
    this.name = 'ClusterNotOwnedError';
    this.cluster = cluster;
    this.owner = owner;
  }
}

/** True for a `ClusterNotOwnedError` (also across copies of the library). */
export function isClusterNotOwned(err: unknown): err is ClusterNotOwnedError {
  return err instanceof ClusterNotOwnedError || (err instanceof Error && err.name === 'ClusterNotOwnedError');
}
