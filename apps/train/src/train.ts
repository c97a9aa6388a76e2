// The training loop behind the CLI, usable programmatically (tests drive it directly): data,
// model, optimizer and scheduler from the arguments; checkpoints every epoch and on interruption;
// resuming restores every random stream, so a resumed run equals an uninterrupted one.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { DataLoader, type ImageDataset, loadFashionMnist, sliceDataset } from '@softpool/data';
import * as L from '@softpool/layers';
import { createModel, MODELS } from '@softpool/models';
import { exportOnnx } from '@softpool/onnx';
import {
  argmax,
  defaultGenerator,
  eq,
  manualSeed,
  type RngState,
  scope,
  setBackend,
  sum,
  zeros,
} from '@softpool/tensor';
import { type TrainArgs, UsageError } from './args.js';
import { writeAtomic } from './io.js';
import { type EpochMetrics, metricsCsv, type Progress, summaryTable } from './progress.js';
import {
  checkResume,
  ONNX_FORMAT,
  readCheckpoint,
  type SavedArgs,
  savedArgs,
  WEIGHTS_FORMAT,
} from './resume.js';

/** Fashion-MNIST pixel statistics (the training set's mean and std of pixel / 255). */
export const FASHION_MNIST_MEAN = [0.286];
export const FASHION_MNIST_STD = [0.353];

/** What a run trains and tests on; `mean`/`std` normalise pixel / 255 (default: Fashion-MNIST's). */
export interface RunData {
  train: ImageDataset;
  test: ImageDataset;
  mean?: readonly number[];
  std?: readonly number[];
}

export interface RunHooks {
  progress: Progress;
  /** Polled between steps: true stops the run after saving a checkpoint. */
  shouldStop?: () => boolean;
}

export interface RunResult {
  history: EpochMetrics[];
  /** Set when the run stopped early; the checkpoint to resume from. */
  interrupted?: string;
  testAcc?: number;
}

interface Extra {
  epoch: number;
  step: number;
  rng: RngState;
  scheduler: { lastEpoch: number } | null;
  history: EpochMetrics[];
  running: { loss: number; correct: number; seen: number; seconds: number };
  args: SavedArgs;
  /** What the checkpoint holds: input shape, normalisation, library version. */
  about?: ReturnType<typeof describe>;
}

/**
 * What the user asked to take away after training or --eval-only: the weights alone, under the
 * names PyTorch's `state_dict` uses, and/or the model as ONNX; both carry metadata naming what they
 * are (model, pooling, input shape, normalisation) so that they can be used elsewhere.
 */
async function exportModel(
  args: TrainArgs,
  model: L.Module,
  data: RunData,
  progress: Progress,
): Promise<void> {
  const about = describe(args, data);
  const metadata = {
    args: JSON.stringify({ model: args.model, pool: args.pool }),
    inputShape: JSON.stringify(about.inputShape),
    normalization: JSON.stringify(about.normalization),
    library: about.library,
  };
  if (args.exportWeights) {
    await L.saveSafetensors(args.exportWeights, model.stateDict(), { format: WEIGHTS_FORMAT, ...metadata });
    progress.line(`weights: ${args.exportWeights}`);
  }
  if (args.exportOnnx) {
    // The exporter traces on the CPU; this is the end of the run, so the model may move there.
    if (args.backend !== 'cpu') await model.to('cpu');
    const example = zeros([1, ...about.inputShape]);
    const bytes = exportOnnx(model, example, { metadata: { format: ONNX_FORMAT, ...metadata } });
    example.dispose();
    await writeAtomic(args.exportOnnx, bytes);
    progress.line(`onnx: ${args.exportOnnx}`);
  }
}

/** What a saved model is: its input, the normalisation it expects, the library that wrote it. */
function describe(args: TrainArgs, data: RunData) {
  const version = (createRequire(import.meta.url)('@softpool/layers/package.json') as { version: string })
    .version;
  return {
    inputShape: MODELS[args.model]?.input ?? [...data.train.imageShape],
    normalization: {
      mean: data.mean ?? FASHION_MNIST_MEAN,
      std: data.std ?? FASHION_MNIST_STD,
      of: 'pixel / 255',
    },
    library: `softpool ${version}`,
  };
}

/** Training stopped at a non-finite loss (nothing is saved from that point on). */
export class DivergedError extends Error {}

export async function loadData(args: TrainArgs): Promise<{ train: ImageDataset; test: ImageDataset }> {
  let [train, test] = await Promise.all([
    loadFashionMnist({ split: 'train', dir: args.data }),
    loadFashionMnist({ split: 'test', dir: args.data }),
  ]);
  if (args.limit) {
    train = sliceDataset(train, 0, Math.min(args.limit, train.labels.length));
    test = sliceDataset(test, 0, Math.min(Math.max(10, Math.floor(args.limit / 5)), test.labels.length));
  }
  return { train, test };
}

