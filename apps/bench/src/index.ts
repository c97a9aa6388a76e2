// The benchmark harness as a library: the experiments' cost measurement reuses it.
export { type Case, type Mode, type PoolCase, poolBytes, type TrainCase } from './cases.js';
export { copyBandwidth, type MeasureOptions, measure, type Timing } from './harness.js';
export { measureOurs, oursRunner, type Runner } from './ours.js';
