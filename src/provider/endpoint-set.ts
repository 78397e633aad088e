/**
 * The endpoints (one per shard's virtual-workspace URL) a provider watches now, and a stream of
 * their comings and goings: what the cross-shard views (`provider.lister()`, aggregate informers)
 * are built on, so that a shard that joins is included and one that leaves is dropped without a
 * restart.
 */
import { Subject, type Observable } from '../informer/rx.js';
import type { Endpoint } from './endpoint.js';

/** One endpoint joining or leaving the set. */
export interface EndpointChange {
  /** Whether the endpoint joined the set or left it. */
  readonly type: 'added' | 'removed';
  /** The endpoint (one shard's virtual-workspace URL). */
  readonly endpoint: Endpoint;
}

/** The provider's current endpoints by URL, with change notifications. */
export class EndpointSet {
  private readonly byURL = new Map<string, Endpoint>();
  private readonly subject = new Subject<EndpointChange>();
  /** Every later addition and removal, in order; completes when the set is closed. */
  readonly changes$: Observable<EndpointChange> = this.subject.asObservable();

  /** The endpoints now, in the order they joined. */
  list(): Endpoint[] {
    return [...this.byURL.values()];
  }

  /** The endpoint serving `url`, if any. */
  get(url: string): Endpoint | undefined {
    return this.byURL.get(url);
  }

  /** Adds an endpoint (a second one for the same URL replaces the first, which is reported removed). */
  add(endpoint: Endpoint): void {
    const old = this.byURL.get(endpoint.url);
    if (old === endpoint) return;
    if (old) this.remove(old);
    this.byURL.set(endpoint.url, endpoint);
    this.subject.next({ type: 'added', endpoint });
  }

  /** Removes an endpoint; reported before its caches are closed, so views can still read them. */
  remove(endpoint: Endpoint): void {
    if (this.byURL.get(endpoint.url) !== endpoint) return;
    this.byURL.delete(endpoint.url);
    this.subject.next({ type: 'removed', endpoint });
  }

  /** Ends the change stream (the provider stopped). */
  close(): void {
    for (const ep of this.list()) this.remove(ep);
    this.subject.complete();
  }
}
