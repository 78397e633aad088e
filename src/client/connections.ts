/**
 * Keep-alive connections to one origin, one request at a time on each, handed out like node:http's
 * keep-alive agent does. undici's own Pool lets a connection take its next request only one event
 * loop turn after the last answer ended, and opens another connection for anything asked sooner:
 * a controller that writes right after each answer would keep opening sockets (and TLS handshakes).
 * Here the next request is queued on the connection that just finished, and undici sends it as soon
 * as the connection is ready again.
 */
import { Client } from './undici-core.js';

/**
 * Idle connections kept per origin beyond which the longest idle is closed: node:http's agent
 * default. A lower bound churns sockets (a TLS handshake each) whenever the requests in flight
 * go up and down above it, as a replica renewing thousands of Leases does; idle sockets close on
 * their own after undici's keep-alive timeout anyway.
 */
export const MAX_IDLE = 256;

/** Gives a borrowed connection back; later calls do nothing. */
export type Release = () => void;

/** One request's turn on a connection: `start` sends it; `closed` fails it if the connections close first. */
export interface Turn {
  /**
   * Sends the request on `client`; `release` must be called once the request is over. `reused`:
   * the connection's socket already carried an earlier request (a failure on it may be a keep-alive
   * socket the server closed while idle).
   */
  start(client: Client, release: Release, reused: boolean): void;
  /** Fails the request: the connections were closed while it waited for one. */
  closed(): void;
}

/** Connections to one origin, at most `cap` of them (unlimited when undefined). */
export class Connections {
  private readonly clients: Client[] = [];
  // Most recently released last: reusing the warmest socket lets idle ones time out (like 'lifo').
  private readonly free: Client[] = [];
  private readonly waiting: Turn[] = [];
  // Clients whose socket is open and has carried a request.
  private readonly warm = new WeakSet<Client>();
  private destroyed = false;

  constructor(
    private readonly origin: string,
    private readonly options: Client.Options,
    private readonly cap: number | undefined,
  ) {}

  /** Starts `turn` on a connection of its own, now or once one is free. */
  run(turn: Turn): void {
    if (this.destroyed) return turn.closed();
    let client = this.free.pop();
    if (!client) {
      if (this.cap !== undefined && this.clients.length >= this.cap) {
        this.waiting.push(turn);
        return;
      }
      const c = (client = new Client(this.origin, this.options));
      c.on('disconnect', () => this.warm.delete(c));
      this.clients.push(client);
    }
    this.lend(client, turn);
  }

  private lend(client: Client, turn: Turn): void {
    let released = false;
    const reused = this.warm.has(client);
    this.warm.add(client);
    const release = (): void => {
      if (released) return;
      released = true;
      if (this.destroyed) return;
      const next = this.waiting.shift();
      if (next) return this.lend(client, next);
      this.free.push(client);
      // A burst (or many watches ending) leaves many idle connections; keep as many as
      // node:http's agent keeps free sockets, closing the longest idle.
      if (this.free.length > MAX_IDLE) this.retire(this.free.shift()!);
    };
    turn.start(client, release, reused);
  }

  private retire(client: Client): void {
    const i = this.clients.indexOf(client);
    if (i >= 0) this.clients.splice(i, 1);
    client.close().catch(() => undefined);
  }


  /** Closes every connection; requests in flight fail with their own errors, waiting ones as closed. */
  destroy(): void {
    this.destroyed = true;
    this.free.length = 0;
    for (const c of this.clients) c.destroy().catch(() => undefined);
    this.clients.length = 0;
    for (const t of this.waiting.splice(0)) t.closed();
  }
}
