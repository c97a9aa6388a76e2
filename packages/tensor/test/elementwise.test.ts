import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as sp from '../src/index.js';
import { add, clamp, DTypeError, maximum, ShapeError, tensor, where } from '../src/index.js';
import { expectClose, f32, randomTensor, randomValues, ravel, sizeOf, unravel, values } from './helpers.js';

/** Reference unary functions (float64). */
const erfRef = (x: number): number => {
  // Abramowitz-Stegun is too coarse; integrate numerically instead (Simpson, fine grid).
  const n = 2000;
  const h = x / n;
  let s = 1 + Math.exp(-x * x);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * Math.exp(-((i * h) ** 2));
  return ((2 / Math.sqrt(Math.PI)) * s * h) / 3;
};
const UNARY_REF: Record<string, (x: number) => number> = {
  neg: (x) => -x,
  abs: Math.abs,
  sign: Math.sign,
  relu: (x) => Math.max(x, 0),
  square: (x) => x * x,
  floor: Math.floor,
  ceil: Math.ceil,
  round: (x) => {
    const r = Math.round(x);
    return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
  },
  exp: Math.exp,
  log: Math.log,
  log1p: Math.log1p,
  expm1: Math.expm1,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  erf: erfRef,
  reciprocal: (x) => 1 / x,
  gelu: (x) => 0.5 * x * (1 + erfRef(x / Math.SQRT2)),
  leakyRelu: (x) => (x > 0 ? x : 0.01 * x),
};

