// The attributes of the ops this package adds (window poolings, batch norm, the fused optimizer steps, nllLoss), declared on the core's
// op map so that registerKernel and registerGradient check them here too.
import type { AdamConstants, SgdConstants } from '@softpool/tensor';
import type { PoolGeometry } from './pooling/geometry.js';

type SoftPoolAttrs = PoolGeometry & { gradient: 'exact' | 'paper'; temperature: number; stats: boolean };
type AvgPoolAttrs = PoolGeometry & { countIncludePad: boolean };
type LpPoolAttrs = PoolGeometry & { normType: number };
/** `relu`: the output is relu(batch norm) (the forward only; see nn/grads.ts). */
type BatchNormAttrs = { eps: number; relu?: boolean };
/** One Adam step (inputs: param, grad, expAvg, expAvgSq[, maxExpAvgSq], all updated in place). */
type AdamStepAttrs = AdamConstants;
/** One SGD step (inputs: param, grad[, momentumBuffer], updated in place; `first` fills the buffer). */
type SgdStepAttrs = SgdConstants;
/** nllLoss on [N, C] log-probabilities (inputs: logProbs, target[, weight]). */
type NllAttrs = { ignoreIndex: number; reduction: 'mean' | 'sum' | 'none' };

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
    adamStep: AdamStepAttrs;
    sgdStep: SgdStepAttrs;
    nllLoss: NllAttrs;
    /** Inputs: the loss's gradient, target[, weight]; the result is [N, classes]. */
    nllLossBackward: NllAttrs & { classes: number };
  }
}
