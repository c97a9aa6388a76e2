// Convolution and matrix products.
import { registerConverter } from '../registry.js';

registerConverter('conv', (ctx, names, a) => {
  const pads = [...(a.padBefore as number[]), ...(a.padAfter as number[])];
  return ctx.node('Conv', names, {
    kernel_shape: { ints: ctx.inputs[1].shape.slice(2) },
    strides: { ints: a.stride as number[] },
    pads: { ints: pads },
    dilations: { ints: a.dilation as number[] },
    group: { int: a.groups as number },
  });
});
registerConverter('matmul', (ctx, names) => ctx.node('MatMul', names));
