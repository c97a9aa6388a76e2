// Window poolings. Max and average pooling map to ONNX's MaxPool/AveragePool when ONNX's output
// size rule gives ours. SoftPool and LP pooling have no ONNX op: they are composed on the windows
// themselves, extracted by a grouped convolution with one-hot kernels (exact: each output copies
// one input). SoftPool then subtracts each window's own maximum before the exponent, so it is
// stable for overlapping windows too: y = sum(e * a) / sum(e), e = exp(a/T - max(a/T)).

import { OnnxExportError } from '../errors.js';
import type { ConvertContext } from '../graph.js';
import { DATA_TYPE } from '../proto.js';
import { registerConverter } from '../registry.js';

interface Geometry {
  kernel: number[];
  stride: number[];
  padding: number[];
  dilation: number[];
  ceilMode: boolean;
}

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

/** Right padding that makes a plain sliding window give exactly our output size. */
function padAfter(g: Geometry, input: readonly number[], output: readonly number[]): number[] {
  return g.kernel.map((k, i) => {
    const span = g.dilation[i] * (k - 1) + 1;
    return Math.max(0, (output[i] - 1) * g.stride[i] + span - input[i] - g.padding[i]);
  });
}

/** ONNX's output size for a pooling op with symmetric pads and its ceil_mode. */
function onnxPoolSize(g: Geometry, input: readonly number[]): number[] {
  return g.kernel.map((k, i) => {
    const span = g.dilation[i] * (k - 1) + 1;
    const q = (input[i] + 2 * g.padding[i] - span) / g.stride[i];
    return (g.ceilMode ? Math.ceil(q) : Math.floor(q)) + 1;
  });
}

interface Windows {
  /** [N, C, K, ...out]: every window's K taps. */
  taps: string;
  /** bool [1, 1, K, ...out], true where a tap lies inside the input; absent when all do. */
  inside?: string;
}

/** The taps of every window, by a grouped convolution with one-hot kernels. */
function windows(ctx: ConvertContext, x: string, g: Geometry): Windows {
  const [, channels, ...input] = ctx.inputs[0].shape;
  const output = ctx.outputs[0].shape.slice(2);
  const dtype = ctx.inputs[0].dtype;
  const k = prod(g.kernel);
  const oneHot = new Array<number>(channels * k * k).fill(0);
  for (let c = 0; c < channels; c++) for (let t = 0; t < k; t++) oneHot[(c * k + t) * k + t] = 1;
  const weight = ctx.constant(oneHot, [channels * k, 1, ...g.kernel], dtype);
  const after = padAfter(g, input, output);
  const [flat] = ctx.node('Conv', [x, weight], {
    kernel_shape: { ints: g.kernel },
    strides: { ints: g.stride },
    pads: { ints: [...g.padding, ...after] },
    dilations: { ints: g.dilation },
    group: { int: channels },
  });
  // Reshape's 0 copies the batch size, so the graph takes any batch.
  const taps = ctx.node('Reshape', [flat, ctx.int64([0, channels, k, ...output])])[0];
  if (g.padding.every((p) => p === 0) && after.every((p) => p === 0)) return { taps };
  return { taps, inside: ctx.constant(insideMask(g, input, output), [1, 1, k, ...output], 'bool') };
}

/** For each tap and output position: does the tap fall inside the input (not in padding)? */
function insideMask(g: Geometry, input: readonly number[], output: readonly number[]): boolean[] {
  const rank = g.kernel.length;
  const taps = prod(g.kernel);
  const outs = prod(output);
  const mask = new Array<boolean>(taps * outs);
  for (let t = 0; t < taps; t++) {
    for (let o = 0; o < outs; o++) {
      let inside = true;
      for (let i = rank - 1, tr = t, or = o; i >= 0; i--) {
        const ti = tr % g.kernel[i];
        const oi = or % output[i];
        tr = Math.floor(tr / g.kernel[i]);
        or = Math.floor(or / output[i]);
        const pos = oi * g.stride[i] - g.padding[i] + ti * g.dilation[i];
        if (pos < 0 || pos >= input[i]) inside = false;
      }
      mask[t * outs + o] = inside;
    }
  }
  return mask;
}

function reduceTaps(ctx: ConvertContext, op: 'ReduceSum' | 'ReduceMax', x: string, keep: boolean): string {
  const keepdims = { int: keep ? 1 : 0 };
  return op === 'ReduceSum' || ctx.opset >= 18
    ? ctx.node(op, [x, ctx.int64([2])], { keepdims })[0]
    : ctx.node(op, [x], { keepdims, axes: { ints: [2] } })[0];
}

/** Taps outside the input replaced by -inf, so that they never win a maximum. */
function withoutPadding(ctx: ConvertContext, w: Windows, values: string): string {
  if (!w.inside) return values;
  const minusInf = ctx.constant([Number.NEGATIVE_INFINITY], [], ctx.inputs[0].dtype);
  return ctx.node('Where', [w.inside, values, minusInf])[0];
}

function geometry(a: Record<string, unknown>): Geometry {
  return {
    kernel: a.kernel as number[],
    stride: a.stride as number[],
    padding: a.padding as number[],
    dilation: a.dilation as number[],
    ceilMode: a.ceilMode as boolean,
  };
}

