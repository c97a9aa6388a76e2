// Checkpoints of a model and an optimizer in one safetensors file: tensors under "model." and
// "optimizer.state.<i>.<key>", everything else (optimizer hyperparameters, step counts, the
// caller's extra fields) as JSON in the metadata.
import type { Tensor } from '@softpool/tensor';
import type { Module } from '../module.js';
import type { Optimizer, OptimizerStateDict, ParamState } from '../optim/optimizer.js';
import {
  loadSafetensors,
  parseSafetensors,
  SafetensorsError,
  saveSafetensors,
  serializeSafetensors,
} from './safetensors.js';

export interface CheckpointParts {
  model: Module;
  optimizer?: Optimizer<{ lr: number }>;
  /** Extra JSON-serialisable data (epoch, RNG state, metrics). */
  extra?: Record<string, unknown>;
}

function flatten({ model, optimizer, extra }: CheckpointParts): {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
} {
  const tensors: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(model.stateDict())) tensors[`model.${k}`] = v;
  const metadata: Record<string, string> = { format: 'softpool-checkpoint-1' };
  if (optimizer) {
    const sd = optimizer.stateDict();
    const scalars: Record<string, Record<string, number>> = {};
    for (const [i, st] of Object.entries(sd.state)) {
      for (const [k, v] of Object.entries(st)) {
        if (typeof v === 'number') (scalars[i] ??= {})[k] = v;
        else tensors[`optimizer.state.${i}.${k}`] = v;
      }
    }
    metadata.optimizer = JSON.stringify({ paramGroups: sd.paramGroups, scalars });
  }
  if (extra) metadata.extra = JSON.stringify(extra);
  return { tensors, metadata };
}

function restore(
  content: { tensors: Record<string, Tensor>; metadata: Record<string, string> },
  { model, optimizer }: CheckpointParts,
): Record<string, unknown> {
  if (content.metadata.format !== 'softpool-checkpoint-1')
    throw new SafetensorsError('loadCheckpoint: not a softpool checkpoint (format metadata missing)');
  const modelState: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(content.tensors))
    if (k.startsWith('model.')) modelState[k.slice(6)] = v;
  model.loadStateDict(modelState);
  if (optimizer) {
    if (!content.metadata.optimizer)
      throw new SafetensorsError('loadCheckpoint: the checkpoint holds no optimizer state');
    const { paramGroups, scalars } = JSON.parse(content.metadata.optimizer) as {
      paramGroups: Record<string, unknown>[];
      scalars: Record<string, Record<string, number>>;
    };
    const state: Record<number, ParamState> = {};
    for (const [i, s] of Object.entries(scalars)) state[Number(i)] = { ...s };
    for (const [k, v] of Object.entries(content.tensors)) {
      const m = /^optimizer\.state\.(\d+)\.(.+)$/.exec(k);
      if (m) (state[Number(m[1])] ??= {})[m[2]] = v;
    }
    optimizer.loadStateDict({ state, paramGroups } as OptimizerStateDict);
  }
  for (const t of Object.values(content.tensors)) t.dispose();
  return content.metadata.extra ? (JSON.parse(content.metadata.extra) as Record<string, unknown>) : {};
}

/** Writes model (and optimizer) state atomically to `path`. */
export async function saveCheckpoint(path: string, parts: CheckpointParts): Promise<void> {
  const { tensors, metadata } = flatten(parts);
  await saveSafetensors(path, tensors, metadata);
}

/** Loads a checkpoint into `model` (and `optimizer`); returns the extra data saved with it. */
export async function loadCheckpoint(path: string, parts: CheckpointParts): Promise<Record<string, unknown>> {
  return restore(await loadSafetensors(path), parts);
}

/** In-memory forms, for browsers. */
export async function checkpointBytes(parts: CheckpointParts): Promise<Uint8Array> {
  const { tensors, metadata } = flatten(parts);
  return serializeSafetensors(tensors, metadata);
}

export function loadCheckpointBytes(
  bytes: ArrayBuffer | Uint8Array,
  parts: CheckpointParts,
): Record<string, unknown> {
  return restore(parseSafetensors(bytes), parts);
}
