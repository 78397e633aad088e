/**
 * Keep-alive connection pools, one per (origin, TLS material), shared by a Transport and everything
 * derived from it with `withServer`. client-node 1.4.0 builds a fresh agent per request, which costs
 * a TCP connection and a TLS handshake every time; reusing ours keeps a controller on a few sockets.
 * Connections are undici's: its HTTP/1.1 engine costs about half the CPU of node:http per request.
 */
import { createHash } from 'node:crypto';
import type * as https from 'node:https';
import type { Socket } from 'node:net';
import * as tls from 'node:tls';
import { buildConnector } from './undici-core.js';
import { Connections } from './connections.js';

/** TLS settings that decide which pool (and so which sockets) a request may use. */
export type TLSMaterial = Pick<https.AgentOptions, 'ca' | 'cert' | 'key' | 'pfx' | 'passphrase' | 'rejectUnauthorized' | 'servername'>;

/** Socket counters for one origin. */
export interface SocketStats {
  /** `scheme://host:port` the sockets connect to. */
  origin: string;
  /** Sockets opened to this origin since the pool started (a reused keep-alive socket counts once). */
  created: number;
  /** Sockets to this origin not yet closed. */
  open: number;
}

interface Entry {
  readonly pool: Connections;
  readonly users: Set<object>;
}

/** The material a secure context is built from (one per pool). */
const CONTEXT_FIELDS = ['ca', 'cert', 'key', 'pfx', 'passphrase'] as const;
const MATERIAL_FIELDS = [...CONTEXT_FIELDS, 'rejectUnauthorized', 'servername'] as const;

// KeyObject and PFX objects have no cheap canonical bytes; identity is good enough for them.
const objectIds = new WeakMap<object, number>();
let nextObjectId = 0;

function feed(h: ReturnType<typeof createHash>, v: unknown): void {
  if (v === undefined || v === null) h.update('\0-');
  else if (Array.isArray(v)) {
    h.update(`\0[${v.length}`);
    for (const x of v) feed(h, x);
  } else if (Buffer.isBuffer(v)) h.update('\0b').update(v);
  else if (typeof v === 'object') {
    let id = objectIds.get(v);
    if (id === undefined) objectIds.set(v, (id = nextObjectId++));
    h.update(`\0o${id}`);
  } else h.update(`\0${typeof v}:${String(v)}`);
}

// A digest rather than the PEM strings themselves: the key stays short and no key material sits in a Map key.
function materialKey(tls: TLSMaterial): string {
  const h = createHash('sha256');
  for (const k of MATERIAL_FIELDS) feed(h, tls[k]);
  return h.digest('hex');
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  return false;
}

function sameMaterial(a: TLSMaterial, b: TLSMaterial): boolean {
  for (const k of MATERIAL_FIELDS) if (!sameValue(a[k], b[k])) return false;
  return true;
}

/**
 * undici's connector options for this material: one secure context for every connection of the
 * pool. Given `ca`, `cert` and `key`, node:tls builds a context per connection, parsing the CA
 * bundle and the key every time (about a millisecond of CPU each): a replica renewing thousands of
 * Leases spent most of its time there whenever it opened connections.
 */
function connectOptions(material: TLSMaterial): buildConnector.BuildOptions {
  const o: Record<string, unknown> = {};
  // undefined values stay out: the connector would pass `servername: undefined` on.
  if (material.rejectUnauthorized !== undefined) o['rejectUnauthorized'] = material.rejectUnauthorized;
  if (material.servername !== undefined) o['servername'] = material.servername;
  const context: tls.SecureContextOptions = {};
  for (const k of CONTEXT_FIELDS) if (material[k] !== undefined) (context as Record<string, unknown>)[k] = material[k];
  o['secureContext'] = tls.createSecureContext(context);
  return o as buildConnector.BuildOptions;
}

/** A pool of keep-alive connection pools, reference-counted by the transports that use them. */
export class AgentPool {
  private readonly entries = new Map<string, Entry>();
  private readonly stats = new Map<string, SocketStats>();
  private readonly seen = new WeakSet<Socket>();
  private closed = false;
  // client-node hands out fresh copies of the same TLS material on every request: comparing them
  // with the last material seen is far cheaper than digesting them again.
  private last: { tls: TLSMaterial; key: string } | undefined;

  constructor(private readonly maxSockets: number | undefined) {}

  private keyOf(tls: TLSMaterial): string {
    if (this.last && sameMaterial(this.last.tls, tls)) return this.last.key;
    const key = materialKey(tls);
    this.last = { tls, key };
    return key;
  }

  /** The connection pool for `origin` and this TLS material, created on first use; `user` keeps it alive. */
  poolFor(origin: string, tls: TLSMaterial, user: object): Connections {
    const https = origin.startsWith('https:');
    const key = https ? `${origin}#${this.keyOf(tls)}` : origin;
    if (this.closed) throw new Error('transport is closed');
    let e = this.entries.get(key);
    if (!e) {
      const base = buildConnector(https ? connectOptions(tls) : {});
      const pool = new Connections(
        origin,
        {
          // Counts every socket opened, for socketStats().
          connect: (opts, cb) =>
            base(opts, (...args) => {
              if (args[1]) this.track(origin, args[1]);
              cb(...args);
            }),
          // Watches stay quiet for minutes; the watch's own timeout (server side) ends them.
          bodyTimeout: 0,
        },
        this.maxSockets,
      );
      e = { pool, users: new Set() };
      this.entries.set(key, e);
    }
    e.users.add(user);
    return e.pool;
  }

  /** Counts a socket handed to a request: new sockets add to `created` and `open` until they close. */
  track(origin: string, socket: Socket): void {
    if (this.seen.has(socket)) return;
    this.seen.add(socket);
    let s = this.stats.get(origin);
    if (!s) {
      s = { origin, created: 0, open: 0 };
      this.stats.set(origin, s);
    }
    const st = s;
    st.created++;
    st.open++;
    socket.once('close', () => {
      st.open--;
    });
  }

  /** A snapshot of the socket counters per origin. */
  socketStats(): SocketStats[] {
    return [...this.stats.values()].map((s) => ({ ...s }));
  }

  /** Destroys every pool and its sockets; the pool refuses new ones afterwards. */
  destroyAll(): void {
    this.closed = true;
    for (const e of this.entries.values()) e.pool.destroy();
    this.entries.clear();
  }

  /** Drops `user` from every pool; pools nobody uses any more are destroyed with their sockets. */
  release(user: object): void {
    for (const [key, e] of this.entries) {
      if (!e.users.delete(user)) continue;
      if (e.users.size === 0) {
        e.pool.destroy();
        this.entries.delete(key);
      }
    }
  }
}
