// Views and shape ops. Views are ops in softpool (reshape, permute, expand, slice are dispatched
// like any other), so the trace sees them and each becomes its ONNX counterpart.
import { registerConverter } from '../registry.js';

registerConverter('reshape', (ctx, [x], a) => ctx.node('Reshape', [x, ctx.int64(a.shape as number[])]));
registerConverter('permute', (ctx, [x], a) =>
  ctx.node('Transpose', [x], { perm: { ints: a.axes as number[] } }),
);
registerConverter('expand', (ctx, [x], a) => ctx.node('Expand', [x, ctx.int64(a.shape as number[])]));
registerConverter('contiguous', (ctx, [x]) => ctx.node('Identity', [x]));
registerConverter('concat', (ctx, names, a) =>
  ctx.node('Concat', names, { axis: { int: a.axis as number } }),
);

registerConverter('slice', (ctx, [x], a) => {
  const starts = a.starts as number[];
  const steps = a.steps as number[];
  const shape = a.shape as number[];
  // Our slice names the first index, the step and the count; ONNX wants an exclusive end. A
  // negative end would count from the back in ONNX, so "before index 0" is the smallest int.
  const ends = starts.map((s, i) => {
    const end = s + steps[i] * shape[i];
    return end < 0 ? Number.MIN_SAFE_INTEGER : end;
  });
  const axes = starts.map((_, i) => i);
  return ctx.node('Slice', [x, ctx.int64(starts), ctx.int64(ends), ctx.int64(axes), ctx.int64(steps)]);
});

const PAD_MODE: Record<string, string> = { constant: 'constant', reflect: 'reflect', replicate: 'edge' };
registerConverter('pad', (ctx, [x], a) => {
  const pads = [...(a.before as number[]), ...(a.after as number[])];
  const inputs = [x, ctx.int64(pads)];
  if (a.mode === 'constant') inputs.push(ctx.constant([a.value as number], [], ctx.inputs[0].dtype));
  return ctx.node('Pad', inputs, { mode: { string: PAD_MODE[a.mode as string] } });
});

registerConverter('gather', (ctx, [x, index], a) =>
  ctx.node('GatherElements', [x, index], { axis: { int: a.axis as number } }),
);
registerConverter('indexSelect', (ctx, [x, index], a) =>
  ctx.node('Gather', [x, index], { axis: { int: a.axis as number } }),
);
