/** Catching the ApiError a server function throws, for the unit tests that check refusals. */
import { expect } from 'chai';
import { ApiError } from '../../src/server/http/index.js';

/** The ApiError `fn` throws; anything else it throws propagates, and returning normally fails. */
export function apiErrorOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  return expect.fail('expected an ApiError');
}

/** The ApiError `fn` throws, checked to carry this HTTP code and reason. */
export function apiErrorWith(fn: () => unknown, code: number, reason: string): ApiError {
  const err = apiErrorOf(fn);
  expect(err.code).to.equal(code);
  expect(err.reason).to.equal(reason);
  return err;
}
