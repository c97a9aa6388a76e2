import { describe, expect, it } from 'vitest';
import * as sp from '../src/index.js';
import {
  BackendError,
  cpuData,
  cpuEmpty,
  getKernel,
  listOps,
  onDispatch,
  registerKernel,
  run,
  tensor,
} from '../src/index.js';

// A package adding ops declares their attributes, so registerKernel type-checks them.
declare module '../src/index.js' {
  interface OpAttrs {
    testScale: { k: number };
    onlyElsewhere: Record<string, never>;
  }
}

describe('kernel registry and dispatch', () => {
  it('other packages can add ops through the public registry', () => {
    registerKernel('testScale', 'cpu', ([x], { k }) => {
      const out = cpuEmpty(x.shape, x.dtype);
      const src = sp.readContiguous(x);
      const dst = cpuData(out);
      for (let i = 0; i < dst.length; i++) dst[i] = src[i] * k;
      return out;
    });
    expect(Array.from(run('testScale', [tensor([1, 2])], { k: 3 }).dataSync())).toEqual([3, 6]);
    expect(listOps('cpu')).toContain('testScale');
  });

  it('missing ops and kernels are clear errors', () => {
    expect(() => getKernel('noSuchOp', 'cpu')).toThrow(
      'noSuchOp: no such op is registered (is the package that provides it imported?)',
    );
    registerKernel('onlyElsewhere', 'other', () => tensor(1));
    expect(() => run('onlyElsewhere', [tensor(1)])).toThrow(BackendError);
    expect(() => run('onlyElsewhere', [tensor(1)])).toThrow(
      /no kernel for backend 'cpu'; available on: other/,
    );
    expect(() => sp.getBackend('webgpu')).toThrow(/backend 'webgpu' is not ready/);
  });

  it('listeners see every op with its time', () => {
    const seen: string[] = [];
    const off = onDispatch((op) => seen.push(op));
    sp.relu(sp.add(tensor([1]), 1));
    off();
    sp.neg(tensor([1]));
    expect(seen).toContain('add');
    expect(seen).toContain('relu');
    expect(seen).not.toContain('neg');
  });

  it('checks operands are tensors', () => {
    expect(() => sp.relu(undefined as never)).toThrow('relu: input must be a Tensor, got undefined');
    expect(() => sp.sum([1, 2] as never)).toThrow(
      'sum: input must be a Tensor, got an array (wrap it with tensor())',
    );
  });
});

describe('reading and printing', () => {
  it('data, array, item in sync and async forms', async () => {
    const t = tensor([
      [1, 2],
      [3, 4],
    ]).T;
    expect(Array.from(await t.data())).toEqual([1, 3, 2, 4]);
    expect(await t.array()).toEqual([
      [1, 3],
      [2, 4],
    ]);
    expect(t.arraySync()).toEqual(await t.array());
    expect(await tensor(2.5).item()).toBe(2.5);
    expect(() => t.itemSync()).toThrow('itemSync: only one-element tensors have an item, got shape [2,2]');
    // data() returns a copy: changing it does not change the tensor.
    const d = t.dataSync();
    d[0] = 100;
    expect(t.dataSync()[0]).toBe(1);
  });

  it('toString prints like PyTorch and summarises big tensors', () => {
    expect(String(tensor([1, 2]))).toBe('tensor([1., 2.])');
    expect(String(tensor([0.5, -1.25]))).toBe('tensor([ 0.5000, -1.2500])');
    expect(
      String(
        tensor(
          [
            [1, 2],
            [3, 4],
          ],
          { dtype: 'int32' },
        ),
      ),
    ).toBe('tensor([[1, 2],\n        [3, 4]], dtype=int32)');
    expect(String(tensor([true, false]))).toBe('tensor([ True, False], dtype=bool)');
    expect(String(tensor([1e-6, 1]))).toBe('tensor([1.0000e-6, 1.0000e+0])');
    expect(String(tensor([Number.NaN, Infinity]))).toBe('tensor([nan, inf])');
    const big = String(sp.arange(2000, undefined, 1, { dtype: 'float32' }));
    expect(big).toBe('tensor([   0.,    1.,    2., ..., 1997., 1998., 1999.], shape=[2000])');
    expect(String(tensor(3))).toBe('tensor(3.)');
    expect(String(tensor([1], { requiresGrad: true }))).toBe('tensor([1.], requiresGrad=true)');
  });

  it('to() moves between backends (to itself: the same tensor)', () => {
    const t = tensor([1, 2]);
    expect(t.to('cpu')).toBe(t);
    expect(() => t.to('webgpu')).toThrow(/backend 'webgpu' is not ready/);
  });
});

// Compile-time checks of the typed op map (tsc runs over the tests; nothing here runs).
export function opMapTypeChecks(): void {
  // @ts-expect-error an op name that is not in OpAttrs (a typo) does not compile
  registerKernel('sofPool', 'cpu', ([x]) => x);
  // @ts-expect-error 'sum' has `axes` and `keepDim`, not `axis`
  registerKernel('sum', 'cpu', ([x], attrs) => (attrs.axis ? x : x));
  registerKernel('sum', 'cpu', ([x], { axes, keepDim }) => (axes.length && keepDim ? x : x));
}
