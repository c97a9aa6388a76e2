// Messages between the page and the training worker. Training runs in the worker so the page
// stays responsive; the page only draws what the worker reports.
import type { PoolName } from '@softpool/models';

export interface TrainConfig {
  model: 'lenet5' | 'vgg';
  pool: PoolName;
  backend: 'webgpu' | 'cpu';
  batchSize: number;
  epochs: number;
  lr: number;
  seed: number;
  /** Train on the first N images of the embedded subset (and N/5 test images); all when absent. */
  limit?: number;
}

export type ToWorker =
  | { type: 'init'; backend: 'webgpu' | 'cpu' }
  | { type: 'start'; config: TrainConfig }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  | { type: 'predict'; pixels: Float32Array }
  | { type: 'save' }
  | { type: 'load'; bytes: Uint8Array };

export interface EpochReport {
  epoch: number;
  trainLoss: number;
  trainAcc: number;
  testAcc: number;
  confusion: number[][];
  samples: { pixels: number[]; label: number; pred: number }[];
}

export type FromWorker =
  | { type: 'ready'; backend: string; adapter: string; note?: string }
  | {
      type: 'progress';
      epoch: number;
      step: number;
      steps: number;
      loss: number;
      acc: number;
      imgsPerSec: number;
      eta: number;
    }
  | ({ type: 'epoch' } & EpochReport)
  | { type: 'finished'; stopped: boolean }
  | { type: 'prediction'; probs: number[] }
  | { type: 'saved'; bytes: Uint8Array }
  | { type: 'loaded'; model: string; pool: string }
  | { type: 'error'; message: string };
