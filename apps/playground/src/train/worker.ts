// The training worker: owns the model, trains it on the embedded Fashion-MNIST subset, answers
// predictions, saves and loads safetensors. One message at a time; training yields between steps
// so that pause, stop and predictions get through.
import '@softpool/autograd';
import { DataLoader, fashionMnistFromIdx, type ImageDataset, sliceDataset } from '@softpool/data';
import * as L from '@softpool/layers';
import { createModel, type PoolName } from '@softpool/models';
import {
  argmax,
  cpuInfo,
  eq,
  keep,
  scope,
  setBackend,
  softmax,
  sum,
  tensor,
  threadsReady,
} from '@softpool/tensor';
import type { EpochReport, FromWorker, ToWorker, TrainConfig } from './protocol.js';

const MEAN = [0.286];
const STD = [0.353];
const post = (m: FromWorker, transfer: Transferable[] = []) =>
  (self as unknown as Worker).postMessage(m, transfer);

let model: L.Module | undefined;
let about = { model: 'lenet5', pool: 'soft' };
let backend = 'cpu';
let state: 'idle' | 'running' | 'paused' | 'stopping' = 'idle';
// Read through a function: message handlers change `state` while train() awaits.
const stopping = () => state === 'stopping';
let wake: (() => void) | undefined;
let data: { train: ImageDataset; test: ImageDataset } | undefined;

/** Frees a model's parameters and buffers (the worker keeps one model at a time). */
function release(m: L.Module): void {
  for (const t of [...m.parameters(), ...m.buffers()]) t.dispose();
}

async function fetchBytes(url: URL): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot load ${url}: ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function loadData(): Promise<{ train: ImageDataset; test: ImageDataset }> {
  if (data) return data;
  const asset = (name: string) =>
    new URL(`../../../../packages/data/assets/fashion-mnist-subset-${name}.idx.gz`, import.meta.url);
  const [ti, tl, vi, vl] = await Promise.all(
    ['train-images', 'train-labels', 'test-images', 'test-labels'].map((n) => fetchBytes(asset(n))),
  );
  data = {
    train: await fashionMnistFromIdx(ti, tl, 'fashion-mnist subset train'),
    test: await fashionMnistFromIdx(vi, vl, 'fashion-mnist subset test'),
  };
  return data;
}

async function init(wanted: 'webgpu' | 'cpu'): Promise<void> {
  let note: string | undefined;
  let adapter = 'CPU (JavaScript and WebAssembly)';
  if (wanted === 'webgpu') {
    try {
      await import('@softpool/webgpu');
      const b = (await setBackend('webgpu')) as unknown as { adapterDescription?: string };
      backend = 'webgpu';
      adapter = b.adapterDescription || 'WebGPU adapter';
    } catch (e) {
      note = `WebGPU is not available here (${(e as Error).message}); training runs on the CPU`;
      await setBackend('cpu');
      backend = 'cpu';
    }
  } else {
    await setBackend('cpu');
    backend = 'cpu';
  }
  if (backend === 'cpu') {
    // Worker threads need a cross-origin isolated page (serve.mjs sends COOP/COEP).
    const threads = await threadsReady();
    const simd = cpuInfo().relaxedSimd ? ', relaxed SIMD' : '';
    adapter = `CPU (JavaScript and WebAssembly${simd}, ${threads} thread${threads === 1 ? '' : 's'})`;
  }
  post({ type: 'ready', backend, adapter, note });
}

/** Resolves at once when running; waits while paused. */
async function checkpoint(): Promise<void> {
  await new Promise((r) => setTimeout(r, 0)); // let pause/stop/predict messages in
  while (state === 'paused') await new Promise<void>((r) => (wake = r));
}

async function evaluate(
  m: L.Module,
  test: ImageDataset,
): Promise<Omit<EpochReport, 'epoch' | 'trainLoss' | 'trainAcc'>> {
  m.eval();
  const loader = new DataLoader(test, { batchSize: 250, mean: MEAN, std: STD });
  const confusion = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
  const samples: EpochReport['samples'] = [];
  let correct = 0;
  for (const { x, y } of loader.epoch(0)) {
    const pred = scope(() => argmax(m.forward(x), 1));
    const [p, t] = [await pred.data(), await y.data()];
    for (let i = 0; i < p.length; i++) {
      confusion[t[i]][p[i]]++;
      if (p[i] === t[i]) correct++;
    }
    if (samples.length < 24) {
      const px = await x.data();
      const take = Math.min(24 - samples.length, p.length);
      for (let i = 0; i < take; i++) {
        samples.push({ pixels: Array.from(px.subarray(i * 784, (i + 1) * 784)), label: t[i], pred: p[i] });
      }
    }
    pred.dispose();
    x.dispose();
    y.dispose();
  }
  m.train();
  return { testAcc: correct / test.labels.length, confusion, samples };
}

