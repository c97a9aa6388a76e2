// The Winograd F(2x2, 3x3) float32 convolution (src/cpu/conv-winograd.ts) against the float64
// path (im2col, checked against textbook sums in conv.test.ts), on the edges the kernels handle:
// odd output heights and widths (tiles cut by the output), tile rows that are not whole groups of
// 4, channel counts that are not whole panels, one-sided and wide padding, several blocks of tile
// rows per work item; and non-finite inputs, which must reach only the windows that hold them, as
// in a direct sum.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useWinograd, useWinogradWeightGrad } from '../src/cpu/conv-winograd.js';
import {
  type ConvOptions,
  conv2d,
  convBackwardInput,
  convBackwardWeight,
  cpuInfo,
  type Tensor,
  tensor,
} from '../src/index.js';
import type { ConvAttrs } from '../src/ops/conv.js';
import { expectConvMatchesFloat64, randomTensor, values } from './helpers.js';

/** Attributes as the kernels see them. */
function attrs(pad: [number, number], extra: Partial<ConvAttrs> = {}): ConvAttrs {
  return { stride: [1, 1], dilation: [1, 1], padBefore: pad, padAfter: pad, groups: 1, ...extra };
}

const cases: { x: number[]; w: number[]; opts: ConvOptions }[] = [
  { x: [2, 32, 9, 13], w: [20, 32, 3, 3], opts: { padding: 1 } },
  { x: [3, 33, 7, 7], w: [18, 33, 3, 3], opts: { padding: [0, 2] } },
  { x: [1, 32, 5, 30], w: [24, 32, 3, 3], opts: {} },
  { x: [2, 36, 6, 6], w: [17, 36, 3, 3], opts: { padding: 1 } },
  { x: [1, 40, 3, 3], w: [40, 40, 3, 3], opts: { padding: 2 } },
  { x: [2, 16, 12, 17], w: [16, 16, 3, 3], opts: { padding: 'same' } },
  // Wide rows and many channels: the forward runs its tile rows in several cache-sized blocks.
  { x: [2, 64, 9, 64], w: [64, 64, 3, 3], opts: { padding: 1 } },
  // 64+ input channels: the weight gradient's Winograd path, on odd sizes and part panels.
  { x: [2, 65, 7, 9], w: [20, 65, 3, 3], opts: { padding: [0, 2] } },
  { x: [1, 68, 5, 6], w: [17, 68, 3, 3], opts: {} },
];

