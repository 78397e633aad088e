/**
 * undici's `Client` and connector, loaded from their own modules. undici's package index loads all
 * of undici (fetch, WebSocket, caches, mock agents): 5.2 MiB of heap in every process, against
 * 1.7 MiB for the two pieces the transport uses. The package has no exports map and is pinned, so
 * these paths are part of the version we ship with.
 */
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

const load = createRequire(import.meta.url);

/** undici's HTTP/1.1 client of one origin. */
export const Client = load('undici/lib/dispatcher/client.js') as typeof Undici.Client;
/** An undici client of one origin. */
export type Client = Undici.Client;
// Types of Client's namespace (options), under the name the code uses.
export declare namespace Client {
  type Options = Undici.Client.Options;
}

/** undici's socket connector (TCP or TLS, with session reuse). */
export const buildConnector = load('undici/lib/core/connect.js') as typeof Undici.buildConnector;
// Types of the connector's namespace (its options).
export declare namespace buildConnector {
  type BuildOptions = Undici.buildConnector.BuildOptions;
}
