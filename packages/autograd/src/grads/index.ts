// Every core op's gradient rule, registered on import (one file per op, named like the op).
import { markNonDifferentiable } from '../registry.js';
import './abs.js';
import './add.js';
import './cast.js';
import './ceil.js';
import './clamp.js';
import './concat.js';
import './contiguous.js';
import './conv.js';
import './convBackwardInput.js';
import './convBackwardWeight.js';
import './cos.js';
import './div.js';
import './erf.js';
import './exp.js';
import './expand.js';
import './expm1.js';
import './floor.js';
import './gather.js';
import './gelu.js';
import './indexAdd.js';
import './indexSelect.js';
import './leakyRelu.js';
import './log.js';
import './log1p.js';
import './logSoftmax.js';
import './logSumExp.js';
import './matmul.js';
import './max.js';
import './maximum.js';
import './min.js';
import './minimum.js';
import './mul.js';
import './neg.js';
import './pad.js';
import './padBackward.js';
import './permute.js';
import './pow.js';
import './prod.js';
import './reciprocal.js';
import './relu.js';
import './reshape.js';
import './round.js';
import './rsqrt.js';
import './scatterAdd.js';
import './sigmoid.js';
import './sign.js';
import './sin.js';
import './slice.js';
import './sliceBackward.js';
import './softmax.js';
import './sqrt.js';
import './square.js';
import './sub.js';
import './sum.js';
import './tanh.js';
import './to.js';
import './where.js';

// Core ops without a gradient, on purpose. Their outputs are bool or int (record() never makes a
// node for them) or random draws: a gradient would be zero or undefined.
for (const op of [
  'eq',
  'ne',
  'lt',
  'le',
  'gt',
  'ge',
  'logicalAnd',
  'logicalOr',
  'logicalNot',
  'all',
  'any',
] as const)
  markNonDifferentiable(op, 'its output is bool');
for (const op of ['argmax', 'argmin', 'oneHot'] as const)
  markNonDifferentiable(op, 'its output is an integer index');
for (const op of ['rand', 'randn', 'randint', 'bernoulli', 'full'] as const)
  markNonDifferentiable(op, 'it makes a new tensor from its attributes alone (no tensor input)');
markNonDifferentiable(
  'assign',
  'it writes in place into its first input (autograd tracks the version instead)',
);
