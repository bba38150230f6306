import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LoginThrottle } from './login-throttle';
import { RateLimiter } from './rate-limiter';

describe('login throttle', () => {
  it('locks a user and an IP out after the threshold, until the cool-down ends', () => {
    let now = 0;
    const throttle = new LoginThrottle(
      { threshold: 3, windowMs: 1000, cooldownMs: 5000 },
      () => now,
    );
    assert.deepEqual(throttle.fail('alice', '10.0.0.1'), []);
    assert.deepEqual(throttle.fail('alice', '10.0.0.1'), []);
    const started = throttle.fail('alice', '10.0.0.1');
    assert.deepEqual(started.map((l) => l.subject).sort(), ['ip', 'user']);
    assert.equal(throttle.retryAfterMs('alice', '10.0.0.2'), 5000);
    assert.equal(throttle.retryAfterMs('bob', '10.0.0.1'), 5000);
    assert.equal(throttle.retryAfterMs('bob', '10.0.0.2'), 0);
    now = 5000;
    assert.equal(throttle.retryAfterMs('alice', '10.0.0.1'), 0);
  });

  it('forgets failures outside the window and resets the user on success', () => {
    let now = 0;
    const throttle = new LoginThrottle(
      { threshold: 2, windowMs: 1000, cooldownMs: 5000 },
      () => now,
    );
    throttle.fail('alice', 'a');
    now = 1500;
    assert.deepEqual(throttle.fail('alice', 'b'), []);
    throttle.succeed('alice');
    assert.deepEqual(throttle.fail('alice', 'c'), []);
  });

  it('counts anonymous failures against the IP only', () => {
    const throttle = new LoginThrottle({ threshold: 1, windowMs: 1000, cooldownMs: 1000 }, () => 0);
    assert.deepEqual(
      throttle.fail(undefined, 'x').map((l) => l.subject),
      ['ip'],
    );
  });
});

describe('rate limiter', () => {
  it('allows the limit per window and tells how long to wait', () => {
    let now = 0;
    const limiter = new RateLimiter(2, 1000, () => now);
    assert.equal(limiter.take('a'), 0);
    assert.equal(limiter.take('a'), 0);
    now = 400;
    assert.equal(limiter.take('a'), 600);
    assert.equal(limiter.take('b'), 0);
    now = 1000;
    assert.equal(limiter.take('a'), 0);
  });

  it('is off at 0', () => {
    const limiter = new RateLimiter(0, 1000);
    for (let i = 0; i < 1000; i++) assert.equal(limiter.take('a'), 0);
  });
});
