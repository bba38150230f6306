import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OciError } from '@berth/oci';
import { formatBytes, nextBlocked, parseWriteGateSettings, quotaReason } from './write-gate-policy';

const QUOTA = { limitBytes: 10_000, blockAtBytes: 9000, resumeAtBytes: 8500 };

function problemOf(body: unknown): string {
  try {
    parseWriteGateSettings(body);
  } catch (err) {
    assert.ok(err instanceof OciError);
    assert.equal(err.status, 400);
    return err.message;
  }
  assert.fail('settings were accepted');
}

describe('write gate policy', () => {
  it('blocks at the block threshold and resumes only at the resume threshold', () => {
    assert.equal(nextBlocked(false, 8999, QUOTA), false);
    assert.equal(nextBlocked(false, 9000, QUOTA), true);
    // Between the thresholds the state carries over.
    assert.equal(nextBlocked(true, 8501, QUOTA), true);
    assert.equal(nextBlocked(false, 8501, QUOTA), false);
    assert.equal(nextBlocked(true, 8500, QUOTA), false);
    assert.equal(nextBlocked(true, 20_000, null), false);
  });

  it('explains a quota refusal in decimal units with the way out', () => {
    const reason = quotaReason(
      { limitBytes: 10e9, blockAtBytes: 9e9, resumeAtBytes: 8.5e9 },
      { blobBytes: 9.1e9, uploadBytes: 0, totalBytes: 9.1e9, blobs: 3, uploads: 0 },
    );
    assert.equal(
      reason,
      'storage quota reached: 9.1 GB of 10 GB used (91%); pushes resume at 8.5 GB or less: ' +
        'delete images and run garbage collection, or upgrade the tier',
    );
    assert.match(reason, /^[\x20-\x7e]+$/);
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1500), '1.5 kB');
    assert.equal(formatBytes(250e9), '250 GB');
    assert.equal(formatBytes(1.024e12), '1 TB');
  });

  it('accepts settings with both parts, null clearing either', () => {
    assert.deepEqual(parseWriteGateSettings({ quota: QUOTA, maintenance: null }), {
      quota: QUOTA,
      maintenance: null,
    });
    assert.deepEqual(
      parseWriteGateSettings({ quota: null, maintenance: { message: 'upgrade until 10:30 UTC' } }),
      { quota: null, maintenance: { message: 'upgrade until 10:30 UTC' } },
    );
    const equal = { limitBytes: 5, blockAtBytes: 5, resumeAtBytes: 5 };
    assert.deepEqual(parseWriteGateSettings({ quota: equal, maintenance: null }).quota, equal);
  });

  it('refuses invalid settings, naming the problem', () => {
    assert.match(problemOf([]), /body must be a JSON object/);
    assert.match(problemOf({ maintenance: null }), /quota is required/);
    assert.match(problemOf({ quota: null }), /maintenance is required/);
    assert.match(problemOf({ quota: null, maintenance: null, extra: 1 }), /unknown field "extra"/);
    assert.match(
      problemOf({ quota: { ...QUOTA, limitBytes: -1 }, maintenance: null }),
      /quota.limitBytes must be a whole number of bytes/,
    );
    assert.match(
      problemOf({ quota: { ...QUOTA, blockAtBytes: 1.5 }, maintenance: null }),
      /quota.blockAtBytes must be a whole number/,
    );
    assert.match(
      problemOf({ quota: { ...QUOTA, resumeAtBytes: '10' }, maintenance: null }),
      /quota.resumeAtBytes must be a whole number/,
    );
    assert.match(
      problemOf({ quota: { ...QUOTA, blockAtBytes: 10_001 }, maintenance: null }),
      /blockAtBytes must not exceed quota.limitBytes/,
    );
    assert.match(
      problemOf({ quota: { ...QUOTA, resumeAtBytes: 9001 }, maintenance: null }),
      /resumeAtBytes must not exceed quota.blockAtBytes/,
    );
    assert.match(
      problemOf({ quota: null, maintenance: { message: '' } }),
      /must have 1 to 500 characters/,
    );
    assert.match(
      problemOf({ quota: null, maintenance: { message: 'x'.repeat(501) } }),
      /must have 1 to 500 characters/,
    );
    assert.match(
      problemOf({ quota: null, maintenance: { message: 'line\nbreak' } }),
      /printable ASCII/,
    );
    assert.match(problemOf({ quota: null, maintenance: { message: '   ' } }), /printable ASCII/);
    assert.match(problemOf({ quota: null, maintenance: { message: 7 } }), /must be a string/);
  });
});