describe('unary ops', () => {
  const xs = [...randomValues(40, 7, -4, 4), 0, -0.5, 0.5, 1.5, 2.5, -2.5];
  for (const [op, ref] of Object.entries(UNARY_REF)) {
    it(`${op} matches its reference in float64 and float32`, () => {
      const domain = ['log', 'sqrt', 'rsqrt'].includes(op)
        ? xs.map(Math.abs)
        : op === 'log1p'
          ? xs.map((v) => Math.abs(v) - 0.9)
          : xs;
      const fn = (sp as unknown as Record<string, (t: sp.Tensor) => sp.Tensor>)[op];
      const x64 = tensor(domain, { dtype: 'float64' });
      expectClose(values(fn(x64)), domain.map(ref), { atol: 1e-12, rtol: 1e-10 });
      const x32 = tensor(domain);
      const out = fn(x32);
      expect(out.dtype).toBe('float32');
      expectClose(
        values(out),
        domain.map((v) => f32(ref(f32(v)))),
        { atol: 1e-6, rtol: 1e-6 },
      );
      // Method form delegates to the same function.
      expect(values((x32 as unknown as Record<string, () => sp.Tensor>)[op]())).toEqual(values(out));
    });
  }

  it('float ops promote int32 and bool to float32; numeric ops keep int32', () => {
    const i = tensor([1, 4, 9], { dtype: 'int32' });
    expect(sp.sqrt(i).dtype).toBe('float32');
    expect(values(sp.sqrt(i))).toEqual([1, 2, 3]);
    expect(sp.neg(i).dtype).toBe('int32');
    expect(values(sp.square(tensor([46341], { dtype: 'int32' })))).toEqual([Math.imul(46341, 46341)]);
    expect(() => sp.neg(tensor([true]))).toThrow(DTypeError);
    expect(values(sp.logicalNot(tensor([0, 2, Number.NaN])))).toEqual([1, 0, 0]);
  });

  it('propagates NaN where PyTorch does', () => {
    const x = tensor([Number.NaN, -1, 1]);
    expect(Number.isNaN(values(sp.relu(x))[0])).toBe(true);
    expect(Number.isNaN(values(maximum(x, 0))[0])).toBe(true);
    expect(Number.isNaN(values(clamp(x, 0, 1))[0])).toBe(true);
    expect(values(sp.sigmoid(tensor([-800, 800], { dtype: 'float64' })))).toEqual([0, 1]);
  });

  /** float32 values by their bits: 1.5, -1.5, 0, -0, inf, -inf, NaN, -NaN, then `more`. */
  const special = (...more: number[]) =>
    new Float32Array(
      Int32Array.from([
        0x3fc00000,
        0xbfc00000,
        0,
        0x80000000,
        0x7f800000,
        0xff800000,
        0x7fc00000,
        0xffc00000,
        ...more,
      ]).buffer,
    );

  it('relu of float32 (bit-level fast path, views with an offset, strided views) keeps NaN of either sign', () => {
    const x = tensor(special(), { shape: [8] });
    const want = [1.5, 0, 0, 0, Number.POSITIVE_INFINITY, 0, Number.NaN, Number.NaN];
    expect(values(sp.relu(x))).toEqual(want);
    expect(Object.is(values(sp.relu(x))[3], 0)).toBe(true); // +0, not -0
    expect(values(sp.relu(x.slice([[2, 8]])))).toEqual(want.slice(2)); // contiguous, offset 2
    expect(values(sp.relu(x.reshape([4, 2]).T))).toEqual([
      1.5,
      0,
      Number.POSITIVE_INFINITY,
      Number.NaN,
      0,
      0,
      0,
      Number.NaN,
    ]);
  });

  it('reluBackward passes the gradient where input > 0 or NaN (float32 bits, offsets, strides, float64, int32)', () => {
    // ... and the smallest positive and negative subnormals.
    const x = tensor(special(1, 0x80000001), { shape: [10] });
    const g = tensor([1, 2, 3, 4, 5, 6, 7, -8, 9, 10]);
    const want = [1, 0, 0, 0, 5, 0, 7, -8, 9, 0];
    expect(values(sp.reluBackward(g, x))).toEqual(want);
    expect(Object.is(values(sp.reluBackward(tensor([-1]), tensor([-2])))[0], 0)).toBe(true); // +0
    expect(values(sp.reluBackward(g.slice([[3, 10]]), x.slice([[3, 10]])))).toEqual(want.slice(3));
    const gt = g.reshape([5, 2]).T; // strided: the general path
    expect(values(sp.reluBackward(gt, x.reshape([5, 2]).T))).toEqual([1, 0, 5, 7, 9, 0, 0, 0, -8, 0]);
    const x64 = sp.cast(x, 'float64');
    expect(values(sp.reluBackward(sp.cast(g, 'float64'), x64))).toEqual(want);
    expect(
      values(sp.reluBackward(tensor([3, 4, 5], { dtype: 'int32' }), tensor([-1, 0, 2], { dtype: 'int32' }))),
    ).toEqual([0, 0, 5]);
    // Against the composed form on random data.
    const r = randomTensor([33, 17], 'float32', 5);
    const dr = randomTensor([33, 17], 'float32', 6);
    expect(values(sp.reluBackward(dr, r))).toEqual(values(where(sp.gt(r, 0), dr, 0)));
    expect(() => sp.reluBackward(tensor([1, 2]), tensor([1, 2, 3]))).toThrow(
      new ShapeError('reluBackward: gradOutput [2] and input [3] must have the same shape'),
    );
    expect(() => sp.reluBackward(tensor([1]), tensor([1], { dtype: 'int32' }))).toThrow(
      new DTypeError('reluBackward: gradOutput and input must share a numeric dtype, got float32 and int32'),
    );
    expect(() => sp.reluBackward(tensor([1]), undefined as never)).toThrow(
      /reluBackward: input must be a Tensor/,
    );
  });

  it('gelu tanh approximation and leakyRelu slope', () => {
    const x = tensor([-1, 0.5, 2], { dtype: 'float64' });
    const approx = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
    expectClose(values(sp.gelu(x, { approximate: 'tanh' })), [-1, 0.5, 2].map(approx), { atol: 1e-12 });
    expect(values(sp.leakyRelu(x, { negativeSlope: 0.2 }))).toEqual([-0.2, 0.5, 2]);
    expect(() => sp.gelu(x, { approximate: 'fast' as never })).toThrow(/gelu: approximate must be/);
  });

  it('cast truncates toward zero and maps nonzero to true', () => {
    const x = tensor([-1.7, -0.2, 0, 2.9, Number.NaN]);
    expect(values(sp.cast(x, 'int32'))).toEqual([-1, 0, 0, 2, 0]);
    expect(values(sp.cast(x, 'bool'))).toEqual([1, 1, 0, 1, 1]);
    expect(sp.cast(x, 'float64').dtype).toBe('float64');
  });
});

