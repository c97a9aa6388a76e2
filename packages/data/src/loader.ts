// DataLoader: seeded shuffling, batching, normalisation and augmentation (random crop with
// padding, horizontal flip) of an in-memory image dataset. The dataset is never copied per
// epoch: an epoch is a permutation of indices, a batch is assembled into one new float array.
// Randomness of epoch e comes from Generator(seed, e) streams, so any epoch (and any batch of it)
// can be replayed exactly, which is what resuming an interrupted run needs.
import { ArgumentError, Generator, rand, type Tensor, tensor } from '@softpool/tensor';
import type { ImageDataset } from './dataset.js';

export interface Augment {
  /** Pad by this many zero pixels and crop back to the original size at a random offset. */
  randomCrop?: number;
  /** Flip images left-right with probability 0.5. */
  horizontalFlip?: boolean;
}

export interface LoaderOptions {
  batchSize: number;
  shuffle?: boolean;
  dropLast?: boolean;
  /** Base seed of shuffling and augmentation. Default 0. */
  seed?: number;
  /** Per-channel mean and std applied to pixel/255 (e.g. [0.2860], [0.3530] for Fashion-MNIST). */
  mean?: readonly number[];
  std?: readonly number[];
  augment?: Augment;
  /** Backend of the batch tensors. Default: the default backend. */
  backend?: string;
}

export interface Batch {
  x: Tensor;
  y: Tensor;
  /** Position of this batch in its epoch. */
  index: number;
}

/** A deterministic stream for (seed, epoch, purpose): independent of how far others advanced. */
function stream(seed: number, epoch: number, purpose: number): Generator {
  return new Generator((seed * 1000003 + epoch * 7919 + purpose) % Number.MAX_SAFE_INTEGER);
}

/**
 * @example
 * const loader = new DataLoader(train, { batchSize: 64, shuffle: true, seed: 1 });
 * for (const { x, y } of loader.epoch(0)) { ... }
 */
export class DataLoader {
  readonly options: Required<Omit<LoaderOptions, 'backend' | 'mean' | 'std'>> &
    Pick<LoaderOptions, 'backend' | 'mean' | 'std'>;
  constructor(
    readonly dataset: ImageDataset,
    options: LoaderOptions,
  ) {
    const { batchSize } = options;
    if (!Number.isInteger(batchSize) || batchSize <= 0)
      throw new ArgumentError(`DataLoader: batchSize must be a positive integer, got ${batchSize}`);
    const C = dataset.imageShape[0];
    for (const k of ['mean', 'std'] as const) {
      const v = options[k];
      if (v && v.length !== C)
        throw new ArgumentError(`DataLoader: ${k} needs ${C} values (one per channel), got ${v.length}`);
    }
    if (options.std?.some((s) => !(s > 0)))
      throw new ArgumentError('DataLoader: std values must be positive');
    if ((options.augment?.randomCrop || options.augment?.horizontalFlip) && dataset.imageShape.length !== 3) {
      throw new ArgumentError(
        `DataLoader: crop and flip augmentation need [C, H, W] images, got [${dataset.imageShape.join(',')}]`,
      );
    }
    this.options = { shuffle: false, dropLast: false, seed: 0, augment: {}, ...options };
  }

  /** Number of batches per epoch. */
  get length(): number {
    const n = this.dataset.labels.length;
    return this.options.dropLast
      ? Math.floor(n / this.options.batchSize)
      : Math.ceil(n / this.options.batchSize);
  }

  /** The order of the dataset in epoch `epoch` (identity without shuffling). */
  order(epoch: number): Int32Array {
    const n = this.dataset.labels.length;
    const idx = Int32Array.from({ length: n }, (_, i) => i);
    if (!this.options.shuffle) return idx;
    const keys = rand([n], {
      generator: stream(this.options.seed, epoch, 1),
      dtype: 'float64',
      backend: 'cpu',
    });
    const k = keys.dataSync();
    keys.dispose();
    return idx.sort((a, b) => k[a] - k[b] || a - b);
  }

  /** Batches of epoch `epoch`, starting at batch `from` (to resume mid-epoch). */
  *epoch(epoch: number, from = 0): IterableIterator<Batch> {
    const order = this.order(epoch);
    const { batchSize } = this.options;
    for (let b = from; b < this.length; b++) {
      const idx = order.subarray(b * batchSize, Math.min((b + 1) * batchSize, order.length));
      yield { ...this.assemble(idx, epoch, b), index: b };
    }
  }

  /** Builds one batch: float pixels, normalised, augmented with the batch's own random stream. */
  assemble(idx: Int32Array, epoch = 0, batch = 0): { x: Tensor; y: Tensor } {
    const shape = this.dataset.imageShape;
    // Items of any rank: [C, ...spatial]; the last two dims are the image rows and columns.
    const C = shape[0];
    const W = shape[shape.length - 1];
    const n = shape.reduce((a, b) => a * b, 1);
    const H = n / C / W;
    const out = new Float32Array(idx.length * n);
    const { augment, mean, std } = this.options;
    const pad = augment.randomCrop ?? 0;
    let coins: Float64Array | undefined;
    if (pad > 0 || augment.horizontalFlip) {
      const g = stream(this.options.seed, epoch, 1000 + batch);
      const r = rand([idx.length * 3], { generator: g, dtype: 'float64', backend: 'cpu' });
      coins = r.dataSync() as Float64Array;
      r.dispose();
    }
    const src = this.dataset.images;
    for (let k = 0; k < idx.length; k++) {
      const base = idx[k] * n;
      const dy = coins && pad ? Math.floor(coins[3 * k] * (2 * pad + 1)) - pad : 0;
      const dx = coins && pad ? Math.floor(coins[3 * k + 1] * (2 * pad + 1)) - pad : 0;
      const flip = coins !== undefined && augment.horizontalFlip === true && coins[3 * k + 2] < 0.5;
      for (let c = 0; c < C; c++) {
        const m = mean?.[c] ?? 0;
        const s = std?.[c] ?? 1;
        for (let y = 0; y < H; y++) {
          const sy = y + dy;
          for (let x = 0; x < W; x++) {
            const sx = (flip ? W - 1 - x : x) + dx;
            const v = sy >= 0 && sy < H && sx >= 0 && sx < W ? src[base + (c * H + sy) * W + sx] / 255 : 0;
            out[k * n + (c * H + y) * W + x] = (v - m) / s;
          }
        }
      }
    }
    const labels = Int32Array.from(idx, (i) => this.dataset.labels[i]);
    return {
      x: tensor(out, { shape: [idx.length, ...shape], backend: this.options.backend }),
      y: tensor(labels, { backend: this.options.backend }),
    };
  }
}
