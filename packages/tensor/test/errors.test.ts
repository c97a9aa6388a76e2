// Every remaining error path: the op, the argument and the values involved appear in the message.
import { describe, expect, it } from 'vitest';
import * as sp from '../src/index.js';
import { SoftpoolError, tensor } from '../src/index.js';

const x = sp.zeros([2, 3]);
const cases: [string, () => unknown, string | RegExp][] = [
  ['bernoulli without shape', () => sp.bernoulli(0.5), 'bernoulli: a number p needs options.shape'],
  [
    'bernoulli int p',
    () => sp.bernoulli(tensor([1], { dtype: 'int32' })),
    'bernoulli: p must be a float tensor, got int32',
  ],
  ['cast unknown dtype', () => sp.cast(x, 'half' as never), "cast: unknown dtype 'half'"],
  ['chunk 0', () => sp.chunk(x, 0), 'chunk: chunks must be a positive integer, got 0'],
  ['clamp bool', () => sp.clamp(tensor([true]), 0, 1), 'clamp: bool tensors are not supported; cast first'],
  ['clamp NaN', () => sp.clamp(x, Number.NaN), 'clamp: bounds must not be NaN'],
  ['concat 0-d', () => sp.concat([tensor(1)]), 'concat: 0-d tensors cannot be concatenated; use stack'],
  ['concat empty', () => sp.concat([]), 'concat: expected a non-empty array of tensors'],
  ['stack empty', () => sp.stack([]), 'stack: expected a non-empty array of tensors'],
  ['flatten order', () => sp.flatten(x, 1, 0), 'flatten: startDim 1 comes after endDim 0'],
  [
    'indexSelect 2-D index',
    () => sp.indexSelect(x, 0, sp.zeros([1, 1], { dtype: 'int32' })),
    'indexSelect: index must be 1-D, got [1,1]',
  ],
  [
    'leakyRelu slope',
    () => sp.leakyRelu(x, { negativeSlope: Number.POSITIVE_INFINITY }),
    'leakyRelu: negativeSlope must be a finite number, got Infinity',
  ],
  [
    'linspace dtype',
    () => sp.linspace(0, 1, 2, { dtype: 'int32' }),
    'linspace: dtype must be float32 or float64, got int32',
  ],
  [
    'linspace steps',
    () => sp.linspace(0, 1, -1),
    'linspace: steps must be an integer in [0, 4294967295], got -1',
  ],
  [
    'matmul bool',
    () => sp.matmul(tensor([true]), tensor([true])),
    'matmul: bool tensors are not supported; cast first',
  ],
  [
    'oneHot classes',
    () => sp.oneHot(tensor([0], { dtype: 'int32' }), 0),
    'oneHot: numClasses must be a positive integer, got 0',
  ],
  [
    'pad mode',
    () => sp.pad(x, [1, 1], { mode: 'wrap' as never }),
    "pad: mode must be 'constant', 'reflect' or 'replicate', got 'wrap'",
  ],
  [
    'pad pairs',
    () => sp.pad(x, [1, 1, 1, 1, 1, 1]),
    'pad: pads [1,1,1,1,1,1] must hold pairs for at most 2 dims',
  ],
  ['pad negative', () => sp.pad(x, [-1, 0]), 'pad: pads must be integers >= 0, got [-1,0]'],
  [
    'pad replicate empty',
    () => sp.pad(sp.zeros([2, 0]), [1, 1], { mode: 'replicate' }),
    'pad: replicate padding needs a non-empty dim 1 in [2,0]',
  ],
  [
    'pad value with reflect',
    () => sp.pad(x, [1, 1], { mode: 'reflect', value: 1 }),
    "pad: value applies only to mode 'constant'",
  ],
  ['permute count', () => sp.permute(x, [0]), 'permute: expected 2 axes for shape [2,3], got [0]'],
  ['randint range', () => sp.randint(0, 2 ** 33, [1]), 'randint: range 8589934592 exceeds 2^32'],
  [
    'requiresGrad int',
    () => tensor([1], { dtype: 'int32' }).requiresGrad_(),
    'requiresGrad: only float tensors can require gradients, got dtype int32',
  ],
  ['slice bounds', () => sp.slice(x, [[0.5, 1]]), 'slice: bounds must be integers, got 0.5'],
  ['split size', () => sp.split(x, 0), 'split: size must be a positive integer, got 0'],
  ['unknown backend', () => sp.initBackend('tpu'), /unknown backend 'tpu'/],
  [
    'transpose of 1-D',
    () => sp.transpose(sp.zeros([3])),
    'transpose: needs a tensor of rank >= 2 or explicit dims, got [3]',
  ],
  ['select range', () => sp.select(x, 0, 2), 'slice: index 2 is out of range for axis 0 of size 2'],
  [
    'dot shapes',
    () => sp.dot(sp.zeros([2]), sp.zeros([3])),
    'dot: expected two 1-D tensors of one length, got [2] and [3]',
  ],
  [
    'convBackwardInput ranks',
    () => sp.convBackwardInput(sp.zeros([1, 1, 3]), sp.zeros([1, 1, 3, 3]), [1, 1, 5, 5]),
    /convBackwardInput: gradOutput \[1,1,3\], weight \[1,1,3,3\] and input shape \[1,1,5,5\] need one rank/,
  ],
  [
    'convBackwardWeight ranks',
    () => sp.convBackwardWeight(sp.zeros([1, 1, 3]), sp.zeros([1, 1, 3, 3]), [1, 1, 3, 3]),
    /convBackwardWeight: input \[1,1,3\]/,
  ],
  [
    'conv groups',
    () => sp.conv2d(sp.zeros([1, 2, 3, 3]), sp.zeros([2, 2, 1, 1]), { groups: 0 }),
    'conv2d: groups must be a positive integer, got 0',
  ],
  [
    'conv padding string',
    () => sp.conv2d(sp.zeros([1, 2, 3, 3]), sp.zeros([2, 2, 1, 1]), { padding: 'full' as never }),
    "conv2d: padding must be a number, a tuple, 'same' or 'valid', got 'full'",
  ],
  [
    'conv tuple length',
    () => sp.conv2d(sp.zeros([1, 2, 3, 3]), sp.zeros([2, 2, 1, 1]), { stride: [1, 1, 1] }),
    'conv2d: stride must be a number or 2 numbers, got [1,1,1]',
  ],
  [
    'conv int input',
    () => sp.conv1d(sp.zeros([1, 1, 3], { dtype: 'int32' }), sp.zeros([1, 1, 1], { dtype: 'int32' })),
    'conv1d: input must be float32 or float64, got int32',
  ],
];

describe('error messages', () => {
  for (const [name, call, message] of cases) {
    it(name, async () => {
      let error: unknown;
      try {
        await call();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SoftpoolError);
      if (typeof message === 'string') expect((error as Error).message).toBe(message);
      else expect((error as Error).message).toMatch(message);
    });
  }
});
