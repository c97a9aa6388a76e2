// @softpool/tensor: tensors, dtypes, views, the dispatch point and the CPU backend.
import './cpu/index.js';
import './generic-kernels.js';
import './methods.js';

export {
  type Backend,
  type BackendMemory,
  defaultBackend,
  getBackend,
  initBackend,
  listBackends,
  type MemoryInfo,
  memory,
  peakMemory,
  registerBackend,
  registerBackendFactory,
  resetPeakMemory,
  Storage,
  setBackend,
} from './backend.js';
export {
  broadcastOperand,
  buf as cpuData,
  cachedMemory,
  empty as cpuEmpty,
  emptyCache,
  emptyUnfilled as cpuEmptyUnfilled,
  operand,
  readContiguous,
} from './cpu/backend.js';
export { batchNormBackwardFloat32, batchNormFloat32 } from './cpu/batch-norm.js';
export { mapStrided, type Operand, reduceStrided } from './cpu/codegen.js';
export { gemmPacked, type PackA, type PackB, type UnpackC } from './cpu/gemm.js';
export { cpuAddress, cpuFill } from './cpu/heap.js';
export { cpu } from './cpu/index.js';
export {
  type AdamConstants,
  adamStepFloat32,
  type SgdConstants,
  sgdStepFloat32,
} from './cpu/optim-steps.js';
export {
  cpuInfo,
  getNumThreads,
  registerCpuKernels,
  runCpuKernels,
  setNumThreads,
  threadsReady,
} from './cpu/threads.js';
export { type CpuMemory, cpuMemory } from './cpu/wasm.js';
export { debugEnabled, debugLog, setDebug } from './debug.js';
export {
  type BackwardOptions,
  type DispatchListener,
  dispatch,
  type GradRecorder,
  gradRecorder,
  isGradRecording,
  onDispatch,
  run,
  setGradRecorder,
} from './dispatch.js';
export {
  allocArray,
  BYTES_PER_ELEMENT,
  DTYPES,
  type DType,
  isFloat,
  promoteTypes,
  type TypedArray,
} from './dtype.js';
export {
  ArgumentError,
  BackendError,
  DTypeError,
  fmtShape,
  ShapeError,
  SoftpoolError,
  StateError,
} from './errors.js';
export { formatValues } from './format.js';
export {
  ANY_BACKEND,
  type Attrs,
  getKernel,
  hasKernel,
  type Kernel,
  listOps,
  registerKernel,
} from './kernels.js';
export type { NoAttrs, OpAttrs, OpName } from './op-attrs.js';
export * from './ops/conv.js';
export * from './ops/creation.js';
export * from './ops/elementwise.js';
export * from './ops/indexing.js';
export * from './ops/inplace.js';
export * from './ops/linalg.js';
export * from './ops/random.js';
export * from './ops/reduce.js';
export { variance as var } from './ops/reduce.js';
export * from './ops/shape-ops.js';
export { type BackendLike, checkTensor, isTensor, showArg, type TensorLike } from './ops/util.js';
export * from './ops/view.js';
export { defaultGenerator, Generator, manualSeed, type RngState, threefry2x32 } from './random.js';
export { keep, scope } from './scope.js';
export { type ComputeProgram, isShaderBackend, type ShaderBackend } from './shader.js';
export {
  broadcastShapes,
  contiguousStrides,
  isContiguous,
  normalizeAxes,
  normalizeAxis,
  reducedShape,
  type Shape,
  shapesEqual,
  sizeOf,
} from './shape.js';
export { type GradFn, makeTensor, makeView, type NestedArray, shareHandle, Tensor } from './tensor.js';