describe('Winograd convolution (float32, 3x3, stride 1, 16+ channels)', () => {
  it('takes these shapes, and not small, strided, dilated, grouped or other kernels', () => {
    expect(useWinograd([2, 16, 8, 8], [16, 16, 3, 3], attrs([1, 1]))).toBe(true);
    expect(useWinogradWeightGrad([2, 64, 8, 8], [16, 64, 3, 3], attrs([1, 1]))).toBe(true);
    expect(useWinogradWeightGrad([2, 32, 8, 8], [16, 32, 3, 3], attrs([1, 1]))).toBe(false);
    expect(useWinograd([2, 8, 8, 8], [16, 8, 3, 3], attrs([1, 1]))).toBe(false);
    expect(useWinograd([2, 16, 8, 8], [8, 16, 3, 3], attrs([1, 1]))).toBe(false);
    expect(useWinograd([2, 16, 8, 8], [16, 16, 5, 5], attrs([1, 1]))).toBe(false);
    expect(useWinograd([2, 16, 8, 8], [16, 16, 3, 3], attrs([1, 1], { stride: [1, 2] }))).toBe(false);
    expect(useWinograd([2, 16, 8, 8], [16, 16, 3, 3], attrs([1, 1], { dilation: [2, 2] }))).toBe(false);
    expect(useWinograd([2, 16, 8, 8], [16, 8, 3, 3], attrs([1, 1], { groups: 2 }))).toBe(false);
    expect(useWinograd([2, 16, 8], [16, 16, 3], { ...attrs([1, 1]), stride: [1], dilation: [1] })).toBe(
      false,
    );
    expect(useWinograd([2, 16, 8, 8], [16, 16, 3, 3], attrs([-1, 0]))).toBe(false);
  });

  it('forward, input and weight gradients match the float64 path', () =>
    expectConvMatchesFloat64(cases, 150));

  it('strided and expanded operands give the bits of their contiguous copies (Winograd and direct)', () => {
    // Staging writes views into WebAssembly memory in one pass (no intermediate copy).
    const bits = (t: Tensor) => Buffer.from(t.dataSync().buffer).toString('hex');
    const x = randomTensor([2, 9, 13, 32], 'float32', 20).permute([0, 3, 1, 2]);
    const xc = x.contiguous();
    expect(x.isContiguous).toBe(false);
    for (const ws of [
      [24, 32, 3, 3],
      [8, 32, 3, 3],
    ]) {
      const w = randomTensor(ws, 'float32', 21);
      const y = conv2d(x, w, { padding: 1 });
      expect(bits(y)).toBe(bits(conv2d(xc, w, { padding: 1 })));
      const dy = randomTensor([1, ws[0], 1, 13], 'float32', 22).expand([2, ws[0], 9, 13]);
      const dyc = dy.contiguous();
      expect(bits(convBackwardWeight(x, dy, ws, { padding: 1 }))).toBe(
        bits(convBackwardWeight(xc, dyc, ws, { padding: 1 })),
      );
      expect(bits(convBackwardInput(dy, w, [2, 32, 9, 13], { padding: 1 }))).toBe(
        bits(convBackwardInput(dyc, w, [2, 32, 9, 13], { padding: 1 })),
      );
    }
  });

  it('a NaN or an infinity reaches only the outputs whose windows hold it', () => {
    const xs = [1, 32, 6, 7];
    const ws = [16, 32, 3, 3];
    const v = values(randomTensor(xs, 'float64', 9));
    v[3 * 42 + 2 * 7 + 3] = Number.NaN;
    v[5 * 42 + 5 * 7 + 6] = Number.POSITIVE_INFINITY;
    const x = tensor(v, { shape: xs, dtype: 'float32' });
    const w = randomTensor(ws, 'float32', 10);
    const check = (a: Tensor, b: Tensor) => {
      const got = values(a);
      const want = values(b);
      expect(want.some((e) => !Number.isFinite(e))).toBe(true);
      want.forEach((e, k) => {
        if (Number.isFinite(e)) expect(got[k]).toBeCloseTo(e, 3);
        else expect(got[k]).toBe(e);
      });
    };
    const y = conv2d(x, w, { padding: 1 });
    check(y, conv2d(x.cast('float64'), w.cast('float64'), { padding: 1 }));
    // The infinity stays infinite (the transforms would make NaN of it) and the NaN stays local.
    expect(values(y).some((e) => Math.abs(e) === Number.POSITIVE_INFINITY)).toBe(true);
    expect(values(y).some((e) => Number.isNaN(e))).toBe(true);
    const dy = randomTensor([...y.shape], 'float32', 11);
    check(
      convBackwardWeight(x, dy, ws, { padding: 1 }),
      convBackwardWeight(x.cast('float64'), dy.cast('float64'), ws, { padding: 1 }),
    );
    // A non-finite output gradient, through the input and weight gradients.
    const g = values(dy);
    g[7 * 42 + 3 * 7 + 1] = Number.NEGATIVE_INFINITY;
    const dyBad = tensor(g, { shape: [...y.shape], dtype: 'float32' });
    const x2 = randomTensor(xs, 'float32', 12);
    check(
      convBackwardInput(dyBad, w, xs, { padding: 1 }),
      convBackwardInput(dyBad.cast('float64'), w.cast('float64'), xs, { padding: 1 }),
    );
    check(
      convBackwardWeight(x2, dyBad, ws, { padding: 1 }),
      convBackwardWeight(x2.cast('float64'), dyBad.cast('float64'), ws, { padding: 1 }),
    );
  });
});

describe('SOFTPOOL_WINOGRAD', () => {
  // The setting is read once per process, so each case runs a fresh one.
  const index = fileURLToPath(new URL('../src/index.ts', import.meta.url));
  const script = `
const sp = await import(${JSON.stringify(index)});
const { randomTensor } = await import(${JSON.stringify(fileURLToPath(new URL('./helpers.ts', import.meta.url)))});
const y = sp.conv2d(randomTensor([2, 16, 9, 9], 'float32', 3), randomTensor([16, 16, 3, 3], 'float32', 4), { padding: 1 });
console.log(JSON.stringify({ winograd: sp.cpuInfo().winograd, bits: Buffer.from(y.dataSync().buffer).toString('hex') }));
`;
  function run(env: Record<string, string>) {
    const { SOFTPOOL_WINOGRAD: _, ...rest } = process.env;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...rest, ...env },
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { ...r, out: r.status === 0 ? JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') : undefined };
  }

  it('=0 turns Winograd off (other rounding), =1 and unset leave it on', () => {
    expect(cpuInfo().winograd).toBe(true);
    const unset = run({});
    const on = run({ SOFTPOOL_WINOGRAD: '1' });
    const off = run({ SOFTPOOL_WINOGRAD: '0' });
    expect(unset.out.winograd).toBe(true);
    expect(on.out).toEqual(unset.out);
    expect(off.out.winograd).toBe(false);
    expect(off.out.bits).not.toBe(on.out.bits);
  }, 240_000);

  it('refuses other values', () => {
    const r = run({ SOFTPOOL_WINOGRAD: 'fast' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/SOFTPOOL_WINOGRAD: must be 0 \(no Winograd convolutions\) or 1, got fast/);
  }, 120_000);
});
