// Image utilities: resizing and similarity metrics (used by the experiments and the playground).
export * from './interpolate.js';
export * from './metrics.js';
