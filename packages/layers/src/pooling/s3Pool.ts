// S3Pool (Zhai et al., CVPR 2017): max pooling with stride 1, then a stochastic spatial
// downsampling: the map is cut into grid cells and each cell keeps a random, sorted subset of its
// rows and columns (cell / stride of each). Evaluation keeps every stride-th row and column.
import {
  ArgumentError,
  checkTensor,
  defaultGenerator,
  type Generator,
  indexSelect,
  pad,
  rand,
  scope,
  type Tensor,
  tensor,
} from '@softpool/tensor';
import { maxPool2d } from './maxPool.js';

export interface S3PoolOptions {
  /** Downsampling factor per axis. */
  stride: number;
  /** Max-pool kernel (stride 1, size kept by replicate padding). Default 2. */
  kernelSize?: number;
  /** Grid cell size; must divide the input size and be a multiple of stride. Default: stride. */
  gridSize?: number;
  training?: boolean;
  generator?: Generator;
}

/** Kept indices along one axis of length `len`. */
function keep(len: number, s: number, cell: number, training: boolean, generator: Generator): number[] {
  const per = cell / s;
  const out: number[] = [];
  for (let c = 0; c < len; c += cell) {
    if (!training) {
      for (let i = 0; i < per; i++) out.push(c + i * s);
      continue;
    }
    // A random subset of `per` rows of the cell: sort cell positions by random keys.
    const keys = Array.from(rand([cell], { generator, backend: 'cpu', dtype: 'float64' }).dataSync());
    const chosen = keys
      .map((k, i) => [k, i] as const)
      .sort((a, b) => a[0] - b[0])
      .slice(0, per)
      .map(([, i]) => c + i)
      .sort((a, b) => a - b);
    out.push(...chosen);
  }
  return out;
}

/**
 * 2-D S3Pool over [N, C, H, W] (or [C, H, W]).
 * @example s3Pool2d(x, { stride: 2, training: true })
 */
export function s3Pool2d(x: Tensor, options: S3PoolOptions): Tensor {
  // Intermediates are released here: only the result outlives the call.
  return scope(() => {
    checkTensor('s3Pool2d', x);
    if (typeof options !== 'object' || options === null)
      throw new ArgumentError(`s3Pool2d: options { stride } are required, got ${String(options)}`);
    const s = options.stride;
    const k = options.kernelSize ?? 2;
    const cell = options.gridSize ?? s;
    if (!Number.isInteger(s) || s < 1)
      throw new ArgumentError(`s3Pool2d: stride must be a positive integer, got ${s}`);
    if (!Number.isInteger(cell) || cell % s !== 0)
      throw new ArgumentError(`s3Pool2d: gridSize ${cell} must be a multiple of stride ${s}`);
    const [H, W] = x.shape.slice(-2);
    if (H % cell !== 0 || W % cell !== 0) {
      throw new ArgumentError(
        `s3Pool2d: input height ${H} and width ${W} must be multiples of gridSize ${cell}`,
      );
    }
    const padded = k > 1 ? pad(x, [0, k - 1, 0, k - 1], { mode: 'replicate' }) : x;
    const pooled = maxPool2d(padded, { kernelSize: k, stride: 1 });
    const training = options.training ?? true;
    const generator = options.generator ?? defaultGenerator();
    const rows = tensor(keep(H, s, cell, training, generator), { dtype: 'int32', backend: x.backend });
    const cols = tensor(keep(W, s, cell, training, generator), { dtype: 'int32', backend: x.backend });
    return indexSelect(indexSelect(pooled, x.rank - 2, rows), x.rank - 1, cols);
  });
}
