import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadRegistryConfig } from './config/registry-config';
import { DEFAULT_HEAP_GROWING_PERCENT, tuneHeap } from './heap-tuning';

describe('heap tuning', () => {
  const run = (percent: number, nodeOptions?: string, execArgv: string[] = []) => {
    const flags: string[] = [];
    const result = tuneHeap(percent, nodeOptions, execArgv, (f) => flags.push(f));
    return { result, flags };
  };

  it('sets the growing factor; 0 leaves V8 alone', () => {
    assert.deepEqual(run(75), { result: 75, flags: ['--heap-growing-percent=75'] });
    assert.deepEqual(run(0), { result: undefined, flags: [] });
  });

  it('leaves a flag given on the command line or in NODE_OPTIONS alone', () => {
    assert.deepEqual(run(30, undefined, ['--heap-growing-percent=100']).flags, []);
    assert.deepEqual(run(30, '--max-semi-space-size=8 --heap_growing_percent=20').flags, []);
    assert.deepEqual(run(30, '--max-semi-space-size=8').flags, ['--heap-growing-percent=30']);
  });

  it('is configured by REGISTRY_HEAP_GROWING_PERCENT, validated with the rest', () => {
    const config = (value?: string) =>
      loadRegistryConfig(value === undefined ? {} : { REGISTRY_HEAP_GROWING_PERCENT: value });
    assert.equal(config().heapGrowingPercent, DEFAULT_HEAP_GROWING_PERCENT);
    assert.equal(config('0').heapGrowingPercent, 0);
    assert.throws(() => config('lots'), /REGISTRY_HEAP_GROWING_PERCENT/);
    assert.throws(() => config('5000'), /REGISTRY_HEAP_GROWING_PERCENT/);
  });
});
