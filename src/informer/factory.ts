/**
 * `InformerFactory`: hands out shared informers, one per (base URL, resource, selectors), so that
 * many controllers watching the same thing share one connection and one cache. An informer leaves
 * the factory's table when its last subscriber leaves, so URLs and selectors that are no longer
 * watched do not accumulate.
 */
import type { Transport } from '../client/index.js';
import { SharedInformer, informerKey, type InformerOptions } from './informer.js';
import { resourcePath, type KubeObject } from './types.js';

/** What to watch: an informer's options plus the base URL. */
export interface InformerRequest<T extends KubeObject = KubeObject> extends InformerOptions<T> {
  /** Absolute base URL (e.g. a VW endpoint URL with `/clusters/*`); default the transport's server. */
  server?: string;
  /**
   * Keeps this informer apart from every other request for the same thing (only requests with the
   * same `own` share it): for a cache whose transform leaves objects incomplete, which must not
   * serve anyone who expects whole objects.
   */
  own?: string;
}

/** Shares informers among their users. */
export class InformerFactory {
  private readonly informers = new Map<string, SharedInformer<KubeObject>>();
  private readonly transports = new Map<string, Transport>();
  private closed = false;

  /**
   * @param transport credentials and TLS for every base URL (other URLs via `withServer`)
   * @param defaults options applied to every informer unless its request overrides them
   */
  constructor(
    private readonly transport: Transport,
    private readonly defaults: Omit<InformerOptions, 'path' | 'resource' | 'labelSelector' | 'fieldSelector' | 'indexers' | 'transform'> = {},
  ) {
    this.transports.set(transport.server, transport);
  }

  /** The informer for this request, shared with every other request for the same thing. */
  informer<T extends KubeObject = KubeObject>(req: InformerRequest<T>): SharedInformer<T> {
    if (this.closed) throw new Error('informer factory is closed');
    const transport = this.transportFor(req.server ?? this.transport.server);
    const path = req.path ?? (req.resource ? resourcePath(req.resource) : undefined);
    if (!path) throw new Error('an informer needs a path or a resource');
    const key = informerKey(transport.server, path, req.labelSelector, req.fieldSelector) + (req.own ? `#${req.own}` : '');
    const existing = this.informers.get(key) as SharedInformer<T> | undefined;
    if (existing) {
      if (req.indexers) existing.addIndexers(req.indexers);
      return existing;
    }
    const { server: _ignored, own: _own, ...opts } = req;
    const inf: SharedInformer<T> = new SharedInformer<T>(transport, { ...this.defaults, ...opts, path } as InformerOptions<T>, {
      // A stopped informer may still be held and restarted by someone; it takes its slot back.
      onStart: () => {
        if (!this.closed && !this.informers.has(key)) this.informers.set(key, inf as unknown as SharedInformer<KubeObject>);
      },
      onStop: () => {
        if (this.informers.get(key) === (inf as unknown as SharedInformer<KubeObject>)) this.informers.delete(key);
      },
    });
    this.informers.set(key, inf as unknown as SharedInformer<KubeObject>);
    return inf;
  }

  /** Informers currently in the table (running, or handed out and not yet started). */
  list(): SharedInformer<KubeObject>[] {
    return [...this.informers.values()];
  }

  /** Stops every informer and releases the connections of the base URLs it opened. */
  close(): void {
    this.closed = true;
    for (const inf of [...this.informers.values()]) inf.stop();
    this.informers.clear();
    for (const t of this.transports.values()) if (t !== this.transport) t.close();
    this.transports.clear();
  }

  private transportFor(server: string): Transport {
    const s = server.replace(/\/+$/, '');
    let t = this.transports.get(s);
    if (!t) {
      t = this.transport.withServer(s);
      this.transports.set(s, t);
    }
    return t;
  }
}
