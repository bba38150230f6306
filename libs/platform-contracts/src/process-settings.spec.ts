import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { DATA_PLANE_PROCESS_SETTINGS, dataPlaneProcessEnv } from './process-settings';

describe('dataPlaneProcessEnv', () => {
  it('gives the settings on their own when nothing is set', () => {
    assert.deepEqual(dataPlaneProcessEnv(), {
      NODE_OPTIONS: '--max-semi-space-size=4',
      GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=131072',
    });
    assert.deepEqual(dataPlaneProcessEnv({ NODE_OPTIONS: ' ', GLIBC_TUNABLES: '' }), {
      ...DATA_PLANE_PROCESS_SETTINGS,
    });
  });

  it("appends to an operator's own options", () => {
    assert.deepEqual(
      dataPlaneProcessEnv({
        NODE_OPTIONS: '--enable-source-maps',
        GLIBC_TUNABLES: 'glibc.malloc.arena_max=2',
      }),
      {
        NODE_OPTIONS: '--enable-source-maps --max-semi-space-size=4',
        GLIBC_TUNABLES: 'glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=131072',
      },
    );
  });

  it("keeps an operator's own choice of the same setting", () => {
    assert.deepEqual(
      dataPlaneProcessEnv({
        NODE_OPTIONS: '--max_semi_space_size=16',
        GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=65536',
      }),
      {
        NODE_OPTIONS: '--max_semi_space_size=16',
        GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=65536',
      },
    );
  });
});
