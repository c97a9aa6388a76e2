// A tour of @softpool/tensor on the CPU backend: creation, broadcasting, views, reductions,
// matmul and convolution, memory accounting. `pnpm example` runs it; `--quiet` only checks it.
import {
  conv2d,
  manualSeed,
  matmul,
  memory,
  randn,
  relu,
  scope,
  softmax,
  sum,
  tensor,
} from '@softpool/tensor';

const quiet = process.argv.includes('--quiet');
const say = (s: string): void => {
  if (!quiet) process.stdout.write(`${s}\n`);
};

manualSeed(0);
const before = memory().tensors;

scope(() => {
  const a = tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  say(`a =\n${a}`);
  say(`a + [10, 20, 30] (broadcast) =\n${a.add(tensor([10, 20, 30]))}`);
  say(`a.T (a view, no copy) =\n${a.T}  contiguous: ${a.T.isContiguous}`);
  say(`sum over rows = ${sum(a, 1)}; mean = ${a.mean()}`);
  say(`softmax(a) =\n${softmax(a)}`);

  // A small conv + matmul "network" on random data.
  const images = randn([8, 3, 32, 32]);
  const filters = randn([16, 3, 3, 3]).mul(0.2);
  const t0 = performance.now();
  const features = relu(conv2d(images, filters, { padding: 1, stride: 2 })); // [8,16,16,16]
  const logits = matmul(features.flatten(1), randn([16 * 16 * 16, 10]).mul(0.01));
  const probs = softmax(logits);
  say(`conv2d + relu + matmul + softmax on [8,3,32,32]: ${(performance.now() - t0).toFixed(1)} ms`);
  say(`class probabilities of image 0: ${probs.slice([0])}`);
  const rowSums = sum(probs, 1).dataSync();
  if (rowSums.some((s) => Math.abs(s - 1) > 1e-5)) throw new Error('softmax rows must sum to 1');
});

const leaked = memory().tensors - before;
say(`live tensors after the scope: ${leaked} (every intermediate was released)`);
if (leaked !== 0) throw new Error(`example leaked ${leaked} tensors`);
