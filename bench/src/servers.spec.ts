import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { berthEnvOverrides } from './servers';

describe('BENCH_BERTH_ENV', () => {
  it('reads NAME=value pairs', () => {
    assert.deepEqual(berthEnvOverrides('REGISTRY_HASH_WORKERS=0  STORAGE_FS_READS=pool'), {
      REGISTRY_HASH_WORKERS: '0',
      STORAGE_FS_READS: 'pool',
    });
    assert.deepEqual(berthEnvOverrides(''), {});
  });

  it('keeps a value with spaces: words that name nothing continue the value before them', () => {
    assert.deepEqual(
      berthEnvOverrides('NODE_OPTIONS=--max-semi-space-size=4 --require=/tmp/x.js LOG_LEVEL=info'),
      { NODE_OPTIONS: '--max-semi-space-size=4 --require=/tmp/x.js', LOG_LEVEL: 'info' },
    );
  });

  it('refuses a first word that is not NAME=value', () => {
    assert.throws(() => berthEnvOverrides('--require=/tmp/x.js'), /expected NAME=value/);
  });
});
