// Hostile arguments to every public op (tensor and layers), drawn by fast-check from a fixed seed,
// in a child process: a fatal crash (out of memory, abort) fails this test instead of the runner.
// The child (test/fuzz/child.ts) accepts a result or the library's own error and reports anything
// else with the op and its arguments.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const child = fileURLToPath(new URL('./fuzz/child.ts', import.meta.url));
const RUNS = 300;

describe('fuzz', () => {
  it(`every public op, ${RUNS} hostile calls each: results or library errors only`, () => {
    const r = spawnSync(
      process.execPath,
      [
        '--max-old-space-size=2048',
        '--import',
        'tsx',
        '--conditions=@softpool/source',
        child,
        String(RUNS),
        '20261129',
      ],
      { encoding: 'utf8', timeout: 240_000, cwd: fileURLToPath(new URL('..', import.meta.url)) },
    );
    expect(r.signal, r.stderr.slice(-2000)).toBeNull();
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const report = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(report.failures).toEqual([]);
    expect(report.ops).toBeGreaterThan(150); // the op list did not silently shrink
    expect(report.calls).toBe(report.ops * RUNS);
    expect(report.results + report.libraryErrors).toBe(report.calls);
    expect(report.results).toBeGreaterThan(report.calls / 20); // not everything is rejected
  }, 300_000);
});
