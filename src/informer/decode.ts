/** Decoding one line of a watch stream into an event: one JSON.parse, a few shape checks. */
import type { Status } from '../client/index.js';
import type { KubeObject } from './types.js';

/** A watch event as the server sends it. */
export type WatchEvent =
  | {
      /** What happened; a `BOOKMARK` object carries only `metadata.resourceVersion`. */
      type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
      /** The object after the change; for `DELETED`, its last state. */
      object: KubeObject;
    }
  | {
      /** The watch failed; 410 Gone means the resume point expired and a relist is needed. */
      type: 'ERROR';
      /** Why, as a Kubernetes `Status`. */
      object: Status;
    };

/** A line that is not a watch event; reported, then skipped. */
export interface MalformedLine {
  /** Always `MALFORMED`. */
  type: 'MALFORMED';
  /** What is wrong with the line: not JSON, an unknown `type`, no object, or no metadata. */
  reason: string;
  /** The start of the line, for the log. */
  excerpt: string;
}

const TYPES = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);
const EXCERPT = 200;

function malformed(reason: string, line: string): MalformedLine {
  return { type: 'MALFORMED', reason, excerpt: line.length > EXCERPT ? line.slice(0, EXCERPT) + '…' : line };
}

/** Parses one line; never throws. */
export function decodeWatchLine(line: string): WatchEvent | MalformedLine {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (e) {
    return malformed(`not JSON: ${(e as Error).message}`, line);
  }
  if (parsed === null || typeof parsed !== 'object') return malformed('not a JSON object', line);
  const ev = parsed as { type?: unknown; object?: unknown };
  if (typeof ev.type !== 'string' || !TYPES.has(ev.type)) return malformed(`unknown event type ${JSON.stringify(ev.type)}`, line);
  if (ev.object === null || typeof ev.object !== 'object' || Array.isArray(ev.object)) return malformed('event without an object', line);
  if (ev.type !== 'ERROR') {
    const meta = (ev.object as KubeObject).metadata;
    if (meta === null || typeof meta !== 'object') return malformed(`${ev.type} event whose object has no metadata`, line);
  }
  return ev as WatchEvent;
}
