// The trainer as a library, for other apps (the experiments runner trains through the same loop).
export { HELP, parse, type TrainArgs, UsageError } from './args.js';
export { processAlive, writeAtomic } from './io.js';
export { type EpochMetrics, Progress } from './progress.js';
export {
  evaluate,
  FASHION_MNIST_MEAN,
  FASHION_MNIST_STD,
  loadData,
  type RunData,
  type RunHooks,
  type RunResult,
  run,
} from './train.js';
