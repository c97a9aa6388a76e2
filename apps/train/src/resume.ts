// What a checkpoint was trained with, against the flags of the run that resumes (or evaluates) it:
// a flag that changes what the run computes must match; the others may differ, and are reported.
import { readFile } from 'node:fs/promises';
import * as L from '@softpool/layers';
import { type TrainArgs, UsageError } from './args.js';

/** The arguments saved in every checkpoint. */
export type SavedArgs = Partial<
  Pick<
    TrainArgs,
    | 'model'
    | 'pool'
    | 'seed'
    | 'epochs'
    | 'batchSize'
    | 'optimizer'
    | 'lr'
    | 'weightDecay'
    | 'scheduler'
    | 'augment'
    | 'limit'
    | 'data'
  >
>;

const FLAG: Record<keyof SavedArgs, string> = {
  model: '--model',
  pool: '--pool',
  seed: '--seed',
  epochs: '--epochs',
  batchSize: '--batch-size',
  optimizer: '--optimizer',
  lr: '--lr',
  weightDecay: '--weight-decay',
  scheduler: '--scheduler',
  augment: '--augment',
  limit: '--limit',
  data: '--data',
};

/** Flags that change what a resumed run computes; only the architecture matters to --eval-only. */
const MUST_MATCH_TRAIN: (keyof SavedArgs)[] = [
  'model',
  'pool',
  'seed',
  'batchSize',
  'optimizer',
  'lr',
  'weightDecay',
  'scheduler',
  'augment',
  'limit',
  'data',
];
const MUST_MATCH_EVAL: (keyof SavedArgs)[] = ['model', 'pool'];

export function savedArgs(a: TrainArgs): SavedArgs {
  return Object.fromEntries(Object.keys(FLAG).map((k) => [k, a[k as keyof SavedArgs]])) as SavedArgs;
}

const show = (v: unknown) => (v === undefined ? '(not set)' : JSON.stringify(v));

/**
 * Throws a UsageError naming every conflicting flag; returns notes on the allowed differences.
 * Keys an older checkpoint did not save are not compared.
 */
export function checkResume(saved: SavedArgs, now: TrainArgs, file: string): string[] {
  const current = savedArgs(now);
  const mustMatch = now.evalOnly ? MUST_MATCH_EVAL : MUST_MATCH_TRAIN;
  const conflicts: string[] = [];
  const notes: string[] = [];
  for (const k of Object.keys(FLAG) as (keyof SavedArgs)[]) {
    if (!(k in saved)) continue;
    const a = saved[k];
    const b = current[k];
    if (a === b || (a === undefined && b === undefined)) continue;
    if (mustMatch.includes(k))
      conflicts.push(`${FLAG[k]} ${show(b)} (the checkpoint was trained with ${show(a)})`);
    else if (!now.evalOnly && k === 'epochs')
      notes.push(`training for ${b} epochs instead of the ${a} it was started with`);
  }
  if (conflicts.length)
    throw new UsageError(
      `${file} does not match this run: ${conflicts.join('; ')}. Pass the checkpoint's values, or start a new run without --resume`,
    );
  return notes;
}

/** The format tag of weights-only files (`--export-weights`). */
export const WEIGHTS_FORMAT = 'softpool-weights-1';
/** The format tag in the metadata of ONNX files (`--export-onnx`). */
export const ONNX_FORMAT = 'softpool-onnx-1';

/**
 * Reads a checkpoint, or a weights-only file (`weights: true`: no optimizer state, plain names),
 * with a message that names the file when it cannot be read.
 */
export async function readCheckpoint(
  file: string,
): Promise<{ bytes: Uint8Array; saved: SavedArgs; weights: boolean }> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (e) {
    throw new UsageError(
      `cannot read checkpoint ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  const content = L.parseSafetensors(bytes);
  for (const t of Object.values(content.tensors)) t.dispose();
  // Anything but softpool's checkpoint format is a plain state dict (ours or PyTorch's).
  const weights = content.metadata.format !== 'softpool-checkpoint-1';
  let saved: SavedArgs = {};
  try {
    const meta = weights ? content.metadata.args : content.metadata.extra;
    const parsed = JSON.parse(meta ?? '{}') as { args?: SavedArgs } & SavedArgs;
    saved = (weights ? parsed : parsed.args) ?? {};
  } catch {
    throw new UsageError(`${file}: its metadata is not valid JSON`);
  }
  return { bytes, saved, weights };
}
