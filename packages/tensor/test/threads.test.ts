// The CPU worker threads: every parallel kernel gives bit-identical results for 1-4 threads, bad
// settings are refused, and a worker that fails or dies gives an error and the pool recovers.
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { activeThreads, runParallel, threadInternals } from '../src/cpu/threads.js';
import { FN } from '../src/cpu/worker-source.js';
import {
  ArgumentError,
  add,
  argmax,
  argmin,
  BackendError,
  bernoulli,
  cast,
  clamp,
  contiguous,
  conv1d,
  conv2d,
  conv3d,
  convBackwardInput,
  convBackwardWeight,
  cpuInfo,
  cpuMemory,
  Generator,
  getNumThreads,
  gt,
  matmul,
  max,
  memory,
  min,
  mul,
  ones,
  prod,
  randn,
  registerCpuKernels,
  runCpuKernels,
  scope,
  setNumThreads,
  sum,
  type Tensor,
  threadsReady,
  where,
} from '../src/index.js';
import { randomTensor } from './helpers.js';

const initial = getNumThreads();
afterAll(() => setNumThreads(initial));

/** Every parallel float32 kernel, on shapes large enough to be split (and odd edges). */
const cases: [string, () => Tensor][] = [
  [
    'matmul 300x700 @ 700x500',
    () => matmul(randomTensor([300, 700], 'float32', 1), randomTensor([700, 500], 'float32', 2)),
  ],
  [
    'matmul of transposed views',
    () => matmul(randomTensor([700, 301], 'float32', 26).T, randomTensor([509, 700], 'float32', 27).T),
  ],
  [
    'batched matmul with odd edges',
    () => matmul(randomTensor([3, 67, 129], 'float32', 3), randomTensor([129, 203], 'float32', 4)),
  ],
  [
    'conv2d pad 1 (direct kernels: up to 32 output channels)',
    () =>
      conv2d(
        randomTensor([8, 8, 32, 32], 'float32', 5),
        randomTensor([32, 8, 3, 3], 'float32', 6),
        randomTensor([32], 'float32', 7),
        { padding: 1 },
      ),
  ],
  [
    'conv2d pad 1, 48 output channels (im2col)',
    () =>
      conv2d(
        randomTensor([8, 8, 20, 20], 'float32', 32),
        randomTensor([48, 8, 3, 3], 'float32', 33),
        randomTensor([48], 'float32', 34),
        { padding: 1 },
      ),
  ],
  [
    'conv2d 3x3, 16+ channels (Winograd)',
    () =>
      conv2d(
        randomTensor([4, 24, 30, 26], 'float32', 42),
        randomTensor([40, 24, 3, 3], 'float32', 43),
        randomTensor([40], 'float32', 44),
        { padding: 1 },
      ),
  ],
  [
    'conv input gradient (Winograd)',
    () =>
      convBackwardInput(
        randomTensor([4, 40, 30, 26], 'float32', 45),
        randomTensor([40, 24, 3, 3], 'float32', 46),
        [4, 24, 30, 26],
        { padding: 1 },
      ),
  ],
  [
    'conv weight gradient (Winograd: 64+ input channels)',
    () =>
      convBackwardWeight(
        randomTensor([4, 68, 18, 14], 'float32', 47),
        randomTensor([4, 20, 18, 14], 'float32', 48),
        [20, 68, 3, 3],
        { padding: 1 },
      ),
  ],
  [
    'conv weight gradient (direct: rows of channels and taps, 40 output channels)',
    () =>
      convBackwardWeight(
        randomTensor([4, 36, 30, 26], 'float32', 49),
        randomTensor([4, 40, 30, 26], 'float32', 50),
        [40, 36, 3, 3],
        { padding: 1 },
      ),
  ],
  [
    'depthwise conv2d, stride 2',
    () =>
      conv2d(
        randomTensor([4, 24, 30, 26], 'float32', 51),
        randomTensor([24, 1, 3, 3], 'float32', 52),
        randomTensor([24], 'float32', 53),
        { padding: 1, stride: 2, groups: 24 },
      ),
  ],
  [
    'depthwise weight gradient',
    () =>
      convBackwardWeight(
        randomTensor([4, 24, 30, 26], 'float32', 54),
        randomTensor([4, 24, 30, 26], 'float32', 55),
        [24, 1, 3, 3],
        { padding: 1, groups: 24 },
      ),
  ],
  [
    'depthwise input gradient, stride 2',
    () =>
      convBackwardInput(
        randomTensor([4, 24, 15, 13], 'float32', 56),
        randomTensor([24, 1, 3, 3], 'float32', 57),
        [4, 24, 30, 26],
        { padding: 1, stride: 2, groups: 24 },
      ),
  ],
  [
    'conv2d stride 2, dilation 2, groups 2',
    () =>
      conv2d(
        randomTensor([4, 8, 41, 37], 'float32', 8),
        randomTensor([12, 4, 3, 3], 'float32', 9),
        undefined,
        { stride: 2, dilation: 2, groups: 2 },
      ),
  ],
  [
    'conv1d',
    () =>
      conv1d(randomTensor([16, 8, 999], 'float32', 10), randomTensor([24, 8, 5], 'float32', 11), undefined, {
        padding: 2,
      }),
  ],
  [
    'conv3d',
    () =>
      conv3d(
        randomTensor([2, 4, 12, 14, 16], 'float32', 12),
        randomTensor([8, 4, 3, 3, 3], 'float32', 13),
        undefined,
        { padding: 1 },
      ),
  ],
  [
    'conv input gradient (stride 1)',
    () =>
      convBackwardInput(
        randomTensor([8, 32, 30, 30], 'float32', 14),
        randomTensor([32, 8, 3, 3], 'float32', 15),
        [8, 8, 32, 32],
      ),
  ],
  [
    'conv input gradient (stride 1, scattered: few input channels)',
    () =>
      convBackwardInput(
        randomTensor([8, 16, 10, 10], 'float32', 30),
        randomTensor([16, 6, 5, 5], 'float32', 31),
        [8, 6, 14, 14],
      ),
  ],
  [
    'conv input gradient (stride 2)',
    () =>
      convBackwardInput(
        randomTensor([8, 32, 15, 15], 'float32', 16),
        randomTensor([32, 16, 3, 3], 'float32', 17),
        [8, 16, 32, 32],
        { stride: 2 },
      ),
  ],
  [
    'conv input gradient (stride 1, 48 input channels: im2col)',
    () =>
      convBackwardInput(
        randomTensor([8, 8, 18, 18], 'float32', 35),
        randomTensor([8, 48, 3, 3], 'float32', 36),
        [8, 48, 20, 20],
      ),
  ],
  [
    'conv weight gradient, 48 output channels (im2col)',
    () =>
      convBackwardWeight(
        randomTensor([8, 16, 20, 20], 'float32', 37),
        randomTensor([8, 48, 18, 18], 'float32', 38),
        [48, 16, 3, 3],
      ),
  ],
  [
    'sum over batch and spatial axes (bias gradients)',
    () => sum(randomTensor([32, 12, 40, 40], 'float32', 39), [0, 2, 3]),
  ],
  ['whole sum (fixed chunks and a tail)', () => sum(randomTensor([700001], 'float32', 40))],
  ['sum over the leading axis', () => sum(randomTensor([3000, 203], 'float32', 41), [0])],
  ['max over batch and spatial axes', () => max(randomTensor([32, 12, 40, 40], 'float32', 51), [0, 2, 3])],
  ['whole min (fixed chunks and a tail)', () => min(randomTensor([700001], 'float32', 52))],
  [
    'max over channels of NCHW (one reduction per sample)',
    () => max(randomTensor([16, 12, 30, 30], 'float32', 53), 1),
  ],
  ['min over the last axis', () => min(randomTensor([600, 301], 'float32', 54), -1)],
  [
    'contiguous copy of a transposed view',
    () => contiguous(randomTensor([16, 30, 40, 33], 'float32', 66).transpose(1, 2)),
  ],
  ['randn (Box-Muller in JavaScript on the threads)', () => randn([300001], { generator: new Generator(5) })],
  [
    'bernoulli (words mapped on the threads)',
    () => bernoulli(0.3, { shape: [300001], generator: new Generator(6) }),
  ],
  ['prod over batch and spatial axes', () => prod(randomTensor([32, 12, 40, 40], 'float32', 65), [0, 2, 3])],
  ['max over the middle axis of many small blocks', () => max(randomTensor([3000, 7, 10], 'float32', 64), 1)],
  ['argmax over the last axis', () => argmax(randomTensor([600, 301], 'float32', 55), -1)],
  ['argmin over channels of NCHW', () => argmin(randomTensor([16, 12, 30, 30], 'float32', 56), 1)],
  [
    'add a channel bias (broadcast runs)',
    () => add(randomTensor([16, 12, 30, 32], 'float32', 57), randomTensor([12, 1, 1], 'float32', 58)),
  ],
  [
    'mul by a row (broadcast runs)',
    () => mul(randomTensor([700, 256], 'float32', 59), randomTensor([256], 'float32', 60)),
  ],
  ['clamp', () => clamp(randomTensor([600, 301], 'float32', 61), -0.5, 0.1)],
  [
    'where of a comparison',
    () => {
      const x = randomTensor([600, 301], 'float32', 62);
      return where(gt(x, randomTensor([600, 301], 'float32', 63)), x, 0.5);
    },
  ],
  [
    'conv weight gradient',
    () =>
      convBackwardWeight(
        randomTensor([8, 16, 32, 32], 'float32', 18),
        randomTensor([8, 32, 30, 30], 'float32', 19),
        [32, 16, 3, 3],
      ),
  ],
  [
    'conv weight gradient, one input channel (direct: tap groups split)',
    () =>
      convBackwardWeight(
        randomTensor([16, 1, 28, 28], 'float32', 49),
        randomTensor([16, 6, 28, 28], 'float32', 50),
        [6, 1, 5, 5],
        { padding: 2 },
      ),
  ],
];

