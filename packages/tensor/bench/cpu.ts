// CPU backend figures for the foundation issue: matmul 1024^3 (GFLOP/s) and conv2d forward
// [16,32,32,32] x 64 3x3 pad 1 (ms), and the ceiling a product can reach here: the gemm kernel
// alone on panels that stay in cache, on one thread and on all of them at once. Medians over timed
// runs after warm-up.
// Run: pnpm --filter @softpool/tensor bench   (apps/bench has the full suite)
import { KC } from '../src/cpu/gemm.js';
import { activeThreads, runParallel, threadsReady } from '../src/cpu/threads.js';
import { reserve } from '../src/cpu/wasm.js';
import { FN } from '../src/cpu/worker-source.js';
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

/**
 * GFLOP/s of the gemm kernel on 64 x 256 x 256 products whose panels stay in cache (16 per thread
 * per timed call, all reading one A and one B, each writing its own C), on the calling thread alone
 * or split over every thread: what the machine gives the 4x8 SIMD128 tile with nothing in the way.
 */
function kernelPeak(parallel: boolean, runs: number): number {
  const [M, N, K] = [64, 256, 256];
  const items = 16 * activeThreads();
  const { f32 } = reserve(M * K + K * N + items * M * N);
  for (let i = 0; i < M * K + K * N; i++) f32[i] = Math.sin(i);
  const calls = Array.from({ length: items }, (_, i) => [
    FN.gemm,
    0,
    M * K * 4,
    (M * K + K * N + i * M * N) * 4,
    M,
    N,
    K,
    KC,
    N,
  ]);
  const ms: number[] = [];
  for (let r = 0; r < runs + 2; r++) {
    const t0 = performance.now();
    if (parallel) runParallel(calls);
    else for (const call of calls) runParallel([call]);
    ms.push(performance.now() - t0);
  }
  return (items * 2 * M * N * K) / (median(ms.slice(2)) * 1e6);
}

manualSeed(0);
await threadsReady();
const runs = Number(process.env.RUNS ?? 10);
const a = randn([1024, 1024]);
const b = randn([1024, 1024]);
const mm = time(() => matmul(a, b), runs);
const gflops = (2 * 1024 ** 3) / (mm.median * 1e6);
const x = randn([16, 32, 32, 32]);
const w = randn([64, 32, 3, 3]);
const conv = time(() => conv2d(x, w, { padding: 1 }), runs);
const f = (v: number): string => v.toFixed(1);
const one = kernelPeak(false, runs);
const all = kernelPeak(true, runs);
process.stdout.write(
  `gemm kernel alone, cache-resident panels: ${f(one)} GFLOP/s on 1 thread, ${f(all)} on ${activeThreads()} threads\n` +
    `matmul 1024^3 float32: ${gflops.toFixed(1)} GFLOP/s (median ${f(mm.median)} ms, min ${f(mm.min)}, max ${f(mm.max)}; target >= 10)\n` +
    `conv2d [16,32,32,32] x [64,32,3,3] pad 1 forward: median ${f(conv.median)} ms (min ${f(conv.min)}, max ${f(conv.max)}; target <= 60)\n`,
);
