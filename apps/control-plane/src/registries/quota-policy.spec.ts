import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { upgradeDue, writeGateFor } from './quota-policy';

const thresholds = { blockPercent: 90, resumePercent: 85 };
const GB = 1_000_000_000;

describe('quota policy', () => {
  it('read_only blocks at 90 % and resumes at 85 % of the tier disk', () => {
    const gate = writeGateFor({
      policy: 'read_only',
      diskBytes: 10 * GB,
      hasLargerTier: true,
      maintenanceMessage: null,
      thresholds,
    });
    assert.deepEqual(gate, {
      quota: { limitBytes: 10 * GB, blockAtBytes: 9 * GB, resumeAtBytes: 8.5 * GB },
      maintenance: null,
    });
  });

  it('auto_upgrade below the largest tier only enforces the disk as a hard cap', () => {
    const gate = writeGateFor({
      policy: 'auto_upgrade',
      diskBytes: 10 * GB,
      hasLargerTier: true,
      maintenanceMessage: 'migrating',
      thresholds,
    });
    assert.deepEqual(gate.quota, {
      limitBytes: 10 * GB,
      blockAtBytes: 10 * GB,
      resumeAtBytes: 9 * GB,
    });
    assert.deepEqual(gate.maintenance, { message: 'migrating' });
  });

  it('auto_upgrade at the largest tier falls back to read_only', () => {
    const gate = writeGateFor({
      policy: 'auto_upgrade',
      diskBytes: 10 * GB,
      hasLargerTier: false,
      maintenanceMessage: null,
      thresholds,
    });
    assert.equal(gate.quota?.blockAtBytes, 9 * GB);
    assert.equal(gate.quota?.resumeAtBytes, 8.5 * GB);
  });

  it('an upgrade is due from 90 % on auto_upgrade with a larger tier, never otherwise', () => {
    const at = (usedBytes: number, policy: 'read_only' | 'auto_upgrade', hasLargerTier = true) =>
      upgradeDue({ policy, usedBytes, diskBytes: 10 * GB, hasLargerTier, thresholds });
    assert.equal(at(9 * GB - 1, 'auto_upgrade'), false);
    assert.equal(at(9 * GB, 'auto_upgrade'), true);
    assert.equal(at(9.5 * GB, 'read_only'), false);
    assert.equal(at(9.5 * GB, 'auto_upgrade', false), false);
  });
});
