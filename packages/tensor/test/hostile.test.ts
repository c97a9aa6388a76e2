// Hostile arguments to the core ops: each gets the library's own error, naming the op and the
// argument, never a TypeError or RangeError from inside, a wrap-around or a silent NaN.
import { describe, expect, it } from 'vitest';
import * as sp from '../src/index.js';

const x = sp.zeros([2, 3]);
const cases: [string, () => unknown, string][] = [
  [
    'sum null',
    () => sp.sum(x, null as never),
    'sum: axis must be an integer, an array of integers or an options object, got null',
  ],
  [
    'sum string',
    () => sp.sum(x, '1' as never),
    "sum: axis must be an integer, an array of integers or an options object, got '1'",
  ],
  [
    'mean null',
    () => sp.mean(x, null as never),
    'mean: axis must be an integer, an array of integers or an options object, got null',
  ],
  [
    'prod null',
    () => sp.prod(x, null as never),
    'prod: axis must be an integer, an array of integers or an options object, got null',
  ],
  [
    'var null',
    () => sp.variance(x, null as never),
    'var: axis must be an integer, an array of integers or an options object, got null',
  ],
  [
    'logSumExp null',
    () => sp.logSumExp(x, null as never),
    'logSumExp: axis must be an integer, an array of integers or an options object, got null',
  ],
  ['axis list of strings', () => sp.sum(x, ['1'] as never), 'sum: axis must be an integer, got "1"'],
  [
    'keepDim string',
    () => sp.sum(x, { keepDim: 'yes' } as never),
    "sum: keepDim must be a boolean, got 'yes'",
  ],
  ['options not an object', () => sp.sum(x, 1, 3 as never), 'sum: options must be an object, got 3'],
  [
    'var correction',
    () => sp.variance(x, { correction: 'x' } as never),
    "var: correction must be a finite number, got 'x'",
  ],
  [
    'split true',
    () => sp.split(x, true as never),
    'split: expected a section size or an array of sizes, got true',
  ],
  [
    'expand past 2^53',
    () => sp.expand(sp.zeros([1, 1]), [2, 2 ** 53 + 2]),
    'expand: shape [2,9007199254740994] has 18014398509481988 elements, more than a tensor can hold (4294967295)',
  ],
  [
    'zeros too large',
    () => sp.zeros([2 ** 20, 2 ** 20]),
    'zeros: shape [1048576,1048576] has 1099511627776 elements, more than a tensor can hold (4294967295)',
  ],
  [
    'pad value string',
    () => sp.pad(x, [1, 1], { value: 'x' } as never),
    'pad: value must be a number, got "x"',
  ],
  [
    'int32 overflow',
    () => sp.add(sp.tensor([1], { dtype: 'int32' }), 2 ** 31),
    'add: 2147483648 does not fit in int32, the dtype of the result; cast the tensor to float64 first (as PyTorch, no silent wrap-around)',
  ],
];

describe('hostile arguments', () => {
  for (const [name, f, message] of cases)
    it(name, () => {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(sp.SoftpoolError);
      expect((err as Error).message).toBe(message);
    });

  it('int32 arithmetic within range still works; floats promote', () => {
    expect([...sp.add(sp.tensor([1], { dtype: 'int32' }), 2 ** 31 - 2).dataSync()]).toEqual([2 ** 31 - 1]);
    expect(sp.add(sp.tensor([1], { dtype: 'int32' }), 0.5).dtype).toBe('float32');
  });
});

describe('async scopes', () => {
  it('are refused before the function runs', () => {
    let ran = false;
    const f = async () => {
      ran = true;
      return sp.zeros([1]);
    };
    expect(() => sp.scope(f as never)).toThrow(
      'scope: the function is async; scopes are synchronous: call scope() inside the async code, around each synchronous step',
    );
    expect(ran).toBe(false);
  });
});