function makeOptimizer(args: TrainArgs, model: L.Module): L.Optimizer<{ lr: number }> {
  const params = model.parameters();
  if (args.optimizer === 'sgd')
    return new L.SGD(params, { lr: args.lr, momentum: 0.9, weightDecay: args.weightDecay, nesterov: true });
  if (args.optimizer === 'adamw') return new L.AdamW(params, { lr: args.lr, weightDecay: args.weightDecay });
  return new L.Adam(params, { lr: args.lr, weightDecay: args.weightDecay });
}

function makeScheduler(
  args: TrainArgs,
  opt: L.Optimizer<{ lr: number }>,
  stepsPerEpoch: number,
): L.LRScheduler | null {
  switch (args.scheduler) {
    case 'step':
      return new L.StepLR(opt, Math.max(1, Math.floor(args.epochs / 3)), 0.1);
    case 'cosine':
      return new L.CosineAnnealingLR(opt, args.epochs);
    case 'onecycle':
      return new L.OneCycleLR(opt, args.lr, args.epochs * stepsPerEpoch);
    default:
      return null;
  }
}

/** Test-set loss and accuracy, without recording gradients (read back asynchronously: any backend). */
export async function evaluate(
  model: L.Module,
  data: ImageDataset,
  batchSize = 500,
  backend?: string,
  { mean = FASHION_MNIST_MEAN, std = FASHION_MNIST_STD }: Pick<RunData, 'mean' | 'std'> = {},
): Promise<{ loss: number; acc: number }> {
  model.eval();
  const loader = new DataLoader(data, { batchSize, mean, std, backend });
  let loss = 0;
  let correct = 0;
  for (const { x, y } of loader.epoch(0)) {
    const [l, c] = scope(() => {
      const logits = model.forward(x);
      return [L.crossEntropy(logits, y, { reduction: 'sum' }), sum(eq(argmax(logits, 1), y))];
    });
    loss += await l.item();
    correct += await c.item();
    for (const t of [l, c, x, y]) t.dispose();
  }
  return { loss: loss / data.labels.length, acc: correct / data.labels.length };
}

