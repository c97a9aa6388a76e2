// Command-line flags of `softpool-train`, validated with messages that say what to fix.
import { parseArgs } from 'node:util';
import { MODELS, POOLS, type PoolName } from '@softpool/models';

export interface TrainArgs {
  model: string;
  pool: PoolName;
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: 'sgd' | 'adam' | 'adamw';
  weightDecay: number;
  scheduler: 'none' | 'step' | 'cosine' | 'onecycle';
  backend: 'cpu' | 'webgpu';
  data?: string;
  seed: number;
  out: string;
  resume?: string;
  evalOnly: boolean;
  /** Write the model's weights alone (plain names, PyTorch's state_dict layout) to this file. */
  exportWeights?: string;
  exportOnnx?: string;
  augment: boolean;
  limit?: number;
  quiet: boolean;
  help: boolean;
}

export class UsageError extends Error {}

/** Models the CLI trains (the 3-D CNN needs clips, not Fashion-MNIST). */
export const IMAGE_MODELS = Object.keys(MODELS).filter((m) => m !== 'cnn3d');

export const HELP = `Usage: softpool-train [options]

Train a small CNN on Fashion-MNIST with any pooling method (default: LeNet-5 with SoftPool on the
subset shipped with @softpool/data, on the CPU).

Options:
  --model NAME          ${IMAGE_MODELS.join(' | ')} (default lenet5)
  --pool NAME           ${POOLS.join(' | ')} (default soft)
  --epochs N            training epochs (default 10)
  --batch-size N        batch size (default 64)
  --lr X                learning rate (default 0.002 for adam/adamw, 0.05 for sgd)
  --optimizer NAME      sgd | adam | adamw (default adam)
  --weight-decay X      weight decay (default 0; adamw: 0.01)
  --scheduler NAME      none | step | cosine | onecycle (default cosine)
  --backend NAME        cpu | webgpu (default cpu)
  --data DIR            directory with the full Fashion-MNIST IDX files
                        (Debian: /usr/share/datasets/fashion-mnist); default: the embedded subset
  --augment             random crop (padding 2) and horizontal flip
  --seed N              seed of initialisation, shuffling, augmentation and dropout (default 1)
  --out DIR             run directory: checkpoints, metrics.json, metrics.csv (default runs/<model>-<pool>)
  --resume FILE         continue from a checkpoint (same seed: same result as an uninterrupted run)
  --eval-only           evaluate the checkpoint (or weights file) given by --resume on the test split
  --export-weights FILE after training (or with --eval-only), write the model's weights alone:
                        plain names as in PyTorch's state_dict, metadata naming the model
  --export-onnx FILE    after training (or with --eval-only), write the model as ONNX (any batch
                        size; input [batch, ...input shape], normalised as metadata says)
  --limit N             use only the first N training and N/5 test images (smoke runs)
  --quiet               no progress output
  -h, --help            show this help

Ctrl-C saves a checkpoint (<out>/interrupted.safetensors) and exits; --resume it to continue.`;

function num(
  name: string,
  v: string | undefined,
  { int = false, min = -Infinity, minExclusive = false, max = Number.MAX_SAFE_INTEGER } = {},
): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (
    v.trim() === '' ||
    !Number.isFinite(n) ||
    (int && !Number.isInteger(n)) ||
    (minExclusive ? n <= min : n < min) ||
    n > max
  ) {
    const what = int ? 'an integer' : 'a number';
    throw new UsageError(
      `--${name} must be ${what} ${minExclusive ? '>' : '>='} ${min} and <= ${max}, got '${v}'`,
    );
  }
  return n;
}

const STRING_OPTIONS = new Set([
  'model',
  'pool',
  'epochs',
  'batch-size',
  'lr',
  'optimizer',
  'weight-decay',
  'scheduler',
  'backend',
  'data',
  'seed',
  'out',
  'resume',
  'limit',
  'export-weights',
  'export-onnx',
]);

/**
 * `--epochs -1` would read as two flags: glue a value that starts with a dash but is a number to
 * its flag (`--epochs=-1`), so the range check can answer. A leading `--` (what
 * `pnpm train -- --help` passes) is dropped.
 */
function normalise(argv: string[]): string[] {
  const a = argv[0] === '--' ? argv.slice(1) : [...argv];
  const out: string[] = [];
  for (let i = 0; i < a.length; i++) {
    const next = a[i + 1];
    if (
      a[i].startsWith('--') &&
      STRING_OPTIONS.has(a[i].slice(2)) &&
      next !== undefined &&
      /^-(\d|\.\d|Infinity)/.test(next)
    ) {
      out.push(`${a[i]}=${next}`);
      i++;
    } else out.push(a[i]);
  }
  return out;
}

function choice<T extends string>(name: string, v: string | undefined, allowed: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (!allowed.includes(v as T))
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got '${v}'`);
  return v as T;
}

export function parse(argv: string[]): TrainArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: normalise(argv),
      strict: true,
      allowPositionals: false,
      options: {
        model: { type: 'string' },
        pool: { type: 'string' },
        epochs: { type: 'string' },
        'batch-size': { type: 'string' },
        lr: { type: 'string' },
        optimizer: { type: 'string' },
        'weight-decay': { type: 'string' },
        scheduler: { type: 'string' },
        backend: { type: 'string' },
        data: { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        resume: { type: 'string' },
        'eval-only': { type: 'boolean' },
        'export-weights': { type: 'string' },
        'export-onnx': { type: 'string' },
        augment: { type: 'boolean' },
        limit: { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
  const s = (k: string) => values[k] as string | undefined;
  if (s('model') === 'cnn3d')
    throw new UsageError('--model cnn3d trains on clips, not Fashion-MNIST; use lenet5, vgg or resnet20');
  const model = choice('model', s('model'), IMAGE_MODELS, 'lenet5');
  const optimizer = choice('optimizer', s('optimizer'), ['sgd', 'adam', 'adamw'] as const, 'adam');
  const pool = choice('pool', s('pool'), POOLS, 'soft');
  const args: TrainArgs = {
    model,
    pool,
    epochs: num('epochs', s('epochs'), { int: true, min: 1, max: 100_000 }) ?? 10,
    batchSize: num('batch-size', s('batch-size'), { int: true, min: 1, max: 65_536 }) ?? 64,
    lr: num('lr', s('lr'), { min: 0, minExclusive: true, max: 1e6 }) ?? (optimizer === 'sgd' ? 0.05 : 0.002),
    optimizer,
    weightDecay:
      num('weight-decay', s('weight-decay'), { min: 0, max: 1e6 }) ?? (optimizer === 'adamw' ? 0.01 : 0),
    scheduler: choice('scheduler', s('scheduler'), ['none', 'step', 'cosine', 'onecycle'] as const, 'cosine'),
    backend: choice('backend', s('backend'), ['cpu', 'webgpu'] as const, 'cpu'),
    data: s('data'),
    seed: num('seed', s('seed'), { int: true, min: 0 }) ?? 1,
    out: s('out') ?? `runs/${model}-${pool}`,
    resume: s('resume'),
    evalOnly: values['eval-only'] === true,
    exportWeights: s('export-weights'),
    exportOnnx: s('export-onnx'),
    augment: values.augment === true,
    limit: num('limit', s('limit'), { int: true, min: 10, max: 10_000_000 }),
    quiet: values.quiet === true,
    help: values.help === true,
  };
  if (args.evalOnly && !args.resume)
    throw new UsageError('--eval-only needs --resume FILE (the checkpoint to evaluate)');
  return args;
}
