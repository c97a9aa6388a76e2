// The adjoint primitives autograd needs: each is checked against its forward op through
// <forward(x), g> = <x, adjoint(g)>, and on small hand-made cases.
import { describe, expect, it } from 'vitest';
import * as sp from '../src/index.js';
import { indexAdd, padBackward, scatterAdd, sliceBackward, tensor } from '../src/index.js';
import { randomTensor, values } from './helpers.js';

const dot = (a: sp.Tensor, b: sp.Tensor) => values(a).reduce((s, v, i) => s + v * values(b)[i], 0);

describe('adjoint primitives', () => {
  it('sliceBackward is the adjoint of slice (steps, offsets)', () => {
    const x = randomTensor([5, 7], 'float64', 1);
    const y = x.slice([
      [1, 5, 2],
      [0, 7, 3],
    ]);
    const g = randomTensor([...y.shape], 'float64', 2);
    const gx = sliceBackward(g, x.shape, [1, 0], [2, 3]);
    expect(gx.shape).toEqual([5, 7]);
    expect(dot(y, g)).toBeCloseTo(dot(x, gx), 12);
    expect(values(sliceBackward(tensor([1, 2]), [4], [1], [2]))).toEqual([0, 1, 0, 2]);
    expect(() => sliceBackward(tensor([1, 2]), [3], [1], [2])).toThrow(/does not fit axis 0 of \[3\]/);
  });

  for (const mode of ['reflect', 'replicate', 'constant'] as const) {
    it(`padBackward is the adjoint of pad (${mode})`, () => {
      const x = randomTensor([2, 4, 5], 'float64', 3);
      const y = sp.pad(x, [2, 1, 3, 2], { mode });
      const g = randomTensor([...y.shape], 'float64', 4);
      const gx = padBackward(g, x.shape, [0, 3, 2], [0, 2, 1], mode);
      expect(dot(y, g)).toBeCloseTo(dot(x, gx), 12);
    });
  }

  it('scatterAdd is the adjoint of gather, repeated indices add up', () => {
    const x = randomTensor([3, 4], 'float64', 5);
    const index = tensor(
      [
        [0, 3, 3],
        [1, 1, 2],
        [2, 0, 0],
      ],
      { dtype: 'int32' },
    );
    const y = sp.gather(x, 1, index);
    const g = randomTensor([3, 3], 'float64', 6);
    const gx = scatterAdd(sp.zeros([3, 4], { dtype: 'float64' }), 1, index, g);
    expect(dot(y, g)).toBeCloseTo(dot(x, gx), 12);
    const base = tensor([1, 1, 1]);
    expect(values(scatterAdd(base, 0, tensor([2, 2], { dtype: 'int32' }), tensor([5, 6])))).toEqual([
      1, 1, 12,
    ]);
    expect(values(base)).toEqual([1, 1, 1]); // functional
  });

  it('indexAdd is the adjoint of indexSelect', () => {
    const x = randomTensor([4, 3], 'float64', 7);
    const index = tensor([3, 0, 3], { dtype: 'int32' });
    const y = sp.indexSelect(x, 0, index);
    const g = randomTensor([3, 3], 'float64', 8);
    const gx = indexAdd(sp.zeros([4, 3], { dtype: 'float64' }), 0, index, g);
    expect(dot(y, g)).toBeCloseTo(dot(x, gx), 12);
    expect(() => indexAdd(sp.zeros([4, 3]), 0, index, sp.zeros([2, 3]))).toThrow(
      'indexAdd: src must be [3,3] for base [4,3] and 1-D index [3], got [2,3]',
    );
    expect(() =>
      scatterAdd(sp.zeros([2]), 0, tensor([0], { dtype: 'int32' }), sp.zeros([1], { dtype: 'float64' })),
    ).toThrow('scatterAdd: src dtype float64 differs from base dtype float32');
  });
});