export async function run(args: TrainArgs, data: RunData, hooks: RunHooks): Promise<RunResult> {
  const { progress } = hooks;
  // The WebGPU backend (and its optional Dawn dependency) loads only when asked for.
  if (args.backend === 'webgpu') await import('@softpool/webgpu' as string);
  if (args.backend !== 'cpu') await setBackend(args.backend);
  manualSeed(args.seed);
  const model = createModel(args.model, { pool: args.pool });
  if (args.backend !== 'cpu') await model.to(args.backend);
  const loader = new DataLoader(data.train, {
    batchSize: args.batchSize,
    shuffle: true,
    seed: args.seed,
    mean: data.mean ?? FASHION_MNIST_MEAN,
    std: data.std ?? FASHION_MNIST_STD,
    augment: args.augment ? { randomCrop: 2, horizontalFlip: true } : {},
    backend: args.backend,
  });
  const opt = makeOptimizer(args, model);
  const sched = makeScheduler(args, opt, loader.length);
  let start = { epoch: 0, step: 0 };
  let history: EpochMetrics[] = [];
  let running = { loss: 0, correct: 0, seen: 0, seconds: 0 };

  if (args.resume) {
    const { bytes, saved, weights } = await readCheckpoint(args.resume);
    for (const note of checkResume(saved, args, args.resume)) progress.line(`note: ${note}`);
    if (weights) {
      if (!args.evalOnly)
        throw new UsageError(
          `${args.resume} holds weights only (no optimizer or training state): evaluate it with --eval-only, or resume from a checkpoint`,
        );
      const { tensors } = L.parseSafetensors(bytes);
      model.loadStateDict(tensors);
      for (const t of Object.values(tensors)) t.dispose();
      const { loss, acc } = await evaluate(model, data.test, 500, args.backend, data);
      progress.line(
        `test loss ${loss.toFixed(4)}, test accuracy ${(acc * 100).toFixed(2)}% (${data.test.labels.length} images)`,
      );
      await exportModel(args, model, data, progress);
      return { history, testAcc: acc };
    }
    const extra = L.loadCheckpointBytes(bytes, {
      model,
      optimizer: args.evalOnly ? undefined : opt,
    }) as unknown as Extra;
    start = { epoch: extra.epoch, step: extra.step };
    history = extra.history ?? [];
    running = extra.running ?? running;
    defaultGenerator().setState(extra.rng);
    if (sched && extra.scheduler) sched.loadStateDict(extra.scheduler);
    progress.line(`resumed from ${args.resume} at epoch ${start.epoch + 1}, step ${start.step}`);
  }
  if (args.evalOnly) {
    const { loss, acc } = await evaluate(model, data.test, 500, args.backend, data);
    progress.line(
      `test loss ${loss.toFixed(4)}, test accuracy ${(acc * 100).toFixed(2)}% (${data.test.labels.length} images)`,
    );
    await exportModel(args, model, data, progress);
    return { history, testAcc: acc };
  }

  const save = async (file: string, epoch: number, step: number): Promise<string> => {
    const path = join(args.out, file);
    const extra: Extra = {
      epoch,
      step,
      rng: defaultGenerator().getState(),
      scheduler: sched ? sched.stateDict() : null,
      history,
      running,
      args: savedArgs(args),
      about: describe(args, data),
    };
    await L.saveCheckpoint(path, {
      model,
      optimizer: opt,
      extra: extra as unknown as Record<string, unknown>,
    });
    return path;
  };

  progress.setBatch(args.batchSize);
  progress.line(
    `training ${args.model} with ${args.pool} pooling (${model.numParameters().toLocaleString('en-US')} parameters) on ${data.train.labels.length} images, ${args.epochs} epochs, ${args.backend}`,
  );
  for (let epoch = start.epoch; epoch < args.epochs; epoch++) {
    model.train();
    const fromStep = epoch === start.epoch ? start.step : 0;
    if (fromStep === 0) running = { loss: 0, correct: 0, seen: 0, seconds: 0 };
    let t0 = performance.now();
    for (const { x, y, index } of loader.epoch(epoch, fromStep)) {
      const [lossT, correctT] = scope(() => {
        opt.zeroGrad();
        const logits = model.forward(x);
        const l = L.crossEntropy(logits, y);
        l.backward();
        opt.step();
        return [l.detach(), sum(eq(argmax(logits, 1), y))];
      });
      // One read-back per step (the progress line needs it); on the CPU it returns at once.
      const loss = await lossT.item();
      const correct = await correctT.item();
      lossT.dispose();
      correctT.dispose();
      if (!Number.isFinite(loss)) {
        x.dispose();
        y.dispose();
        const last = epoch > 0 ? `; the last good checkpoint is ${join(args.out, 'last.safetensors')}` : '';
        throw new DivergedError(
          `the loss became ${loss} at epoch ${epoch + 1}, step ${index + 1}: training diverged; lower --lr (now ${args.lr})${last}`,
        );
      }
      if (args.scheduler === 'onecycle') sched?.step();
      running.loss += loss * y.size;
      running.correct += correct;
      running.seen += y.size;
      x.dispose();
      y.dispose();
      const now = performance.now();
      running.seconds += (now - t0) / 1000;
      t0 = now;
      progress.step(
        epoch + 1,
        args.epochs,
        index + 1,
        loader.length,
        running.loss / running.seen,
        running.correct / running.seen,
        running.seen / running.seconds,
      );
      // Let signal handlers run between steps.
      await new Promise((r) => setImmediate(r));
      if (hooks.shouldStop?.()) {
        const path = await save('interrupted.safetensors', epoch, index + 1);
        progress.line(`interrupted: saved ${path}; continue with --resume ${path}`);
        return { history, interrupted: path };
      }
    }
    const lr = opt.paramGroups[0].lr;
    if (sched && args.scheduler !== 'onecycle') sched.step();
    const test = await evaluate(model, data.test, 500, args.backend, data);
    history.push({
      epoch: epoch + 1,
      trainLoss: running.loss / running.seen,
      trainAcc: running.correct / running.seen,
      testLoss: test.loss,
      testAcc: test.acc,
      lr,
      seconds: running.seconds,
      imagesPerSecond: running.seen / running.seconds,
    });
    progress.line(
      `epoch ${epoch + 1}/${args.epochs}: train loss ${history.at(-1)!.trainLoss.toFixed(4)}, test accuracy ${(test.acc * 100).toFixed(2)}% (${running.seconds.toFixed(1)}s)`,
    );
    await save('last.safetensors', epoch + 1, 0);
    await writeAtomic(join(args.out, 'metrics.json'), `${JSON.stringify({ args, history }, null, 2)}\n`);
    await writeAtomic(join(args.out, 'metrics.csv'), metricsCsv(history));
  }
  progress.line(`\n${summaryTable(history)}`);
  await exportModel(args, model, data, progress);
  return { history, testAcc: history.at(-1)?.testAcc };
}
