import { describe, expect, test } from 'vitest';
import { BufferPool } from '../src/pool.js';

describe('pool size classes', () => {
  test('buffers: powers of two from 256 bytes, then quarter steps', () => {
    expect([1, 256, 300, 512, 513, 1000, 1025].map(BufferPool.sizeClass)).toEqual([
      256, 256, 320, 512, 640, 1024, 1280,
    ]);
  });

  test('texture sides: exact up to 8, then quarter steps of a power of two, capped at the limit', () => {
    expect([1, 8, 9, 33, 1000, 1025, 16384].map((n) => BufferPool.sideClass(n, 16384))).toEqual([
      1, 8, 10, 40, 1024, 1280, 16384,
    ]);
    expect(BufferPool.sideClass(15000, 16384)).toBe(16384);
  });
});
