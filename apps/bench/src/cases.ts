// The benchmark cases and their sizes (the smoke mode shrinks every size so the suite runs in
// seconds and cannot rot). Each case knows its work (FLOPs or bytes) for derived figures.
import { POOLS, POOLS_ND, type PoolName } from '@softpool/models';

export type Mode = 'fwd' | 'fwd+bwd';

// SoftPool first, so tables read SoftPool, then the baselines it is compared with.
const softFirst = (names: readonly PoolName[]) => ['soft' as const, ...names.filter((n) => n !== 'soft')];
export const POOL_METHODS_2D = softFirst(POOLS);
export const POOL_METHODS_ND = softFirst(POOLS_ND);
export type PoolMethod = PoolName;

export interface PoolCase {
  kind: 'pool';
  id: string;
  method: PoolMethod;
  shape: number[];
  kernel: number;
  stride: number;
  mode: Mode;
}
export interface MatmulCase {
  kind: 'matmul';
  id: string;
  n: number;
}
export interface ConvCase {
  kind: 'conv';
  id: string;
  input: number[];
  filters: number;
  k: number;
  mode: Mode;
  /** One filter per input channel (groups = channels, weight [C, 1, k, k]), as in MobileNets. */
  depthwise?: boolean;
}
export interface TrainCase {
  kind: 'train';
  id: string;
  model: 'lenet5' | 'vgg';
  pool: 'max' | 'avg' | 'soft';
  batch: number;
}
/**
 * One forward call of a large op outside the matrix products: Math's functions, the softmax family,
 * reductions, masks and broadcasts (all split over the CPU threads when large).
 */
export interface OpCase {
  kind: 'op';
  id: string;
  op: 'exp' | 'tanh' | 'gelu' | 'softmax' | 'logSoftmax' | 'maxChannels' | 'argmax' | 'where' | 'addBias';
  shape: number[];
}
export type Case = PoolCase | MatmulCase | ConvCase | TrainCase | OpCase;

export function allCases(smoke: boolean): Case[] {
  const cases: Case[] = [];
  const pool = (method: PoolMethod, shape: number[], kernel: number, stride: number) => {
    for (const mode of ['fwd', 'fwd+bwd'] as const) {
      cases.push({
        kind: 'pool',
        id: `pool ${method} [${shape.join(',')}] k${kernel}s${stride} ${mode}`,
        method,
        shape,
        kernel,
        stride,
        mode,
      });
    }
  };
  const s2 = smoke
    ? [[2, 4, 8, 8]]
    : [
        [16, 32, 64, 64],
        [10, 32, 80, 80],
      ];
  for (const shape of s2)
    for (const [k, s] of [
      [2, 2],
      [3, 2],
    ])
      for (const m of POOL_METHODS_2D) pool(m, shape, k, s);
  for (const m of POOL_METHODS_ND) pool(m, smoke ? [2, 4, 16] : [16, 32, 4096], 2, 2);
  const s3 = smoke
    ? [[1, 2, 4, 8, 8]]
    : [
        [2, 8, 16, 32, 32],
        [10, 32, 8, 80, 80],
      ];
  for (const shape of s3) for (const m of POOL_METHODS_ND) pool(m, shape, 2, 2);
  for (const n of smoke ? [32] : [256, 512, 1024]) cases.push({ kind: 'matmul', id: `matmul ${n}^3`, n });
  // Activations of a convolution layer; an attention map (softmax over its last axis); logits.
  const ops = [
    ['exp', smoke ? [2, 4, 8, 8] : [64, 32, 28, 28]],
    ['tanh', smoke ? [2, 4, 8, 8] : [64, 32, 28, 28]],
    ['gelu', smoke ? [2, 4, 8, 8] : [64, 32, 28, 28]],
    ['softmax', smoke ? [2, 2, 8, 8] : [16, 8, 128, 128]],
    ['logSoftmax', smoke ? [4, 10] : [512, 1000]],
    // max over the channels (axis 1), argmax of logits' rows, where(x > 0, x, 0), x + a [C,1,1] bias.
    ['maxChannels', smoke ? [2, 4, 8, 8] : [64, 32, 28, 28]],
    ['argmax', smoke ? [4, 10] : [512, 1000]],
    ['where', smoke ? [2, 4, 8, 8] : [64, 32, 28, 28]],
    ['addBias', smoke ? [2, 4, 8, 8] : [64, 32, 28, 28]],
  ] as const;
  for (const [op, shape] of ops)
    cases.push({ kind: 'op', id: `${op} [${shape.join(',')}]`, op, shape: [...shape] });
  const conv = smoke ? [2, 4, 8, 8] : [16, 32, 32, 32];
  for (const mode of ['fwd', 'fwd+bwd'] as const)
    cases.push({
      kind: 'conv',
      id: `conv2d [${conv.join(',')}] x ${smoke ? 4 : 64} 3x3 ${mode}`,
      input: conv,
      filters: smoke ? 4 : 64,
      k: 3,
      mode,
    });
  const dw = smoke ? [2, 4, 8, 8] : [16, 64, 32, 32];
  for (const mode of ['fwd', 'fwd+bwd'] as const)
    cases.push({
      kind: 'conv',
      id: `conv2d depthwise [${dw.join(',')}] 3x3 ${mode}`,
      input: dw,
      filters: dw[1],
      k: 3,
      mode,
      depthwise: true,
    });
  // Smoke runs keep to LeNet: the VGG step of tfjs-cpu alone takes seconds.
  for (const model of smoke ? (['lenet5'] as const) : (['lenet5', 'vgg'] as const)) {
    for (const p of ['max', 'avg', 'soft'] as const)
      cases.push({
        kind: 'train',
        id: `train ${model} ${p} batch ${smoke ? 4 : 64}`,
        model,
        pool: p,
        batch: smoke ? 4 : 64,
      });
  }
  return cases;
}

/** Bytes a pooling case must move at least: read the input, write the output (and the reverse for backward). */
export function poolBytes(c: PoolCase): number {
  const n = c.shape.reduce((a, b) => a * b, 1);
  const spatial = c.shape.slice(2);
  const out =
    c.shape[0] * c.shape[1] * spatial.reduce((a, d) => a * (Math.floor((d - c.kernel) / c.stride) + 1), 1);
  const fwd = 4 * (n + out);
  return c.mode === 'fwd' ? fwd : fwd + 4 * (2 * n + 2 * out);
}
