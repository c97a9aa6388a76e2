// Reductions. ReduceSum takes its axes as an input from opset 13, the others from opset 18;
// before that they are an attribute.
import type { ConvertContext } from '../graph.js';
import { DATA_TYPE } from '../proto.js';
import { registerConverter } from '../registry.js';

function reduceNode(
  ctx: ConvertContext,
  onnx: string,
  x: string,
  axes: number[],
  keepDim: boolean,
): string[] {
  const keepdims = { int: keepDim ? 1 : 0 };
  const axesAsInput = onnx === 'ReduceSum' || ctx.opset >= 18;
  // An empty axis list is a rank-0 input: reducing it changes nothing.
  if (axes.length === 0) return ctx.node('Identity', [x]);
  return axesAsInput
    ? ctx.node(onnx, [x, ctx.int64(axes)], { keepdims })
    : ctx.node(onnx, [x], { keepdims, axes: { ints: axes } });
}

const REDUCE: Record<string, string> = {
  sum: 'ReduceSum',
  prod: 'ReduceProd',
  max: 'ReduceMax',
  min: 'ReduceMin',
};
for (const [op, onnx] of Object.entries(REDUCE)) {
  registerConverter(op, (ctx, [x], a) => reduceNode(ctx, onnx, x, a.axes as number[], a.keepDim as boolean));
}

for (const [op, onnx] of Object.entries({ argmax: 'ArgMax', argmin: 'ArgMin' })) {
  registerConverter(op, (ctx, [x], a) => {
    const axes = a.axes as number[];
    if (axes.length === 0) return ctx.node('Cast', [ctx.int64([0], [])], { to: { int: DATA_TYPE.int32 } });
    const idx = ctx.node(onnx, [x], { axis: { int: axes[0] }, keepdims: { int: a.keepDim ? 1 : 0 } });
    // ONNX answers int64; softpool's indices are int32.
    return ctx.node('Cast', idx, { to: { int: DATA_TYPE.int32 } });
  });
}

registerConverter('softmax', (ctx, [x], a) => ctx.node('Softmax', [x], { axis: { int: a.axis as number } }));
registerConverter('logSoftmax', (ctx, [x], a) =>
  ctx.node('LogSoftmax', [x], { axis: { int: a.axis as number } }),
);
registerConverter('logSumExp', (ctx, [x], a) =>
  reduceNode(ctx, 'ReduceLogSumExp', x, [a.axis as number], a.keepDim as boolean),
);
