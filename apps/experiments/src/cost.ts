// `pnpm experiments cost`: time and peak memory of every pooling method, forward and
// forward+backward, on the CPU and WebGPU, through the bench harness; and the share of a LeNet-5
// and a VGG-style training step spent in pooling kernels (CPU, where a kernel's dispatch time is
// its run time).
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { measureOurs, oursRunner, type PoolCase, type Timing, type TrainCase } from '@softpool/bench';
import { POOLS, POOLS_ND, type PoolName } from '@softpool/models';
import * as sp from '@softpool/tensor';
import type { Command } from './commands.js';
import { intFlag, listFlag, parseFlags } from './flags.js';
import { writeAtomic } from './results.js';
import { machine } from './substitution/runner.js';

export const COST_RESULTS = 'apps/experiments/results/cost.json';

export interface CostRow {
  backend: string;
  method: PoolName;
  shape: number[];
  kernel: number;
  mode: 'fwd' | 'fwd+bwd';
  timing?: Timing;
  peakBytes?: number;
  skipped?: string;
}
export interface ShareRow {
  model: 'lenet5' | 'vgg';
  pool: 'max' | 'avg' | 'soft';
  batch: number;
  stepMs: number;
  poolMs: number;
  /** Pooling kernels' time / step time. */
  share: number;
}
export interface CostResults {
  createdAt: string;
  /** cpuThreads: the CPU backend's threads in the run (results before it was recorded used one). */
  machine: ReturnType<typeof machine> & { webgpuAdapter: string | null; cpuThreads?: number };
  iters: number;
  rows: CostRow[];
  shares: ShareRow[];
}

/** Pooling kernels: the fused pooling ops and their backward ops (learned methods' convs excluded). */
const isPoolOp = (op: string) => /Pool/.test(op);

/** Median step time and the median time of pooling kernels per step, over `steps` steps. */
async function poolShare(c: TrainCase, steps: number): Promise<ShareRow> {
  const r = await oursRunner(c, 'cpu');
  let poolMs = 0;
  const off = sp.onDispatch((op, _b, _i, ms) => {
    if (isPoolOp(op)) poolMs += ms;
  });
  try {
    await r.run(); // warm-up
    const step: number[] = [];
    const pool: number[] = [];
    for (let i = 0; i < steps; i++) {
      poolMs = 0;
      const t0 = performance.now();
      await r.run();
      step.push(performance.now() - t0);
      pool.push(poolMs);
    }
    const med = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
    const stepMs = med(step);
    const poolMsMed = med(pool);
    return {
      model: c.model,
      pool: c.pool,
      batch: c.batch,
      stepMs,
      poolMs: poolMsMed,
      share: poolMsMed / stepMs,
    };
  } finally {
    off();
    r.dispose();
  }
}

export const costCommand: Command = {
  summary: 'time and peak memory of every pooling method (CPU, WebGPU) and pooling share of training steps',
  help: `Usage: pnpm experiments cost [options]

Benchmarks every pooling method, forward and forward+backward, at CNN-like shapes with the bench
harness (median of N calls, peak bytes per call), and the share of LeNet-5 and VGG-style training
steps spent in pooling kernels. Pause other work while it runs: it measures wall time.

Options:
  --backends LIST    comma-separated subset of cpu, webgpu (default: cpu,webgpu; webgpu is
                     skipped with a note when no adapter is found)
  --iters N          timed calls per case (default 10)
  --quick            tiny shapes, 1 call each (CI)
  --out FILE         results file (default ${COST_RESULTS})
  -h, --help         show this help`,
  async run(argv, ctx) {
    const f = parseFlags(argv, {
      backends: { type: 'string' },
      iters: { type: 'string' },
      quick: { type: 'boolean' },
      out: { type: 'string' },
    });
    if (f.help) {
      ctx.log(this.help);
      return 0;
    }
    const quick = f.quick === true;
    const iters = intFlag('iters', f.iters, 1, 1000) ?? (quick ? 1 : 10);
    const backends = listFlag('backends', f.backends, ['cpu', 'webgpu'] as const) ?? ['cpu', 'webgpu'];
    const shapes2d = quick
      ? [[2, 4, 8, 8]]
      : [
          [64, 16, 28, 28],
          [16, 32, 64, 64],
        ];
    const shape3d = quick ? [1, 2, 4, 8, 8] : [8, 16, 8, 32, 32];
    const cases: PoolCase[] = [];
    for (const mode of ['fwd', 'fwd+bwd'] as const) {
      const add = (method: PoolName, shape: number[]) =>
        cases.push({
          kind: 'pool',
          id: `${method} ${shape.join('x')} ${mode}`,
          method,
          shape,
          kernel: 2,
          stride: 2,
          mode,
        });
      for (const shape of shapes2d) for (const m of POOLS) add(m, shape);
      for (const m of POOLS_ND) add(m, shape3d);
    }
    const rows: CostRow[] = [];
    let adapter: string | null = null;
    for (const backend of backends) {
      if (backend === 'webgpu') {
        try {
          await import('@softpool/webgpu' as string);
          await sp.initBackend('webgpu');
          adapter =
            (sp.getBackend('webgpu') as unknown as { adapterDescription?: string }).adapterDescription ??
            'webgpu';
        } catch (e) {
          const why = `unavailable: ${(e as Error).message.split('\n')[0]}`;
          ctx.log(`webgpu ${why}`);
          for (const c of cases)
            rows.push({ backend, method: c.method, shape: c.shape, kernel: 2, mode: c.mode, skipped: why });
          continue;
        }
      }
      for (const c of cases) {
        if (ctx.shouldStop()) return 130;
        const row: CostRow = { backend, method: c.method, shape: c.shape, kernel: 2, mode: c.mode };
        try {
          Object.assign(
            row,
            await measureOurs(c, backend, {
              iters,
              warmup: quick ? 0 : 1,
              budgetMs: quick ? 5000 : 10000,
              peak: true,
            }),
          );
          ctx.log(
            `${backend} ${c.id}: ${row.timing!.median.toFixed(2)} ms, peak ${((row.peakBytes ?? 0) / 2 ** 20).toFixed(1)} MiB`,
          );
        } catch (e) {
          row.skipped = `error: ${(e as Error).message.split('\n')[0]}`;
          ctx.log(`${backend} ${c.id}: ${row.skipped}`);
        }
        rows.push(row);
      }
    }
    const shares: ShareRow[] = [];
    for (const model of ['lenet5', 'vgg'] as const)
      for (const pool of ['max', 'avg', 'soft'] as const) {
        if (ctx.shouldStop()) return 130;
        const batch = quick ? 4 : 64;
        const s = await poolShare(
          { kind: 'train', id: `${model} ${pool}`, model, pool, batch },
          quick ? 1 : 10,
        );
        ctx.log(
          `${model} + ${pool}, batch ${batch}: step ${s.stepMs.toFixed(1)} ms, pooling ${s.poolMs.toFixed(1)} ms (${(100 * s.share).toFixed(1)}%)`,
        );
        shares.push(s);
      }
    const results: CostResults = {
      createdAt: new Date().toISOString(),
      machine: { ...machine(), webgpuAdapter: adapter, cpuThreads: await sp.threadsReady() },
      iters,
      rows,
      shares,
    };
    const out = f.out
      ? ctx.path(String(f.out))
      : ctx.root(quick ? 'runs/experiments-quick/cost.json' : COST_RESULTS);
    await mkdir(dirname(out), { recursive: true });
    await writeAtomic(out, `${JSON.stringify(results, null, 1)}\n`);
    ctx.log(`wrote ${out}`);
    return 0;
  },
};
