// The attributes of the ops this package adds (window poolings, batch norm), declared on the core's
// op map so that registerKernel and registerGradient check them here too.
import type { PoolGeometry } from './pooling/geometry.js';

type SoftPoolAttrs = PoolGeometry & { gradient: 'exact' | 'paper'; temperature: number; stats: boolean };
type AvgPoolAttrs = PoolGeometry & { countIncludePad: boolean };
type LpPoolAttrs = PoolGeometry & { normType: number };
type BatchNormAttrs = { eps: number };

declare module '@softpool/tensor' {
  interface OpAttrs {
    softPool: SoftPoolAttrs;
    softPoolBackward: SoftPoolAttrs;
    maxPool: PoolGeometry;
    maxPoolBackward: PoolGeometry;
    avgPool: AvgPoolAttrs;
    avgPoolBackward: AvgPoolAttrs & { inputShape: number[] };
    lpPool: LpPoolAttrs;
    lpPoolBackward: LpPoolAttrs;
    edscwPool: PoolGeometry;
    edscwPoolBackward: PoolGeometry;
    stochasticPool: PoolGeometry;
    batchNorm: BatchNormAttrs;
    batchNormBackward: BatchNormAttrs;
  }
}