registerConverter('softPool', (ctx, [x], a) => {
  const w = windows(ctx, x, geometry(a));
  const t = a.temperature as number;
  const scaled = t === 1 ? w.taps : ctx.node('Div', [w.taps, ctx.constant([t], [], ctx.inputs[0].dtype)])[0];
  const z = withoutPadding(ctx, w, scaled);
  const e = ctx.node('Exp', ctx.node('Sub', [z, reduceTaps(ctx, 'ReduceMax', z, true)]))[0];
  const num = reduceTaps(ctx, 'ReduceSum', ctx.node('Mul', [e, w.taps])[0], false);
  return ctx.node('Div', [num, reduceTaps(ctx, 'ReduceSum', e, false)]);
});

registerConverter('lpPool', (ctx, [x], a) => {
  // (sum a^p)^(1/p) over the taps inside the input; padding taps are 0 and add 0^p = 0.
  const p = a.normType as number;
  const dtype = ctx.inputs[0].dtype;
  const w = windows(ctx, x, geometry(a));
  const powered = ctx.node('Pow', [w.taps, ctx.constant([p], [], dtype)])[0];
  return ctx.node('Pow', [reduceTaps(ctx, 'ReduceSum', powered, false), ctx.constant([1 / p], [], dtype)]);
});

registerConverter('edscwPool', (ctx, [x], a) => {
  // AdaPool's eDSCW: m = mean of the taps inside the input, dsc = 2|a m| / (a^2 + m^2) (0/0 is 1),
  // y = sum e a / sum e with e = exp(dsc) (dsc lies in [0, 1]: no maximum to subtract).
  const dtype = ctx.inputs[0].dtype;
  const g = geometry(a);
  const w = windows(ctx, x, g);
  const c = (v: number) => ctx.constant([v], [], dtype);
  const node = (op: string, ...ins: string[]) => ctx.node(op, ins)[0];
  // Taps in the padding are 0: they add nothing to sums, and the mask keeps them out of counts and weights.
  const inside = w.inside && ctx.node('Cast', [w.inside], { to: { int: DATA_TYPE[dtype] } })[0];
  const count = inside ? reduceTaps(ctx, 'ReduceSum', inside, true) : c(prod(g.kernel));
  const mean = node('Div', reduceTaps(ctx, 'ReduceSum', w.taps, true), count);
  const den = node('Add', node('Mul', w.taps, w.taps), node('Mul', mean, mean));
  const num = node('Mul', c(2), node('Abs', node('Mul', w.taps, mean)));
  const dsc = node('Where', node('Equal', den, c(0)), c(1), node('Div', num, den));
  const e = inside ? node('Mul', node('Exp', dsc), inside) : node('Exp', dsc);
  const sum = reduceTaps(ctx, 'ReduceSum', node('Mul', e, w.taps), false);
  return ctx.node('Div', [sum, reduceTaps(ctx, 'ReduceSum', e, false)]);
});

registerConverter('maxPool', (ctx, [x], a) => {
  const g = geometry(a);
  const input = ctx.inputs[0].shape.slice(2);
  const output = ctx.outputs[0].shape.slice(2);
  // The second output (indices) is not exported; a graph that used it fails as an unexported value.
  if (onnxPoolSize(g, input).join() === output.join()) {
    const pads = [...g.padding, ...g.padding];
    return ctx.node('MaxPool', [x], {
      kernel_shape: { ints: g.kernel },
      strides: { ints: g.stride },
      pads: { ints: pads },
      dilations: { ints: g.dilation },
      ceil_mode: { int: g.ceilMode ? 1 : 0 },
    });
  }
  const w = windows(ctx, x, g);
  return [reduceTaps(ctx, 'ReduceMax', withoutPadding(ctx, w, w.taps), false)];
});

registerConverter('avgPool', (ctx, [x], a) => {
  const g = geometry(a);
  const input = ctx.inputs[0].shape.slice(2);
  const output = ctx.outputs[0].shape.slice(2);
  if (a.divisorOverride !== undefined && a.divisorOverride !== null)
    throw new OnnxExportError('exportOnnx: avgPool with divisorOverride has no ONNX form');
  if (g.dilation.some((d) => d !== 1) && ctx.opset < 19)
    throw new OnnxExportError(
      `exportOnnx: avgPool with dilation [${g.dilation}] needs opset 19 (AveragePool dilations), got opset ${ctx.opset}`,
    );
  if (onnxPoolSize(g, input).join() !== output.join())
    throw new OnnxExportError(
      `exportOnnx: avgPool with ceilMode on input [${input}] gives output [${output}], which ONNX's AveragePool does not reproduce`,
    );
  return ctx.node('AveragePool', [x], {
    kernel_shape: { ints: g.kernel },
    strides: { ints: g.stride },
    pads: { ints: [...g.padding, ...g.padding] },
    ...(g.dilation.some((d) => d !== 1) ? { dilations: { ints: g.dilation } } : {}),
    ceil_mode: { int: g.ceilMode ? 1 : 0 },
    count_include_pad: { int: a.countIncludePad ? 1 : 0 },
  });
});
