import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as sp from '../src/index.js';
import { arange, ShapeError, tensor } from '../src/index.js';
import { ravel, unravel, values } from './helpers.js';

const grid = (shape: number[]) => arange(shape.reduce((a, b) => a * b, 1)).reshape(shape);

describe('views share memory', () => {
  it('reshape, permute, transpose, expand and slice are views of the same storage', () => {
    const x = grid([2, 3, 4]);
    for (const v of [
      x.reshape([6, 4]),
      x.permute([2, 0, 1]),
      x.transpose(0, 2),
      sp.expand(x.slice([[0, 1]]), [3, 3, 4]),
      x.slice([null, [1, 3]]),
      sp.unsqueeze(x, 1),
      x.flatten(),
    ]) {
      expect(v.storage).toBe(x.storage);
    }
    expect(x.permute([2, 0, 1]).strides).toEqual([1, 12, 4]);
    expect(x.permute([2, 0, 1]).isContiguous).toBe(false);
  });

  it('writes through one view are visible in another', () => {
    const x = sp.zeros([2, 3]);
    const col = x.select(1, 2);
    col.fill_(5);
    expect(values(x)).toEqual([0, 0, 5, 0, 0, 5]);
    x.T.slice([[0, 1]]).copy_(tensor([[1, 2]]));
    expect(values(x)).toEqual([1, 0, 5, 2, 0, 5]);
  });

  it('reshape copies only when the layout requires it', () => {
    const x = grid([3, 4]);
    const t = x.T; // not contiguous
    const r = t.reshape([12]);
    expect(r.storage).not.toBe(x.storage);
    expect(values(r)).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    // Splitting a dim of a transposed view is still a view.
    const split = t.reshape([2, 2, 3]);
    expect(split.storage).toBe(x.storage);
    expect(() => sp.view(t, [12])).toThrow(
      /view: a tensor of shape \[4,3\] with strides \[1,4\] cannot be viewed as \[12\]/,
    );
    expect(sp.contiguous(x)).toBe(x);
    expect(sp.clone(x)).not.toBe(x);
  });

  it('is a property: permute then reshape matches index arithmetic (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }).chain((shape) =>
          fc.tuple(
            fc.constant(shape),
            fc.shuffledSubarray(
              shape.map((_, i) => i),
              { minLength: shape.length, maxLength: shape.length },
            ),
          ),
        ),
        ([shape, perm]) => {
          const x = grid(shape);
          const p = x.permute(perm);
          const pShape = perm.map((a) => shape[a]);
          const got = values(p);
          got.forEach((v, i) => {
            const idx = unravel(i, pShape);
            const src = new Array<number>(shape.length);
            perm.forEach((a, k) => {
              src[a] = idx[k];
            });
            expect(v).toBe(ravel(src, shape));
          });
          expect(values(p.reshape([-1]))).toEqual(got);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('copies of views (long and short runs, broadcasts, casts) match index arithmetic', () => {
    // Runs of 16 or more values and broadcast runs take the engine's set and fill.
    const x = grid([3, 20, 5]);
    const cases: [sp.Tensor, (i: number[]) => number][] = [
      [x.permute([1, 0, 2]), ([a, b, c]) => (b * 20 + a) * 5 + c],
      [x.permute([0, 2, 1]), ([a, b, c]) => (a * 20 + c) * 5 + b],
      [x.reshape([3, 100]).slice([null, [10, 90]]), ([a, b]) => a * 100 + 10 + b],
      [tensor([7, 8, 9]).reshape([3, 1]).expand([3, 40]), ([a]) => 7 + a],
      [
        x
          .reshape([60, 5])
          .transpose(0, 1)
          .slice([[1, 3]]),
        ([a, b]) => b * 5 + 1 + a,
      ],
    ];
    for (const [v, at] of cases) {
      const want = Array.from({ length: v.size }, (_, i) => at(unravel(i, v.shape)));
      expect(values(v.contiguous())).toEqual(want);
      for (const dtype of ['int32', 'float64'] as const) expect(values(v.cast(dtype))).toEqual(want);
      const half = sp.mul(v.cast('float64'), 0.5);
      expect(values(half.cast('int32'))).toEqual(want.map((w) => Math.trunc(w * 0.5)));
    }
  });

  it('slice follows Python semantics: negative indices, clamping, steps, index drops the axis', () => {
    const x = grid([4, 5]);
    expect(
      values(
        x.slice([
          [1, -1],
          [null, null, 2],
        ]),
      ),
    ).toEqual([5, 7, 9, 10, 12, 14]);
    expect(x.slice([-1]).shape).toEqual([5]);
    expect(values(x.slice([-1]))).toEqual([15, 16, 17, 18, 19]);
    expect(x.slice([[2, 100]]).shape).toEqual([2, 5]);
    expect(x.slice([[3, 1]]).shape).toEqual([0, 5]);
    expect(values(x.narrow(1, 1, 2))).toEqual([1, 2, 6, 7, 11, 12, 16, 17]);
    expect(() => x.slice([4])).toThrow('slice: index 4 is out of range for axis 0 of size 4');
    expect(() => x.slice([[0, 2, -1]])).toThrow('slice: step must be a positive integer, got -1');
    expect(() => x.slice([null, null, null])).toThrow(/3 specs for a tensor of rank 2/);
    expect(() => x.narrow(0, 3, 2)).toThrow(/narrow: start 3 and length 2 do not fit axis 0 of size 4/);
  });

  it('squeeze, unsqueeze, flatten and expand', () => {
    const x = sp.zeros([1, 3, 1, 2]);
    expect(sp.squeeze(x).shape).toEqual([3, 2]);
    expect(sp.squeeze(x, 2).shape).toEqual([1, 3, 2]);
    expect(sp.squeeze(x, 1).shape).toEqual([1, 3, 1, 2]);
    expect(sp.unsqueeze(x, -1).shape).toEqual([1, 3, 1, 2, 1]);
    expect(sp.flatten(x, 1).shape).toEqual([1, 6]);
    expect(sp.flatten(tensor(3)).shape).toEqual([1]);
    const e = sp.expand(tensor([1, 2, 3]), [2, -1]);
    expect(e.shape).toEqual([2, 3]);
    expect(e.strides).toEqual([0, 1]);
    expect(values(e)).toEqual([1, 2, 3, 1, 2, 3]);
    expect(() => sp.expand(tensor([1, 2]), [3])).toThrow('expand: cannot expand [2] to [3] (dim 0: 2 -> 3)');
    expect(() => sp.reshape(grid([2, 3]), [4, -1])).toThrow(ShapeError);
    expect(() => sp.reshape(grid([2, 3]), [-1, -1])).toThrow(
      'reshape: only one dimension can be -1, got [-1,-1]',
    );
    expect(() => sp.permute(grid([2, 3]), [0, 0])).toThrow('permute: axes [0,0] repeat a dimension');
  });

  it('views of empty and 0-d tensors', () => {
    const s = tensor(7);
    expect(sp.reshape(s, [1, 1]).shape).toEqual([1, 1]);
    expect(sp.unsqueeze(s, 0).shape).toEqual([1]);
    expect(sp.reshape(sp.zeros([0, 4]), [2, 0, 2]).shape).toEqual([2, 0, 2]);
    expect(sp.zeros([0, 4]).T.shape).toEqual([4, 0]);
  });

  it('detach shares data but not autograd state', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const d = sp.detach(x);
    expect(d.requiresGrad).toBe(false);
    expect(d.storage).toBe(x.storage);
  });
});