/** Reference broadcasting binary op over plain arrays. */
function refBinary(
  a: sp.Tensor,
  b: sp.Tensor,
  f: (x: number, y: number) => number,
): { shape: number[]; out: number[] } {
  const shape = sp.broadcastShapes('ref', a.shape, b.shape);
  const av = values(a);
  const bv = values(b);
  const at = (t: sp.Tensor, v: number[], idx: number[]) => {
    const own = idx.slice(idx.length - t.rank).map((k, d) => (t.shape[d] === 1 ? 0 : k));
    return v[ravel(own, t.shape)];
  };
  const out = Array.from({ length: sizeOf(shape) }, (_, i) => {
    const idx = unravel(i, shape);
    return f(at(a, av, idx), at(b, bv, idx));
  });
  return { shape, out };
}

const BINARY_REF: Record<string, (x: number, y: number) => number> = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y) => x / y,
  pow: (x, y) => Math.abs(x) ** y,
  maximum: Math.max,
  minimum: Math.min,
  eq: (x, y) => +(x === y),
  ne: (x, y) => +(x !== y),
  lt: (x, y) => +(x < y),
  le: (x, y) => +(x <= y),
  gt: (x, y) => +(x > y),
  ge: (x, y) => +(x >= y),
  logicalAnd: (x, y) => +(x !== 0 && y !== 0),
  logicalOr: (x, y) => +(x !== 0 || y !== 0),
};

