/** Reading a response body stream whole. */
import type { Readable } from 'node:stream';
import { NetworkError } from './errors.js';

// Listeners rather than `for await`: the async iterator costs a promise and a queue per chunk,
// and most answers are one chunk.
/** The whole body as bytes; rejects when the stream fails or is destroyed before its end. */
export function readBytes(body: Readable): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onData = (c: Buffer | string): void => void chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(e);
    };
    // A body destroyed before its end (an abort) ends without 'end'.
    const onClose = (): void => {
      cleanup();
      reject(body.errored ?? new NetworkError('response body closed before its end', { code: 'ECONNRESET' }));
    };
    const cleanup = (): void => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('close', onClose);
    };
    if (body.readableEnded) return resolve(Buffer.alloc(0));
    if (body.destroyed) return onClose();
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
    body.once('close', onClose);
  });
}

/** The whole body as UTF-8 text. */
export async function readText(body: Readable): Promise<string> {
  return (await readBytes(body)).toString('utf8');
}
