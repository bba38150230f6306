import assert from 'node:assert/strict';

import { OciError, type OciErrorCode } from '../errors';

export interface ExpectedOciError {
  code: OciErrorCode;
  status?: number;
  /** Substring or pattern the message must contain. */
  message?: string | RegExp;
  /** Expected `detail.path`. */
  path?: string;
}

/** Test helper: `fn` must throw an OciError matching `expected`; returns it. */
export function assertOciError(fn: () => unknown, expected: ExpectedOciError): OciError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  assert.ok(thrown instanceof OciError, `expected an OciError, got ${String(thrown)}`);
  assert.equal(thrown.code, expected.code, `code (message: ${thrown.message})`);
  if (expected.status !== undefined) assert.equal(thrown.status, expected.status);
  if (typeof expected.message === 'string') {
    assert.ok(
      thrown.message.includes(expected.message),
      `message ${JSON.stringify(thrown.message)} should contain ${JSON.stringify(expected.message)}`,
    );
  } else if (expected.message !== undefined) {
    assert.match(thrown.message, expected.message);
  }
  if (expected.path !== undefined) {
    assert.deepEqual(thrown.detail, { path: expected.path }, `detail (message: ${thrown.message})`);
  }
  return thrown;
}
