import { describe, expect, it } from 'vitest';
import * as sp from '../src/index.js';
import { ArgumentError, arange, DTypeError, ShapeError, tensor } from '../src/index.js';
import { values } from './helpers.js';

const grid = (shape: number[]) => arange(shape.reduce((a, b) => a * b, 1)).reshape(shape);

describe('concat, stack, split, chunk', () => {
  it('concat along any axis, promoting dtypes, reading views', () => {
    const a = grid([2, 2]);
    const b = sp.add(grid([2, 1]), 10);
    expect(values(sp.concat([a, b], 1))).toEqual([0, 1, 10, 2, 3, 11]);
    expect(values(sp.concat([a, a.T], 0))).toEqual([0, 1, 2, 3, 0, 2, 1, 3]);
    expect(sp.concat([a, tensor([[0.5, 0.5]])]).dtype).toBe('float32');
    expect(sp.concat([sp.zeros([0, 2]), a]).shape).toEqual([2, 2]);
    expect(() => sp.concat([a, grid([3, 3])], 1)).toThrow(
      'concat: shapes [2,2], [3,3] differ outside axis 1',
    );
    expect(() => sp.concat([])).toThrow(ArgumentError);
    expect(() => sp.concat([tensor(1)])).toThrow(/0-d tensors cannot be concatenated/);
  });

  it('stack adds an axis', () => {
    const a = tensor([1, 2]);
    const b = tensor([3, 4]);
    expect(sp.stack([a, b]).shape).toEqual([2, 2]);
    expect(values(sp.stack([a, b], 1))).toEqual([1, 3, 2, 4]);
    expect(() => sp.stack([a, tensor([1])])).toThrow(/stack: all tensors need the same shape/);
  });

  it('split by size or sections, chunk like PyTorch', () => {
    const x = arange(7);
    expect(sp.split(x, 3).map((t) => values(t))).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(sp.split(x, [2, 5]).map((t) => t.size)).toEqual([2, 5]);
    expect(sp.chunk(x, 3).map((t) => t.size)).toEqual([3, 3, 1]);
    expect(sp.split(grid([2, 4]), 2, 1)[1].shape).toEqual([2, 2]);
    expect(sp.split(x, 3)[0].storage).toBe(x.storage);
    expect(() => sp.split(x, [2, 2])).toThrow(
      'split: sections [2,2] must be integers >= 0 summing to 7 (axis 0)',
    );
  });
});

describe('pad', () => {
  const x = tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  it('constant, reflect and replicate on the last dims', () => {
    expect(values(sp.pad(x, [1, 1], { value: 9 }))).toEqual([9, 1, 2, 3, 9, 9, 4, 5, 6, 9]);
    expect(values(sp.pad(x, [2, 2], { mode: 'reflect' }))).toEqual([
      3, 2, 1, 2, 3, 2, 1, 6, 5, 4, 5, 6, 5, 4,
    ]);
    expect(values(sp.pad(x, [1, 2], { mode: 'replicate' }))).toEqual([1, 1, 2, 3, 3, 3, 4, 4, 5, 6, 6, 6]);
    const both = sp.pad(x, [0, 0, 1, 1], { mode: 'reflect' });
    expect(both.shape).toEqual([4, 3]);
    expect(values(both)).toEqual([4, 5, 6, 1, 2, 3, 4, 5, 6, 1, 2, 3]);
    expect(values(sp.pad(x.T, [1, 0]))).toEqual([0, 1, 4, 0, 2, 5, 0, 3, 6]);
  });
  it('rejects invalid paddings with the sizes involved', () => {
    expect(() => sp.pad(x, [3, 0], { mode: 'reflect' })).toThrow(
      'pad: reflect padding (3, 0) must be smaller than dim 1 of size 3 in [2,3]',
    );
    expect(() => sp.pad(x, [1])).toThrow(/must hold pairs/);
    expect(() => sp.pad(x, [-1, 0])).toThrow(/integers >= 0/);
    expect(() => sp.pad(x, [1, 1], { mode: 'wrap' as never })).toThrow(/mode must be/);
  });
});

describe('repeat and tile', () => {
  it('repeat tiles whole copies and may add leading dims; tile pads reps on the left', () => {
    const x = tensor([1, 2]);
    expect(values(sp.repeat(x, [3]))).toEqual([1, 2, 1, 2, 1, 2]);
    expect(sp.repeat(x, [2, 2]).shape).toEqual([2, 4]);
    expect(values(sp.repeat(tensor([[1], [2]]), [1, 2]))).toEqual([1, 1, 2, 2]);
    expect(sp.tile(grid([2, 2]), [2]).shape).toEqual([2, 4]);
    expect(() => sp.repeat(grid([2, 2]), [2])).toThrow(/repeat: need at least 2 repeats/);
  });
});

describe('gather, indexSelect, oneHot', () => {
  const idx = (v: number[][] | number[]) => tensor(v, { dtype: 'int32' });
  it('gather picks along an axis like torch.gather', () => {
    const x = tensor([
      [1, 2],
      [3, 4],
    ]);
    expect(
      values(
        sp.gather(
          x,
          1,
          idx([
            [0, 0],
            [1, 0],
          ]),
        ),
      ),
    ).toEqual([1, 1, 4, 3]);
    expect(values(sp.gather(x, 0, idx([[1, 0]])))).toEqual([3, 2]);
    expect(values(sp.gather(x.T, 1, idx([[1], [1]])))).toEqual([3, 4]);
    expect(() =>
      sp.gather(
        x,
        1,
        idx([
          [2, 0],
          [0, 0],
        ]),
      ),
    ).toThrow('gather: index 2 is out of range [-2, 2)');
    expect(() => sp.gather(x, 1, tensor([[0, 0]]))).toThrow(DTypeError);
    expect(() => sp.gather(x, 1, idx([0, 1]))).toThrow(ShapeError);
  });
  it('indexSelect picks whole slices, negative indices count from the end', () => {
    const x = grid([3, 2]);
    expect(values(sp.indexSelect(x, 0, idx([2, 0, -1])))).toEqual([4, 5, 0, 1, 4, 5]);
    expect(values(sp.indexSelect(x, 1, idx([1])))).toEqual([1, 3, 5]);
    expect(() => sp.indexSelect(x, 0, idx([3]))).toThrow(/indexSelect: index 3 is out of range/);
  });
  it('oneHot appends a class axis', () => {
    const o = sp.oneHot(idx([0, 2]), 3);
    expect(o.shape).toEqual([2, 3]);
    expect(o.dtype).toBe('int32');
    expect(values(o)).toEqual([1, 0, 0, 0, 0, 1]);
    expect(sp.oneHot(idx([[1]]), 2, { dtype: 'float32' }).shape).toEqual([1, 1, 2]);
    expect(() => sp.oneHot(idx([3]), 3)).toThrow('oneHot: index 3 is out of range [0, 3)');
    expect(() => sp.oneHot(idx([-1]), 3)).toThrow(/out of range/);
  });
});
