// CPU backend figures for the foundation issue: matmul 1024^3 (GFLOP/s) and conv2d forward
// [16,32,32,32] x 64 3x3 pad 1 (ms). Medians over timed runs after warm-up.
// Run: pnpm --filter @softpool/tensor bench   (apps/bench has the full suite)
import { conv2d, manualSeed, matmul, randn, type Tensor } from '../src/index.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(fn: () => Tensor, runs: number): { median: number; min: number; max: number } {
  for (let i = 0; i < 2; i++) fn().dispose();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const out = fn();
    ms.push(performance.now() - t0);
    out.dispose();
  }
  return { median: median(ms), min: Math.min(...ms), max: Math.max(...ms) };
}

manualSeed(0);
const runs = Number(process.env.RUNS ?? 10);
const a = randn([1024, 1024]);
const b = randn([1024, 1024]);
const mm = time(() => matmul(a, b), runs);
const gflops = (2 * 1024 ** 3) / (mm.median * 1e6);
const x = randn([16, 32, 32, 32]);
const w = randn([64, 32, 3, 3]);
const conv = time(() => conv2d(x, w, { padding: 1 }), runs);
const f = (v: number): string => v.toFixed(1);
process.stdout.write(
  `matmul 1024^3 float32: ${gflops.toFixed(1)} GFLOP/s (median ${f(mm.median)} ms, min ${f(mm.min)}, max ${f(mm.max)}; target >= 10)\n` +
    `conv2d [16,32,32,32] x [64,32,3,3] pad 1 forward: median ${f(conv.median)} ms (min ${f(conv.min)}, max ${f(conv.max)}; target <= 60)\n`,
);