describe('kernels of other modules (registerCpuKernels)', () => {
  // A module of its own on the CPU backend's memory: inc(p, n) adds 1 to n int32 words at p.
  const wat = `(module (import "env" "memory" (memory 1 65536 SHARED))
    (func (export "inc") (param $p i32) (param $n i32)
      (block $d (loop $l (br_if $d (i32.eqz (local.get $n)))
        (i32.store (local.get $p) (i32.add (i32.load (local.get $p)) (i32.const 1)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1))) (br $l)))))`;
  async function compile(): Promise<WebAssembly.Module> {
    const wabt = await (await import('wabt')).default();
    const shared = cpuInfo().sharedMemory;
    const mod = wabt.parseWat('inc.wat', wat.replace('SHARED', shared ? 'shared' : ''), { threads: true });
    const { buffer } = mod.toBinary({});
    mod.destroy();
    return new WebAssembly.Module(new Uint8Array(buffer));
  }

  it('runs their exports on every thread, in the shared memory', async () => {
    const module = await compile();
    const instance = new WebAssembly.Instance(module, { env: { memory: cpuMemory() } });
    const { inc } = registerCpuKernels(module, instance.exports, { inc: 2 });
    setNumThreads(3);
    expect(await threadsReady()).toBe(3);
    const words = new Int32Array(cpuMemory().buffer, 0, 4000);
    words.fill(7);
    // 40 items of 100 words each, over three threads; twice over the same words.
    const items = Array.from({ length: 40 }, (_, i) => [inc, i * 400, 100]);
    runCpuKernels(items);
    runCpuKernels(items);
    expect(new Int32Array(cpuMemory().buffer, 0, 4000).every((v) => v === 9)).toBe(true);
    // The built-in kernels still run (the pool restarted with the new module).
    const shape = scope(
      () => matmul(randomTensor([64, 64], 'float32', 1), randomTensor([64, 64], 'float32', 2)).shape,
    );
    expect(shape).toEqual([64, 64]);
    setNumThreads(1);
  });

  it('refuses a missing export or an argument count the work items cannot hold', async () => {
    const module = await compile();
    const instance = new WebAssembly.Instance(module, { env: { memory: cpuMemory() } });
    expect(() => registerCpuKernels(module, instance.exports, { dec: 2 })).toThrow(
      "registerCpuKernels: the module has no exported function 'dec'",
    );
    expect(() => registerCpuKernels(module, instance.exports, { inc: 31 })).toThrow(ArgumentError);
    expect(() => registerCpuKernels(module, instance.exports, { inc: -1 })).toThrow(
      /0 to 30 integer arguments/,
    );
    expect(() => registerCpuKernels({} as never, instance.exports, { inc: 2 })).toThrow(
      /must be a WebAssembly.Module/,
    );
    // Only registered kernels run from outside, with their whole argument lists.
    expect(() => runCpuKernels([[FN.gemm, 0, 0, 0, 0, 0, 0, 0, 0]])).toThrow(/not registered/);
    expect(() => runCpuKernels([[1e9]])).toThrow(/not registered/);
    expect(() => runCpuKernels([[0.5]])).toThrow(/array of integers/);
    const { inc } = registerCpuKernels(module, instance.exports, { inc: 2 });
    expect(() =>
      runCpuKernels([
        [inc, 0, 4],
        [inc, 0],
      ]),
    ).toThrow(`runCpuKernels: item 1 gives kernel ${inc} 1 arguments, it takes 2`);
    expect(() => runCpuKernels('x' as never)).toThrow(ArgumentError);
  });
});

