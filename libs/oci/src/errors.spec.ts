import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  OciError,
  OciErrorCode,
  isOciError,
  ociErrorBody,
  ociErrorMessage,
  ociErrorStatus,
} from './errors';

describe('OciErrorCode', () => {
  it('has string values equal to the names', () => {
    for (const [name, value] of Object.entries(OciErrorCode)) assert.equal(value, name);
    assert.equal(Object.keys(OciErrorCode).length, 17);
  });

  it('maps codes to the statuses of the distribution spec', () => {
    const expected: Record<OciErrorCode, number> = {
      [OciErrorCode.BLOB_UNKNOWN]: 404,
      [OciErrorCode.BLOB_UPLOAD_INVALID]: 400,
      [OciErrorCode.BLOB_UPLOAD_UNKNOWN]: 404,
      [OciErrorCode.DIGEST_INVALID]: 400,
      [OciErrorCode.MANIFEST_BLOB_UNKNOWN]: 400,
      [OciErrorCode.MANIFEST_INVALID]: 400,
      [OciErrorCode.MANIFEST_UNKNOWN]: 404,
      [OciErrorCode.NAME_INVALID]: 400,
      [OciErrorCode.NAME_UNKNOWN]: 404,
      [OciErrorCode.SIZE_INVALID]: 400,
      [OciErrorCode.UNAUTHORIZED]: 401,
      [OciErrorCode.DENIED]: 403,
      [OciErrorCode.UNSUPPORTED]: 405,
      [OciErrorCode.TOOMANYREQUESTS]: 429,
      [OciErrorCode.RANGE_INVALID]: 416,
      [OciErrorCode.UNAVAILABLE]: 503,
      [OciErrorCode.PAGINATION_NUMBER_INVALID]: 400,
    };
    for (const code of Object.values(OciErrorCode)) {
      assert.equal(ociErrorStatus(code), expected[code], code);
      assert.ok(ociErrorMessage(code).length > 0, code);
    }
  });
});

describe('OciError', () => {
  it('defaults message and status from the code', () => {
    const err = new OciError(OciErrorCode.BLOB_UNKNOWN);
    assert.ok(err instanceof Error);
    assert.ok(isOciError(err));
    assert.equal(err.name, 'OciError');
    assert.equal(err.code, OciErrorCode.BLOB_UNKNOWN);
    assert.equal(err.status, 404);
    assert.equal(err.message, 'blob unknown to registry');
    assert.equal(err.detail, undefined);
    assert.deepEqual(err.headers, {});
  });

  it('takes message, status, detail, headers and cause', () => {
    const cause = new Error('boom');
    const err = new OciError(OciErrorCode.UNAUTHORIZED, 'login first', {
      status: 418,
      detail: { scope: 'repository:a:pull' },
      headers: { 'WWW-Authenticate': 'Bearer realm="x"' },
      cause,
    });
    assert.equal(err.message, 'login first');
    assert.equal(err.status, 418);
    assert.deepEqual(err.detail, { scope: 'repository:a:pull' });
    assert.deepEqual(err.headers, { 'WWW-Authenticate': 'Bearer realm="x"' });
    assert.equal(err.cause, cause);
  });

  it('does not share or expose a mutable headers object', () => {
    const headers = { 'Retry-After': '1' };
    const err = new OciError(OciErrorCode.TOOMANYREQUESTS, undefined, { headers });
    headers['Retry-After'] = '99';
    assert.equal(err.headers['Retry-After'], '1');
    assert.ok(Object.isFrozen(err.headers));
  });

  it('is not confused with other errors', () => {
    assert.ok(!isOciError(new Error('x')));
    assert.ok(!isOciError({ code: 'BLOB_UNKNOWN' }));
  });
});

describe('ociErrorBody', () => {
  it('wraps one error', () => {
    assert.deepEqual(ociErrorBody(new OciError(OciErrorCode.DENIED)), {
      errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }],
    });
  });

  it('wraps several errors and keeps details', () => {
    const body = ociErrorBody([
      new OciError(OciErrorCode.MANIFEST_BLOB_UNKNOWN, 'blob unknown', {
        detail: { digest: 'sha256:x' },
      }),
      new OciError(OciErrorCode.NAME_UNKNOWN, 'no such repo'),
    ]);
    assert.deepEqual(body, {
      errors: [
        { code: 'MANIFEST_BLOB_UNKNOWN', message: 'blob unknown', detail: { digest: 'sha256:x' } },
        { code: 'NAME_UNKNOWN', message: 'no such repo' },
      ],
    });
    assert.ok(!('detail' in (body.errors[1] ?? {})));
    assert.equal(
      JSON.stringify(body),
      '{"errors":[{"code":"MANIFEST_BLOB_UNKNOWN","message":"blob unknown","detail":{"digest":"sha256:x"}},{"code":"NAME_UNKNOWN","message":"no such repo"}]}',
    );
  });
});
