// The substitution grids, fixed in advance: which model, data, schedule, pooling methods and seeds.
// Changing a schedule changes the runs' ids' protocol tag, so old results are never mixed in.
import { POOLS, type PoolName } from '@softpool/models';

export type GridName = 'lenet' | 'deep' | 'clips';
export const GRIDS: readonly GridName[] = ['clips', 'lenet', 'deep'];

export interface Schedule {
  epochs: number;
  batchSize: number;
  optimizer: 'adam';
  lr: number;
  scheduler: 'cosine';
}

export type DataSpec =
  | {
      kind: 'fashion-mnist';
      /** 'full': the whole dataset (from --data); 'embedded': the subset shipped with @softpool/data. */
      source: 'full' | 'embedded';
      /** A class-balanced training subset of this many images per class; null: every image. */
      trainPerClass: number | null;
      /** The first N test images; null: every one. */
      testLimit: number | null;
    }
  | { kind: 'clips'; train: number; test: number; frames: number; size: number; noise: number };

export interface RunSpec {
  /** Unique within a results file: `<grid>/<model>-<pool>-s<seed>`. */
  id: string;
  grid: GridName;
  /** Tag of the protocol (grid set and schedule) the run belongs to. */
  protocol: string;
  model: string;
  pool: PoolName;
  seed: number;
  data: DataSpec;
  schedule: Schedule;
}

export const SEEDS = [1, 2, 3];
/** Methods the deeper model and the 3-D model always run. */
export const CORE_POOLS: readonly PoolName[] = ['max', 'avg', 'soft'];

const adam = (epochs: number): Schedule => ({
  epochs,
  batchSize: 64,
  optimizer: 'adam',
  lr: 0.002,
  scheduler: 'cosine',
});

interface GridDef {
  model: string;
  data: DataSpec;
  schedule: Schedule;
  seeds: number[];
}

/** The full protocol (hours on 2 cores) and the quick one (seconds; CI). */
export const PROTOCOLS: Record<'full' | 'quick', Record<GridName, GridDef>> = {
  full: {
    lenet: {
      model: 'lenet5',
      data: { kind: 'fashion-mnist', source: 'full', trainPerClass: null, testLimit: null },
      schedule: adam(3),
      seeds: SEEDS,
    },
    deep: {
      model: 'vgg',
      data: { kind: 'fashion-mnist', source: 'full', trainPerClass: 1000, testLimit: null },
      schedule: adam(3),
      seeds: SEEDS,
    },
    clips: {
      model: 'cnn3d',
      data: { kind: 'clips', train: 2048, test: 1024, frames: 8, size: 32, noise: 100 },
      schedule: adam(4),
      seeds: SEEDS,
    },
  },
  quick: {
    lenet: {
      model: 'lenet5',
      data: { kind: 'fashion-mnist', source: 'embedded', trainPerClass: 40, testLimit: 200 },
      schedule: adam(1),
      seeds: [1],
    },
    deep: {
      model: 'vgg',
      data: { kind: 'fashion-mnist', source: 'embedded', trainPerClass: 10, testLimit: 50 },
      schedule: adam(1),
      seeds: [1],
    },
    clips: {
      model: 'cnn3d',
      data: { kind: 'clips', train: 64, test: 32, frames: 4, size: 16, noise: 100 },
      schedule: adam(1),
      seeds: [1],
    },
  },
};

export interface Summary {
  pool: PoolName;
  n: number;
  mean: number;
  std: number;
  values: number[];
}

/** Mean and sample standard deviation of the final test accuracy per method. */
export function summarise(records: { pool: PoolName; finalTestAcc: number }[]): Summary[] {
  const by = new Map<PoolName, number[]>();
  for (const r of records) by.set(r.pool, [...(by.get(r.pool) ?? []), r.finalTestAcc]);
  return [...by].map(([pool, values]) => {
    const n = values.length;
    const mean = values.reduce((a, b) => a + b, 0) / n;
    const std = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
    return { pool, n, mean, std, values };
  });
}

/**
 * The deeper model's methods: max, avg, soft and the two methods (other than those) with the best
 * mean LeNet-5 accuracy over complete seeds. Null while the LeNet-5 grid is incomplete.
 */
export function deepPools(
  lenet: { pool: PoolName; finalTestAcc: number }[],
  seeds: number,
): PoolName[] | null {
  const s = summarise(lenet);
  if (s.length < POOLS.length || s.some((m) => m.n < seeds)) return null;
  const others = s
    .filter((m) => !CORE_POOLS.includes(m.pool))
    .sort((a, b) => b.mean - a.mean)
    .slice(0, 2)
    .map((m) => m.pool);
  return [...CORE_POOLS, ...others];
}

/**
 * Every run of the protocol, seed-major (all methods at seed 1 first), so a partial grid is
 * balanced. The deeper grid lists its two extra methods once `lenetDone` names them.
 */
export function plan(
  protocol: 'full' | 'quick',
  grids: readonly GridName[],
  lenetResults: { pool: PoolName; finalTestAcc: number }[],
): RunSpec[] {
  const specs: RunSpec[] = [];
  for (const grid of GRIDS) {
    if (!grids.includes(grid)) continue;
    const def = PROTOCOLS[protocol][grid];
    let pools: readonly PoolName[];
    if (grid === 'lenet') pools = protocol === 'quick' ? CORE_POOLS : POOLS;
    else if (grid === 'clips' || protocol === 'quick') pools = CORE_POOLS;
    else pools = deepPools(lenetResults, def.seeds.length) ?? CORE_POOLS;
    for (const seed of def.seeds)
      for (const pool of pools)
        specs.push({
          id: `${grid}/${def.model}-${pool}-s${seed}`,
          grid,
          protocol: `${protocol}-v1`,
          model: def.model,
          pool,
          seed,
          data: def.data,
          schedule: def.schedule,
        });
  }
  return specs;
}
