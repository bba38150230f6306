import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OciError } from '@berth/oci';
import { hourOf, parseEgressSince } from './egress-hour';

function problemOf(value: unknown): string {
  try {
    parseEgressSince(value);
  } catch (err) {
    assert.ok(err instanceof OciError);
    assert.equal(err.status, 400);
    return err.message;
  }
  assert.fail(`${String(value)} was accepted`);
}

describe('egress hours', () => {
  it('floors a time to the start of its UTC hour', () => {
    assert.equal(
      new Date(hourOf(Date.parse('2026-11-23T09:59:59.999Z'))).toISOString(),
      '2026-11-23T09:00:00.000Z',
    );
  });

  it('accepts the start of an hour in any zone', () => {
    assert.equal(
      parseEgressSince('2026-11-23T09:00:00Z').toISOString(),
      '2026-11-23T09:00:00.000Z',
    );
    assert.equal(parseEgressSince('2026-11-23T09:00Z').toISOString(), '2026-11-23T09:00:00.000Z');
    assert.equal(
      parseEgressSince('2026-11-23T10:00:00.000+01:00').toISOString(),
      '2026-11-23T09:00:00.000Z',
    );
  });

  it('refuses a missing, repeated, malformed, impossible or unaligned since', () => {
    assert.match(problemOf(undefined), /since is required/);
    assert.match(problemOf(['2026-11-23T09:00:00Z', '2026-11-23T10:00:00Z']), /given once/);
    assert.match(problemOf('yesterday'), /not an ISO 8601 timestamp with a zone/);
    assert.match(problemOf('2026-11-23T09:00:00'), /not an ISO 8601 timestamp with a zone/);
    assert.match(problemOf('2026-02-30T09:00:00Z'), /not a valid date and time/);
    assert.match(problemOf('2026-11-23T24:00:00Z'), /not a valid date and time/);
    assert.match(problemOf('2026-11-23T09:30:00Z'), /not the start of a UTC hour/);
    assert.match(problemOf('2026-11-23T09:00:00+05:30'), /not the start of a UTC hour/);
  });
});
