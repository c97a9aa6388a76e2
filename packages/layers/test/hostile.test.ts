// Hostile arguments to pooling and safetensors: the library's own errors, bounded sizes, and
// numerically safe SoftPool at the edges of the float ranges.
import * as sp from '@softpool/tensor';
import { describe, expect, it } from 'vitest';
import * as L from '../src/index.js';

function message(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(sp.SoftpoolError);
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

/** Safetensors bytes from a header object and a data length. */
function file(header: unknown, dataBytes: number): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  return out;
}

describe('pooling arguments', () => {
  const x = sp.randn([1, 2, 2]);
  it('adaptive pooling: output sizes are bounded by the input, before anything is allocated', () => {
    expect(message(() => L.adaptiveAvgPool1d(x, [2 ** 31]))).toBe(
      "adaptiveAvgPool1d: outputSize 2147483648 exceeds the input's size 2 along spatial axis 0; adaptive pooling downsamples (use interpolate to upsample)",
    );
    expect(message(() => L.adaptiveMaxPool2d(sp.randn([3, 2, 2, 4]), [1e9, 1]))).toMatch(
      /^adaptiveMaxPool2d: outputSize 1000000000 exceeds the input's size 2/,
    );
    expect(message(() => L.adaptiveAvgPool2d(sp.randn([0, 2, 2, 4]), [3, 1]))).toMatch(
      /outputSize 3 exceeds/,
    );
    expect(message(() => L.adaptiveAvgPool2d(sp.randn([1, 2, 4, 4]), undefined as never))).toBe(
      'adaptiveAvgPool2d: outputSize must be a number or an array of 2 numbers (or nulls), got undefined',
    );
    expect(message(() => L.adaptiveAvgPool2d(sp.randn([1, 2, 4, 4]), [3, 2 ** 53 + 2]))).toMatch(
      /outputSize 9007199254740994 exceeds the input's size 4/,
    );
  });

  it('ceilMode must be a boolean', () => {
    expect(
      message(() => L.avgPool2d(sp.randn([1, 1, 4, 4]), { kernelSize: 2, ceilMode: 'yes' as never })),
    ).toBe('avgPool2d: ceilMode must be a boolean, got "yes"');
  });

  it('SoftPool stays finite at the edges of the float ranges', () => {
    const a = sp.tensor([1, 2, 3, 4], { shape: [1, 1, 4] });
    // T -> 0 is max pooling: float32 kernels would overflow 1/T.
    expect([...L.softPool1d(a, { kernelSize: 4, temperature: 1e-39 }).dataSync()]).toEqual([4]);
    const big = sp.tensor([1.7e308, 1.7e308, 1.7e308, 1.7e308], { shape: [1, 1, 4], dtype: 'float64' });
    big.requiresGrad_();
    const y = L.softPool1d(big, { kernelSize: 4 });
    expect([...y.dataSync()]).toEqual([1.7e308]);
    y.sum().backward();
    expect([...big.grad!.dataSync()]).toEqual([0.25, 0.25, 0.25, 0.25]);
    const f32 = sp.tensor([3e38, 3e38, -3e38, 0], { shape: [1, 1, 4] });
    expect(Number.isFinite(L.softPool1d(f32, { kernelSize: 4 }).dataSync()[0])).toBe(true);
  });
});

describe('safetensors input', () => {
  it('rejects bad header entries and metadata with its own errors', () => {
    expect(message(() => L.parseSafetensors(file({ a: null }, 0)))).toBe(
      "safetensors: entry 'a' needs a dtype, a shape of non-negative integers and two data offsets",
    );
    expect(message(() => L.parseSafetensors(file({ __metadata__: 'abc' }, 0)))).toBe(
      'safetensors: __metadata__ must be an object of strings',
    );
  });

  it('validates the whole header before decoding: 100 entries over one span fail at once', () => {
    const n = 1 << 20; // 4 MiB of float32
    const header: Record<string, unknown> = {};
    for (let i = 0; i < 100; i++) header[`t${i}`] = { dtype: 'F32', shape: [n], data_offsets: [0, 4 * n] };
    const before = sp.memory().tensors;
    const t0 = performance.now();
    expect(message(() => L.parseSafetensors(file(header, 4 * n)))).toMatch(/overlapping or holes/);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(sp.memory().tensors).toBe(before);
  });

  it('disposes what it decoded when a later tensor fails', () => {
    const header = {
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'I64', shape: [1], data_offsets: [8, 16] },
    };
    const bytes = file(header, 16);
    const h = bytes.length - 16;
    new DataView(bytes.buffer).setBigInt64(h + 8, 2n ** 40n, true);
    const before = sp.memory().tensors;
    expect(message(() => L.parseSafetensors(bytes))).toMatch(/outside the int32 range/);
    expect(sp.memory().tensors).toBe(before);
  });
});

describe('errors of the right class', () => {
  it('a Parameter of integers is a DTypeError', () => {
    expect(() => new L.Parameter(sp.zeros([2], { dtype: 'int32' }))).toThrow(sp.DTypeError);
  });
});
