// Every pooling method: functions, modules, and the CPU kernels and gradient rules they register.
import './cpu/index.js';
import './webgpu/kernels.js';
import './grads/index.js';

export * from './adaPool.js';
export * from './adaptive.js';
export * from './avgPool.js';
export * from './dppPool.js';
export * from './edscwPool.js';
export {
  axisName,
  type IntOrTuple,
  outputLength,
  type PoolGeometry,
  type PoolOptions,
  resolveGeometry,
} from './geometry.js';
export * from './learned.js';
export * from './lpPool.js';
export * from './maxPool.js';
export * from './modules.js';
export * from './s3Pool.js';
export * from './softPool.js';
export * from './stochasticPool.js';
