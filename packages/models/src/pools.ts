// The pooling choice every model takes: one name selects the module used for each downsampling
// layer (the paper's substitution experiment).
import * as L from '@softpool/layers';
import { ArgumentError } from '@softpool/tensor';

export const POOLS = [
  'max',
  'avg',
  'soft',
  'lp',
  'stochastic',
  'mixed',
  'gated',
  'tree',
  'lip',
  's3',
  'dpp',
  'edscw',
  'ada',
] as const;
export type PoolName = (typeof POOLS)[number];

/** Methods that exist for 1-D and 3-D inputs too (the others are 2-D only). */
export const POOLS_ND: readonly PoolName[] = ['max', 'avg', 'soft', 'lp', 'edscw', 'ada'];

export interface PoolSpec {
  /** Spatial rank: 2 for images, 3 for clips. */
  spatial?: 1 | 2 | 3;
  /** Channels entering the pool (learned per-channel methods and LIP need it). */
  channels: number;
  kernelSize?: number;
  stride?: number;
}

/**
 * A downsampling pool layer (kernel 2, stride 2 by default).
 * @example createPool('soft', { channels: 16 }) // new SoftPool2d(2)
 */
export function createPool(
  name: PoolName,
  { spatial = 2, channels, kernelSize = 2, stride = kernelSize }: PoolSpec,
): L.Module {
  if (!POOLS.includes(name))
    throw new ArgumentError(`createPool: unknown pooling '${name}'; choose one of ${POOLS.join(', ')}`);
  if (spatial !== 2 && !POOLS_ND.includes(name)) {
    throw new ArgumentError(
      `createPool: '${name}' pooling exists for 2-D inputs only; for ${spatial}-D use one of ${POOLS_ND.join(', ')}`,
    );
  }
  const o = { stride };
  const by = <T>(v: [T, T, T]) => v[spatial - 1];
  switch (name) {
    case 'max':
      return new (by([L.MaxPool1d, L.MaxPool2d, L.MaxPool3d]))(kernelSize, o);
    case 'avg':
      return new (by([L.AvgPool1d, L.AvgPool2d, L.AvgPool3d]))(kernelSize, o);
    case 'soft':
      return new (by([L.SoftPool1d, L.SoftPool2d, L.SoftPool3d]))(kernelSize, o);
    case 'lp':
      return new (by([L.LPPool1d, L.LPPool2d, L.LPPool3d]))(2, kernelSize, o);
    case 'edscw':
      return new (by([L.EDSCWPool1d, L.EDSCWPool2d, L.EDSCWPool3d]))(kernelSize, o);
    case 'ada':
      return new (by([L.AdaPool1d, L.AdaPool2d, L.AdaPool3d]))(kernelSize, o);
    case 'stochastic':
      return new L.StochasticPool2d(kernelSize, o);
    case 'mixed':
      return new L.MixedPool2d(kernelSize, { ...o, channels });
    case 'gated':
      return new L.GatedPool2d(kernelSize, { ...o, channels });
    case 'tree':
      return new L.TreePool2d(kernelSize, { ...o, channels });
    case 'lip':
      return new L.LIPPool2d(channels, kernelSize, o);
    case 's3':
      return new L.S3Pool2d(stride, { kernelSize });
    case 'dpp':
      return new L.DPPPool2d(kernelSize, { ...o, channels });
  }
}