describe('binary ops with broadcasting', () => {
  const shapes: [number[], number[]][] = [
    [
      [3, 4],
      [3, 4],
    ],
    [[3, 4], [4]],
    [
      [3, 1],
      [1, 4],
    ],
    [
      [2, 1, 3],
      [4, 1],
    ],
    [[], [2, 2]],
    [[0, 3], [3]],
  ];
  for (const [op, ref] of Object.entries(BINARY_REF)) {
    it(`${op} broadcasts like NumPy`, () => {
      const fn = (sp as unknown as Record<string, (a: sp.Tensor, b: sp.Tensor) => sp.Tensor>)[op];
      for (const [sa, sb] of shapes) {
        let a = randomTensor(sa, 'float64', 3);
        const b = randomTensor(sb, 'float64', 4);
        if (op === 'pow') a = sp.abs(a);
        if (op === 'eq' || op === 'ne') a = sp.round(a);
        const { shape, out } = refBinary(a, op === 'eq' || op === 'ne' ? sp.round(b) : b, ref);
        const res = fn(a, op === 'eq' || op === 'ne' ? sp.round(b) : b);
        expect(res.shape).toEqual(shape);
        expectClose(values(res), out, { atol: 1e-12 });
      }
    });
  }

  it('is a property: any broadcastable pair matches the reference (fast-check)', () => {
    const dim = fc.integer({ min: 1, max: 3 });
    fc.assert(
      fc.property(
        fc.array(dim, { maxLength: 4 }),
        fc.array(fc.boolean(), { maxLength: 4 }),
        fc.integer({ min: 0, max: 3 }),
        (shape, ones, drop) => {
          const sa = shape;
          const sb = shape.slice(Math.min(drop, shape.length)).map((d, i) => (ones[i] ? 1 : d));
          const a = randomTensor(sa, 'float64', 5);
          const b = randomTensor(sb, 'float64', 6);
          const { shape: s, out } = refBinary(a, b, (x, y) => x * y - y);
          const res = sp.sub(sp.mul(a, b), b);
          expect(res.shape).toEqual(s);
          expectClose(values(res), out, { atol: 1e-12 });
        },
      ),
      { numRuns: 60 },
    );
  });

  it('reads non-contiguous views (transposed, sliced, expanded)', () => {
    const base = randomTensor([4, 6], 'float64', 9);
    const t = base.T; // [6,4]
    const s = base.slice([
      [0, null, 2],
      [1, 5],
    ]); // [2,4]
    const res = add(t.slice([[0, 2]]), s);
    const tv = values(t.contiguous());
    const sv = values(s.contiguous());
    expectClose(
      values(res),
      sv.map((v, i) => v + tv[i]),
      { atol: 1e-12 },
    );
    const e = sp.expand(tensor([[1], [2]]), [2, 3]);
    expect(values(sp.mul(e, 2))).toEqual([2, 2, 2, 4, 4, 4]);
  });

  it('promotes dtypes: tensors widen, numbers are weak', () => {
    const i = tensor([1, 2], { dtype: 'int32' });
    const f = tensor([0.5, 0.5]);
    const d = tensor([1, 1], { dtype: 'float64' });
    expect(add(i, f).dtype).toBe('float32');
    expect(add(f, d).dtype).toBe('float64');
    expect(add(i, 1).dtype).toBe('int32');
    expect(add(i, 0.5).dtype).toBe('float32');
    expect(add(f, 1).dtype).toBe('float32');
    expect(sp.div(i, 2).dtype).toBe('float32');
    expect(values(sp.div(i, 2))).toEqual([0.5, 1]);
    expect(add(tensor([true]), tensor([true])).dtype).toBe('int32');
    expect(sp.lt(i, 1.5).dtype).toBe('bool');
    expect(values(sp.lt(i, 1.5))).toEqual([1, 0]);
    expect(values(sp.mul(tensor([65536], { dtype: 'int32' }), 65536))).toEqual([0]); // int32 wraps
  });

  it('errors name the op and the shapes', () => {
    expect(() => add(tensor([1, 2, 3]), tensor([1, 2]))).toThrow(ShapeError);
    expect(() => add(tensor([1, 2, 3]), tensor([1, 2]))).toThrow(
      'add: shapes [3] and [2] cannot be broadcast together',
    );
    expect(() => add(1, 2)).toThrow('add: at least one operand must be a Tensor');
    expect(() => add(tensor([1]), 'x' as never)).toThrow(
      'add: operands must be tensors or numbers, got string',
    );
    expect(() => add(tensor([1]), [1] as never)).toThrow(/add: operands must be tensors or numbers/);
  });
});

describe('where and clamp', () => {
  it('where broadcasts all three and accepts numbers', () => {
    const c = tensor([[true], [false]]);
    const out = where(c, tensor([1, 2, 3]), 0);
    expect(out.shape).toEqual([2, 3]);
    expect(values(out)).toEqual([1, 2, 3, 0, 0, 0]);
    expect(values(where(tensor([1, 0]), 1, 2))).toEqual([1, 2]);
    expect(where(tensor([1, 0]), 1, 2).dtype).toBe('float32');
    expect(() => where(tensor([1, 0]), tensor([1, 2, 3]), 0)).toThrow(
      'where: shapes [2] and [3] and [] cannot be broadcast together',
    );
  });

  it('clamp with numbers, one side, and tensor bounds', () => {
    const x = tensor([-2, -0.5, 0.5, 2]);
    expect(values(clamp(x, -1, 1))).toEqual([-1, -0.5, 0.5, 1]);
    expect(values(clamp(x, 0))).toEqual([0, 0, 0.5, 2]);
    expect(values(clamp(x, null, 0))).toEqual([-2, -0.5, 0, 0]);
    expect(values(clamp(x, tensor([0, 0, 1, 1])))).toEqual([0, 0, 1, 2]);
    expect(values(clamp(tensor([-5, 5], { dtype: 'int32' }), -1, 1))).toEqual([-1, 1]);
    expect(() => clamp(x)).toThrow('clamp: give at least one of min and max');
  });
});