describe('CPU worker threads', () => {
  it.each(cases)(
    '%s is bit-identical with 1, 2, 3 and 4 threads',
    async (_name, run) => {
      const results: Float32Array[] = [];
      const before = memory().tensors;
      for (const n of [1, 2, 3, 4]) {
        setNumThreads(n);
        expect(await threadsReady()).toBe(n);
        expect(activeThreads()).toBe(n);
        // The case makes its inputs (same seeds every time); the scope releases them.
        const out = scope(run);
        results.push(out.dataSync() as Float32Array);
        out.dispose();
        expect(memory().tensors).toBe(before);
      }
      for (const r of results.slice(1))
        expect(Buffer.from(r.buffer).equals(Buffer.from(results[0].buffer))).toBe(true);
    },
    60_000,
  );

  it('large products of strided views agree with float64 on every thread count', async () => {
    const a = randomTensor([700, 301], 'float64', 28);
    const b = randomTensor([2, 509, 700], 'float64', 29);
    const exact = matmul(a.T, b.transpose(1, 2)).dataSync();
    for (const n of [1, 3]) {
      setNumThreads(n);
      await threadsReady();
      const fast = matmul(cast(a, 'float32').T, cast(b, 'float32').transpose(1, 2)).dataSync();
      let worst = 0;
      for (let i = 0; i < exact.length; i++) worst = Math.max(worst, Math.abs(fast[i] - exact[i]));
      expect(worst).toBeLessThan(1e-2);
    }
  }, 60_000);

  it('threads poll before blocking only while no other thread wants a core', async () => {
    const cores = availableParallelism();
    // /proc/loadavg's fourth field: runnable threads / all threads.
    const loadOf = (runnable: number) => () => `0.52 0.58 0.59 ${runnable}/467 12345\n`;
    const call = () => scope(() => void matmul(ones([256, 256]), ones([256, 256])).dataSync());
    try {
      setNumThreads(2);
      await threadsReady();
      for (const [runnable, spin] of [
        [1, cores >= 2 ? 300 : 0],
        [cores, cores >= 2 ? 300 : 0],
        [cores + 1, 0],
      ]) {
        threadInternals.setLoadReader(loadOf(runnable));
        call();
        expect(threadInternals.spinUs(), `${runnable} runnable`).toBe(spin);
      }
      // More threads than cores never poll; nor where the load cannot be read.
      setNumThreads(cores + 1);
      await threadsReady();
      threadInternals.setLoadReader(loadOf(1));
      call();
      expect(threadInternals.spinUs()).toBe(0);
      setNumThreads(2);
      await threadsReady();
      threadInternals.setLoadReader(() => {
        throw new Error('no /proc here');
      });
      expect(call).not.toThrow();
      expect(threadInternals.spinUs()).toBe(0);
    } finally {
      threadInternals.setLoadReader(undefined);
    }
  });

  it('refuses thread counts that are not integers from 1 to 256', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, 257]) {
      expect(() => setNumThreads(bad)).toThrow(ArgumentError);
      expect(() => setNumThreads(bad)).toThrow(
        /setNumThreads\(n\): the number of threads must be an integer from 1 to 256/,
      );
    }
  });

  it('reads SOFTPOOL_NUM_THREADS in a fresh process', () => {
    const script = `import('${fileURLToPath(new URL('../src/index.ts', import.meta.url))}').then((m) => console.log(m.getNumThreads()))`;
    const run = (env: string) =>
      spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
        env: { ...process.env, SOFTPOOL_NUM_THREADS: env },
        encoding: 'utf8',
        timeout: 60_000,
      });
    expect(run('3').stdout.trim()).toBe('3');
    const bad = run('many');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(
      /SOFTPOOL_NUM_THREADS: the number of threads must be an integer from 1 to 256, got many/,
    );
  }, 120_000);

  it('reports a kernel that throws in a worker and keeps working', async () => {
    setNumThreads(3);
    await threadsReady();
    expect(() => runParallel([[FN.fail], [FN.fail], [FN.fail], [FN.fail]])).toThrow(BackendError);
    expect(() => runParallel([[FN.fail], [FN.fail]])).toThrow(/cpu threads: a CPU kernel failed/);
    setNumThreads(1); // the calling thread alone reports it the same way
    expect(() => runParallel([[FN.fail], [FN.fail]])).toThrow(
      /cpu threads: a CPU kernel failed: injected failure/,
    );
    setNumThreads(3);
    const a = randomTensor([200, 300], 'float32', 20);
    const b = randomTensor([300, 200], 'float32', 21);
    const c = matmul(a, b);
    setNumThreads(1);
    const ref = matmul(a, b);
    expect(c.dataSync()).toEqual(ref.dataSync());
  }, 60_000);

  it('a worker that dies mid-call gives an error, and the pool restarts', async () => {
    setNumThreads(2);
    await threadsReady();
    threadInternals.setStallMs(1000);
    try {
      // The calling thread takes one exit item and stays busy; the worker takes the other and exits.
      expect(() => runParallel([[FN.exit], [FN.exit]])).toThrow(
        /no work item finished in 1 s \(a worker thread died\?\)/,
      );
    } finally {
      threadInternals.setStallMs(30_000);
    }
    const a = randomTensor([256, 512], 'float32', 22);
    const b = randomTensor([512, 256], 'float32', 23);
    matmul(a, b).dispose(); // starts the pool again
    await threadsReady();
    expect(activeThreads()).toBe(2);
    const c = matmul(a, b);
    setNumThreads(1);
    expect(c.dataSync()).toEqual(matmul(a, b).dataSync());
  }, 60_000);

  it('a worker killed between calls is replaced', async () => {
    setNumThreads(3);
    await threadsReady();
    const [victim] = threadInternals.workers();
    await victim.terminate();
    await new Promise((r) => setTimeout(r, 50)); // the exit event marks the pool
    const a = randomTensor([256, 512], 'float32', 24);
    const b = randomTensor([512, 256], 'float32', 25);
    const c = matmul(a, b);
    await threadsReady();
    expect(activeThreads()).toBe(3);
    expect(threadInternals.workers()).not.toContain(victim);
    setNumThreads(1);
    expect(c.dataSync()).toEqual(matmul(a, b).dataSync());
  }, 60_000);

  it('without shared memory (a page that is not cross-origin isolated) runs on one thread, with a note', () => {
    const src = fileURLToPath(new URL('../src/index.ts', import.meta.url));
    const script = `globalThis.crossOriginIsolated = false; import('${src}').then(async (m) => {
      m.setNumThreads(2);
      const a = m.tensor([[1, 2], [3, 4]]);
      const big = m.ones([300, 300]);
      console.log(await m.threadsReady(), m.matmul(a, a).dataSync().join(), m.matmul(big, big).dataSync()[0]);
    })`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stdout.trim()).toBe('1 7,10,15,22 300');
    expect(r.stderr).toMatch(
      /softpool: CPU kernels use one thread here: worker threads need SharedArrayBuffer/,
    );
  }, 120_000);

  it('a worker that cannot start leaves one thread, with a note, instead of restarting on every call', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const source = threadInternals.source;
    try {
      setNumThreads(1);
      threadInternals.source = "throw new Error('boom')";
      threadInternals.reset();
      setNumThreads(3);
      expect(await threadsReady()).toBe(1);
      const a = randomTensor([256, 300], 'float32', 26);
      const b = randomTensor([300, 256], 'float32', 27);
      const c = matmul(a, b); // a product big enough for the threads, done on this one
      expect(activeThreads()).toBe(1);
      expect(threadInternals.workers()).toEqual([]);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toMatch(
        /CPU kernels use one thread here: a worker thread could not start \(a worker failed: boom\)/,
      );
      threadInternals.source = source;
      threadInternals.reset();
      expect(await threadsReady()).toBe(3);
      expect(matmul(a, b).dataSync()).toEqual(c.dataSync());
    } finally {
      threadInternals.source = source;
      threadInternals.reset();
      warn.mockRestore();
    }
  }, 60_000);

  it('starts workers in a process whose -e code is a module (--input-type=module)', () => {
    const src = fileURLToPath(new URL('../src/index.ts', import.meta.url));
    const script = `const m = await import('${src}'); m.setNumThreads(3); console.log(await m.threadsReady());`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('3');
  }, 120_000);

  it('workers never keep the process alive', () => {
    const src = fileURLToPath(new URL('../src/index.ts', import.meta.url));
    const script = `import('${src}').then(async (m) => { m.setNumThreads(4); const a = m.randn([256, 256]); m.matmul(a, a); await m.threadsReady(); m.matmul(a, a); console.log('done'); })`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.signal).toBeNull(); // not killed by the timeout
    expect(r.stdout.trim()).toBe('done');
    expect(r.status).toBe(0);
  }, 120_000);
});
