/** Typed API errors from Status bodies, non-Status bodies and Retry-After. */
import { expect } from 'chai';
import {
  ApiError,
  apiErrorFromResponse,
  apiErrorFromStatus,
  isAlreadyExists,
  isConflict,
  isForbidden,
  isGone,
  isInvalid,
  isNetworkError,
  isNotFound,
  isResourceVersionTooLarge,
  isServerTimeout,
  isTooManyRequests,
  isUnauthorized,
  NetworkError,
  parseRetryAfter,
} from '../../src/client/index.js';

const status = (code: number, reason: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `msg ${reason}`, reason, code, ...extra });

describe('client: ApiError from Status', () => {
  it('decodes code, reason, message and details', () => {
    const e = apiErrorFromResponse(404, status(404, 'NotFound', { details: { name: 'x', kind: 'configmaps' } }), {}, { method: 'GET', path: '/p' });
    expect(e).to.be.instanceOf(ApiError);
    expect(e.code).to.equal(404);
    expect(e.reason).to.equal('NotFound');
    expect(e.message).to.equal('msg NotFound');
    expect(e.details).to.deep.equal({ name: 'x', kind: 'configmaps' });
    expect(e.request).to.deep.equal({ method: 'GET', path: '/p' });
    expect(isNotFound(e)).to.equal(true);
  });

  it('maps each reason to its predicate and no other', () => {
    const preds = { isNotFound, isAlreadyExists, isConflict, isInvalid, isForbidden, isUnauthorized, isGone, isTooManyRequests, isServerTimeout };
    const table: [number, string, keyof typeof preds][] = [
      [404, 'NotFound', 'isNotFound'],
      [409, 'AlreadyExists', 'isAlreadyExists'],
      [409, 'Conflict', 'isConflict'],
      [422, 'Invalid', 'isInvalid'],
      [403, 'Forbidden', 'isForbidden'],
      [401, 'Unauthorized', 'isUnauthorized'],
      [410, 'Expired', 'isGone'],
      [410, 'Gone', 'isGone'],
      [429, 'TooManyRequests', 'isTooManyRequests'],
      [500, 'ServerTimeout', 'isServerTimeout'],
    ];
    for (const [code, reason, want] of table) {
      const e = apiErrorFromResponse(code, status(code, reason));
      for (const [name, p] of Object.entries(preds)) expect(p(e), `${reason} ${name}`).to.equal(name === want);
    }
  });

  it('recognises 504 ResourceVersionTooLarge, and not a plain 504', () => {
    const tooLarge = apiErrorFromResponse(
      504,
      status(504, 'Timeout', { details: { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 } }),
    );
    expect(isResourceVersionTooLarge(tooLarge)).to.equal(true);
    expect(tooLarge.retryAfterSeconds).to.equal(1);
    expect(isResourceVersionTooLarge(apiErrorFromResponse(504, status(504, 'Timeout')))).to.equal(false);
  });

  it('gives non-Status bodies the reason of their HTTP code', () => {
    const html = apiErrorFromResponse(503, '<html>bad gateway</html>');
    expect(html.reason).to.equal('ServiceUnavailable');
    expect(html.message).to.contain('HTTP 503');
    expect(html.status).to.equal(undefined);
    expect(isNotFound(apiErrorFromResponse(404, ''))).to.equal(true);
    expect(isConflict(apiErrorFromResponse(409, '{"not":"a status"}'))).to.equal(true);
    expect(apiErrorFromResponse(418, 'teapot').reason).to.equal('Unknown');
  });

  it('reads Retry-After from the header before details.retryAfterSeconds', () => {
    const e = apiErrorFromResponse(429, status(429, 'TooManyRequests', { details: { retryAfterSeconds: 7 } }), { 'retry-after': '2' });
    expect(e.retryAfterSeconds).to.equal(2);
    expect(apiErrorFromResponse(429, status(429, 'TooManyRequests', { details: { retryAfterSeconds: 7 } })).retryAfterSeconds).to.equal(7);
    expect(apiErrorFromResponse(429, 'slow down').retryAfterSeconds).to.equal(undefined);
  });

  it('decodes an in-stream watch ERROR Status', () => {
    const e = apiErrorFromStatus({ kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 1 (5)' });
    expect(isGone(e)).to.equal(true);
    expect(e.message).to.contain('too old');
  });
});

describe('client: parseRetryAfter', () => {
  it('parses delta seconds and HTTP dates', () => {
    expect(parseRetryAfter('3')).to.equal(3);
    expect(parseRetryAfter(' 0 ')).to.equal(0);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).to.equal(5);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).to.equal(0);
  });
  it('ignores garbage and absence', () => {
    expect(parseRetryAfter(undefined)).to.equal(undefined);
    expect(parseRetryAfter('')).to.equal(undefined);
    expect(parseRetryAfter('soon')).to.equal(undefined);
    expect(parseRetryAfter('-1')).to.equal(undefined);
  });
});

describe('client: isNetworkError', () => {
  it('is true for NetworkError and socket error codes, false for API errors and aborts', () => {
    expect(isNetworkError(new NetworkError('x', { code: 'ECONNRESET' }))).to.equal(true);
    expect(isNetworkError(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))).to.equal(true);
    expect(isNetworkError(apiErrorFromResponse(500, ''))).to.equal(false);
    const abort = new Error('aborted');
    abort.name = 'AbortError';
    expect(isNetworkError(abort)).to.equal(false);
  });
});
