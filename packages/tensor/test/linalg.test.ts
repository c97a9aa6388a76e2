import { describe, expect, it } from 'vitest';
import * as sp from '../src/index.js';
import { matmul, ShapeError, tensor } from '../src/index.js';
import { expectClose, randomTensor, ravel, sizeOf, unravel, values } from './helpers.js';

/** Reference batched matmul with broadcasting over plain arrays. */
function refMatmul(a: sp.Tensor, b: sp.Tensor): { shape: number[]; out: number[] } {
  const [M, K] = a.shape.slice(-2);
  const N = b.shape[b.rank - 1];
  const batch = sp.broadcastShapes('ref', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const av = values(a);
  const bv = values(b);
  const at = (t: sp.Tensor, v: number[], bidx: number[], i: number, j: number) => {
    const own = bidx.slice(bidx.length - (t.rank - 2)).map((k, d) => (t.shape[d] === 1 ? 0 : k));
    return v[ravel([...own, i, j], t.shape)];
  };
  const out: number[] = [];
  for (let n = 0; n < sizeOf(batch); n++) {
    const bidx = unravel(n, batch);
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += at(a, av, bidx, i, k) * at(b, bv, bidx, k, j);
        out.push(s);
      }
  }
  return { shape: [...batch, M, N], out };
}

describe('matmul', () => {
  const cases: [number[], number[]][] = [
    [
      [3, 4],
      [4, 5],
    ],
    [
      [1, 1],
      [1, 1],
    ],
    [
      [7, 13],
      [13, 9],
    ],
    [
      [33, 70],
      [70, 17],
    ],
    [
      [2, 3, 4],
      [4, 2],
    ],
    [
      [2, 1, 3, 4],
      [5, 4, 6],
    ],
    [
      [0, 4],
      [4, 3],
    ],
    [
      [3, 0],
      [0, 2],
    ],
  ];
  for (const dtype of ['float32', 'float64', 'int32'] as const) {
    it(`${dtype}: batched and broadcast shapes match the reference`, () => {
      for (const [sa, sb] of cases) {
        const a = randomTensor(sa, dtype, 1);
        const b = randomTensor(sb, dtype, 2);
        const ref = refMatmul(a, b);
        const res = matmul(a, b);
        expect(res.shape).toEqual(ref.shape);
        expect(res.dtype).toBe(dtype);
        expectClose(values(res), ref.out, dtype === 'float32' ? { atol: 1e-4, rtol: 1e-5 } : { atol: 1e-10 });
      }
    });
  }

  it('reads transposed and sliced operands without copying them first', () => {
    const a = randomTensor([9, 6], 'float32', 3);
    const b = randomTensor([10, 9], 'float32', 4);
    const res = matmul(a.T, b.T.slice([null, [1, 8, 2]]));
    const ref = refMatmul(a.T.contiguous(), b.T.slice([null, [1, 8, 2]]).contiguous());
    expectClose(values(res), ref.out, { atol: 1e-4 });
  });

  it('packs row-major, column-major and strided float32 operands into the same panels (same bits)', () => {
    // A Linear layer's x @ W^T: A row-major (four k a step, transposed), B column-major (four k of
    // eight columns a step). Ragged sizes leave partial panels and k tails; large operands live in
    // WebAssembly memory and are packed in place, small ones are copied in first.
    for (const [M, K, N] of [
      [100, 70, 45],
      [7, 13, 9],
      [64, 400, 120],
    ]) {
      const x = randomTensor([M, K], 'float32', 7);
      const w = randomTensor([N, K], 'float32', 8);
      const bits = (t: sp.Tensor) => Array.from(new Int32Array(Float32Array.from(t.dataSync()).buffer));
      const packed = bits(matmul(x, w.T)); // A row-major, B column-major
      expect(bits(matmul(x, w.T.contiguous()))).toEqual(packed); // B row-major
      expect(bits(matmul(x.T.contiguous().T, w.T))).toEqual(packed); // A column-major
      const xs = sp
        .stack([x, sp.zerosLike(x)], 2)
        .slice([null, null, [0, 1]])
        .squeeze(2);
      expect(xs.strides).toEqual([2 * K, 2]); // A with a column stride of 2
      expect(bits(matmul(xs, w.T))).toEqual(packed);
      const ref = refMatmul(sp.cast(x, 'float64'), sp.cast(w.T, 'float64'));
      expectClose(values(matmul(x, w.T)), ref.out, { atol: 1e-3, rtol: 1e-4 });
    }
  });

  it('1-D operands follow NumPy: vector-matrix, matrix-vector, dot', () => {
    const v = tensor([1, 2, 3]);
    const m = tensor([
      [1, 0],
      [0, 1],
      [1, 1],
    ]);
    expect(matmul(v, m).shape).toEqual([2]);
    expect(values(matmul(v, m))).toEqual([4, 5]);
    expect(values(matmul(m.T, v))).toEqual([4, 5]);
    expect(matmul(v, v).shape).toEqual([]);
    expect(sp.dot(v, v).itemSync()).toBe(14);
    expect(matmul(randomTensor([2, 3, 4]), tensor([1, 1, 1, 1])).shape).toEqual([2, 3]);
  });

  it('large float32 product agrees with float64 (SIMD kernel, edge tiles)', () => {
    const a = randomTensor([130, 257], 'float64', 5);
    const b = randomTensor([257, 67], 'float64', 6);
    const exact = values(matmul(a, b));
    const fast = values(matmul(sp.cast(a, 'float32'), sp.cast(b, 'float32')));
    expectClose(fast, exact, { atol: 2e-3, rtol: 1e-4 });
  });

  it('errors name the shapes', () => {
    expect(() => matmul(sp.zeros([2, 3]), sp.zeros([4, 5]))).toThrow(
      'matmul: inner dimensions differ: [2,3] @ [4,5]',
    );
    expect(() => matmul(sp.zeros([2, 2, 3]), sp.zeros([3, 3, 1]))).toThrow(ShapeError);
    expect(() => matmul(tensor(1), sp.zeros([2]))).toThrow(
      'matmul: operands must be at least 1-D, got [] @ [2]',
    );
    expect(() => matmul(tensor([true]), tensor([true]))).toThrow(/bool tensors are not supported/);
    expect(matmul(tensor([1], { dtype: 'int32' }), tensor([0.5])).dtype).toBe('float32');
  });
});
