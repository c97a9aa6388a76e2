// @softpool/autograd: reverse-mode automatic differentiation for @softpool/tensor.
// Importing it installs the gradient recorder into the core's dispatch point and registers the
// gradient rule of every core op.
import './engine.js';
import './grads/index.js';

export { type GradOptions, runBackward } from './engine.js';
export { type BackwardContext, defineFunction, type FunctionContext, type FunctionSpec } from './function.js';
export { grad, gradients, valueAndGrad, vjp } from './functional.js';
export { enableGrad, noGrad } from './grad-mode.js';
export {
  GradcheckError,
  type GradcheckOptions,
  type GradcheckResult,
  gradcheck,
  gradgradcheck,
} from './gradcheck.js';
export { sumTo } from './grads/util.js';
export { type DotOptions, printGraph, toDot, toSvg } from './graph.js';
export {
  type GradientRule,
  getGradient,
  listGradients,
  listNonDifferentiable,
  markNonDifferentiable,
  registerGradient,
  type VjpContext,
} from './registry.js';
export { zeroGrad } from './zero-grad.js';
