// Gradient rules of the window poolings, registered with @softpool/autograd.
import { markNonDifferentiable } from '@softpool/autograd';
import './softPool.js';
import './maxPool.js';
import './avgPool.js';
import './lpPool.js';
import './edscwPool.js';
import './stochasticPool.js';

// The backward kernels are fused ops without a rule of their own: a second derivative through a
// pooling layer (gradgradcheck, gradient penalties) stops here with this reason.
for (const op of [
  'softPoolBackward',
  'maxPoolBackward',
  'avgPoolBackward',
  'lpPoolBackward',
  'edscwPoolBackward',
] as const)
  markNonDifferentiable(
    op,
    'second derivatives of pooling are not implemented (its backward is one fused kernel)',
  );