async function train(config: TrainConfig): Promise<void> {
  const all = await loadData();
  const limit = config.limit;
  const trainSet = limit ? sliceDataset(all.train, 0, Math.min(limit, all.train.labels.length)) : all.train;
  const testSet = limit
    ? sliceDataset(all.test, 0, Math.min(Math.max(50, Math.floor(limit / 5)), all.test.labels.length))
    : all.test;
  if (model) release(model);
  model = createModel(config.model, { pool: config.pool as PoolName });
  if (backend !== 'cpu') await model.to(backend);
  about = { model: config.model, pool: config.pool };
  const opt = new L.Adam(model.parameters(), { lr: config.lr });
  const loader = new DataLoader(trainSet, {
    batchSize: config.batchSize,
    shuffle: true,
    seed: config.seed,
    mean: MEAN,
    std: STD,
  });
  const steps = loader.length;
  state = 'running';
  let seen = 0;
  const t0 = performance.now();
  for (let epoch = 0; epoch < config.epochs && !stopping(); epoch++) {
    let lossSum = 0;
    let correct = 0;
    let count = 0;
    for (const { x, y, index } of loader.epoch(epoch)) {
      const [lossT, correctT] = scope(() => {
        opt.zeroGrad();
        const logits = model!.forward(x);
        const l = L.crossEntropy(logits, y);
        l.backward();
        opt.step();
        return [l.detach(), sum(eq(argmax(logits, 1), y))];
      });
      const loss = await lossT.item();
      correct += await correctT.item();
      lossT.dispose();
      correctT.dispose();
      count += y.size;
      lossSum += loss * y.size;
      seen += y.size;
      x.dispose();
      y.dispose();
      const elapsed = (performance.now() - t0) / 1000;
      const total = steps * config.epochs;
      const done = epoch * steps + index + 1;
      post({
        type: 'progress',
        epoch,
        step: index + 1,
        steps,
        loss,
        acc: correct / count,
        imgsPerSec: seen / elapsed,
        eta: (elapsed / done) * (total - done),
      });
      await checkpoint();
      if (stopping()) break;
    }
    const report = await evaluate(model, testSet);
    post({
      type: 'epoch',
      epoch,
      trainLoss: lossSum / Math.max(count, 1),
      trainAcc: correct / Math.max(count, 1),
      ...report,
    });
  }
  const stopped = stopping();
  state = 'idle';
  post({ type: 'finished', stopped });
}

async function predict(pixels: Float32Array): Promise<void> {
  if (!model) throw new Error('train or load a model first');
  const probs = scope(() => {
    const x = tensor(pixels, { shape: [1, 1, 28, 28] })
      .sub(MEAN[0])
      .div(STD[0]);
    model!.eval();
    const p = keep(softmax(model!.forward(x), 1));
    return p;
  });
  const values = Array.from(await probs.data());
  probs.dispose();
  if (state === 'idle') model.eval();
  else model.train();
  post({ type: 'prediction', probs: values });
}

async function save(): Promise<void> {
  if (!model) throw new Error('train or load a model first');
  const bytes = await L.serializeSafetensors(model.stateDict(), {
    format: 'softpool-weights-1',
    args: JSON.stringify(about),
    inputShape: JSON.stringify([1, 28, 28]),
    normalization: JSON.stringify({ mean: MEAN, std: STD, of: 'pixel / 255' }),
  });
  post({ type: 'saved', bytes }, [bytes.buffer]);
}

/** Loads a safetensors file (ours or `pnpm train --export-weights`); the current model survives a bad file. */
async function load(bytes: Uint8Array): Promise<void> {
  const { tensors, metadata } = L.parseSafetensors(bytes);
  try {
    const args = metadata.args ? (JSON.parse(metadata.args) as { model?: string; pool?: string }) : {};
    const name = args.model === 'vgg' ? 'vgg' : 'lenet5';
    const pool = (args.pool ?? 'soft') as PoolName;
    // A training checkpoint of `pnpm train` prefixes the model's entries with 'model.'.
    const plain = Object.keys(tensors).some((k) => k.startsWith('model.'))
      ? Object.fromEntries(
          Object.entries(tensors)
            .filter(([k]) => k.startsWith('model.'))
            .map(([k, v]) => [k.slice(6), v]),
        )
      : tensors;
    const next = createModel(name, { pool });
    try {
      next.loadStateDict(plain);
    } catch (e) {
      release(next);
      throw e;
    }
    if (backend !== 'cpu') await next.to(backend);
    if (model) release(model);
    model = next;
    about = { model: name, pool };
    model.eval();
    post({ type: 'loaded', model: name, pool });
  } finally {
    for (const t of Object.values(tensors)) t.dispose();
  }
}

self.onmessage = async (event: MessageEvent<ToWorker>) => {
  const m = event.data;
  try {
    if (m.type === 'init') await init(m.backend);
    else if (m.type === 'start') {
      if (state !== 'idle') throw new Error('training is already running');
      await train(m.config);
    } else if (m.type === 'pause') {
      if (state === 'running') state = 'paused';
    } else if (m.type === 'resume') {
      if (state === 'paused') state = 'running';
      wake?.();
    } else if (m.type === 'stop') {
      if (state !== 'idle') state = 'stopping';
      wake?.();
    } else if (m.type === 'predict') await predict(m.pixels);
    else if (m.type === 'save') await save();
    else if (m.type === 'load') await load(m.bytes);
  } catch (e) {
    if (m.type === 'start') state = 'idle';
    post({ type: 'error', message: (e as Error).message });
  }
};
