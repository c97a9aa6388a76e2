import { describe, expect, it } from 'vitest';
import {
  arange,
  DTypeError,
  eye,
  full,
  fullLike,
  linspace,
  ones,
  onesLike,
  ShapeError,
  scalar,
  tensor,
  zeros,
  zerosLike,
} from '../src/index.js';
import { values } from './helpers.js';

describe('tensor()', () => {
  it('infers shape and float32 from nested numbers', () => {
    const t = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect(t.strides).toEqual([3, 1]);
    expect(values(t)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('infers bool from booleans and keeps typed-array dtypes', () => {
    expect(tensor([true, false]).dtype).toBe('bool');
    expect(tensor(new Float64Array([1, 2])).dtype).toBe('float64');
    expect(tensor(new Int32Array([1, 2])).dtype).toBe('int32');
    // Bytes are integers, not booleans.
    const bytes = tensor(new Uint8Array([0, 255]));
    expect(bytes.dtype).toBe('int32');
    expect(values(bytes)).toEqual([0, 255]);
  });

  it('copies caller arrays so later edits do not leak in', () => {
    const src = new Float32Array([1, 2, 3]);
    const t = tensor(src);
    src[0] = 99;
    expect(values(t)).toEqual([1, 2, 3]);
  });

  it('reshapes flat data with the shape option and converts dtypes', () => {
    const t = tensor([1.7, -2.7, 0, 4], { shape: [2, 2], dtype: 'int32' });
    expect(t.shape).toEqual([2, 2]);
    expect(values(t)).toEqual([1, -2, 0, 4]);
    expect(values(tensor([0, 2, -1], { dtype: 'bool' }))).toEqual([0, 1, 1]);
  });

  it('makes 0-d and empty tensors', () => {
    const s = tensor(5);
    expect(s.shape).toEqual([]);
    expect(s.itemSync()).toBe(5);
    expect(scalar(true).dtype).toBe('bool');
    const e = tensor([]);
    expect(e.shape).toEqual([0]);
    expect(e.size).toBe(0);
    expect(tensor([[], []]).shape).toEqual([2, 0]);
  });

  it('rejects ragged arrays, wrong sizes, bad leaves and unknown dtypes', () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(/tensor: ragged nested array: expected length 2 at \[1\]/);
    expect(() => tensor([1, 2, 3], { shape: [2, 2] })).toThrow(ShapeError);
    expect(() => tensor([1, 2, 3], { shape: [2, 2] })).toThrow('tensor: shape [2,2] needs 4 values, got 3');
    expect(() => tensor(['a'] as never)).toThrow(/expected a number or boolean at \[0\], got string/);
    expect(() => tensor([1], { dtype: 'float16' as never })).toThrow(DTypeError);
  });

  it('requiresGrad only on float dtypes', () => {
    expect(tensor([1], { requiresGrad: true }).requiresGrad).toBe(true);
    expect(() => tensor([1], { dtype: 'int32', requiresGrad: true })).toThrow(
      /only float tensors can require gradients, got dtype int32/,
    );
  });
});

describe('fills and ranges', () => {
  it('full / zeros / ones and their Like variants', () => {
    expect(values(full([2, 2], 7))).toEqual([7, 7, 7, 7]);
    expect(full([1], true).dtype).toBe('bool');
    expect(values(zeros([3], { dtype: 'int32' }))).toEqual([0, 0, 0]);
    expect(values(ones([2]))).toEqual([1, 1]);
    const like = tensor(new Float64Array([1, 2, 3]));
    expect(zerosLike(like).dtype).toBe('float64');
    expect(values(onesLike(like))).toEqual([1, 1, 1]);
    expect(values(fullLike(like, 2, { dtype: 'int32' }))).toEqual([2, 2, 2]);
    expect(() => zeros([2, -1])).toThrow('zeros: shape entries must be non-negative integers, got [2,-1]');
    expect(zeros([0, 3]).size).toBe(0);
  });

  it('arange follows Python range semantics', () => {
    expect(values(arange(5))).toEqual([0, 1, 2, 3, 4]);
    expect(arange(5).dtype).toBe('int32');
    expect(values(arange(1, 2, 0.25))).toEqual([1, 1.25, 1.5, 1.75]);
    expect(values(arange(5, 0, -2))).toEqual([5, 3, 1]);
    expect(arange(3, 3).size).toBe(0);
    expect(() => arange(0, 5, 0)).toThrow('arange: step must not be 0');
    expect(() => arange(0, 5, -1)).toThrow(/goes away from end/);
  });

  it('linspace includes both ends exactly', () => {
    const l = values(linspace(0, 1, 5));
    expect(l).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(values(linspace(-1, 1, 1))).toEqual([-1]);
    expect(values(linspace(0, 3, 7, { dtype: 'float64' }))[6]).toBe(3);
    expect(() => linspace(0, 1, 3, { dtype: 'int32' })).toThrow(DTypeError);
  });

  it('eye builds identity matrices', () => {
    expect(values(eye(2))).toEqual([1, 0, 0, 1]);
    expect(values(eye(2, 3))).toEqual([1, 0, 0, 0, 1, 0]);
    expect(() => eye(-1)).toThrow('eye: n must be an integer >= 0, got -1');
  });
});
