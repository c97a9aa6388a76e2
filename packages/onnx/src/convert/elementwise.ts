// Elementwise ops: ONNX's broadcasting is NumPy's, as ours. ONNX wants equal input dtypes where
// softpool promotes, so inputs are cast to the dtype the op computes in.
import { type DType, promoteTypes } from '@softpool/tensor';
import type { ConvertContext } from '../graph.js';
import { DATA_TYPE } from '../proto.js';
import { registerConverter } from '../registry.js';

/** `name` cast to `to` when `from` differs. */
export function castTo(ctx: ConvertContext, name: string, from: DType, to: DType): string {
  return from === to ? name : ctx.node('Cast', [name], { to: { int: DATA_TYPE[to] } })[0];
}

const UNARY: Record<string, string> = {
  neg: 'Neg',
  abs: 'Abs',
  sign: 'Sign',
  exp: 'Exp',
  log: 'Log',
  sqrt: 'Sqrt',
  sin: 'Sin',
  cos: 'Cos',
  tanh: 'Tanh',
  sigmoid: 'Sigmoid',
  relu: 'Relu',
  erf: 'Erf',
  reciprocal: 'Reciprocal',
  floor: 'Floor',
  ceil: 'Ceil',
  logicalNot: 'Not',
};
for (const [op, onnx] of Object.entries(UNARY)) registerConverter(op, (ctx, [x]) => ctx.node(onnx, [x]));

/** A scalar constant of the output's dtype. */
function scalar(ctx: ConvertContext, v: number): string {
  return ctx.constant([v], [], ctx.outputs[0].dtype);
}

registerConverter('rsqrt', (ctx, [x]) => ctx.node('Reciprocal', ctx.node('Sqrt', [x])));
registerConverter('square', (ctx, [x]) => ctx.node('Mul', [x, x]));
registerConverter('log1p', (ctx, [x]) => ctx.node('Log', ctx.node('Add', [x, scalar(ctx, 1)])));
registerConverter('expm1', (ctx, [x]) => ctx.node('Sub', [...ctx.node('Exp', [x]), scalar(ctx, 1)]));
registerConverter('leakyRelu', (ctx, [x], a) =>
  ctx.node('LeakyRelu', [x], { alpha: { float: a.negativeSlope as number } }),
);
registerConverter('gelu', (ctx, [x], a) => {
  const mul = (p: string, q: string) => ctx.node('Mul', [p, q])[0];
  const add1 = (p: string) => ctx.node('Add', [p, scalar(ctx, 1)])[0];
  // 0.5 x (1 + erf(x / sqrt 2)), or the tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
  const inner =
    a.approximate === 'tanh'
      ? ctx.node('Tanh', [
          mul(
            scalar(ctx, Math.sqrt(2 / Math.PI)),
            ctx.node('Add', [x, mul(scalar(ctx, 0.044715), mul(x, mul(x, x)))])[0],
          ),
        ])[0]
      : ctx.node('Erf', [mul(x, scalar(ctx, Math.SQRT1_2))])[0];
  return [mul(mul(x, scalar(ctx, 0.5)), add1(inner))];
});
registerConverter('clamp', (ctx, [x], a) => {
  let y = x;
  // The front-end turns missing bounds into infinities; they need no node.
  if (a.min !== -Infinity) y = ctx.node('Max', [y, scalar(ctx, a.min as number)])[0];
  if (a.max !== Infinity) y = ctx.node('Min', [y, scalar(ctx, a.max as number)])[0];
  return [y === x ? ctx.node('Identity', [x])[0] : y];
});
registerConverter('cast', (ctx, [x], a) => [castTo(ctx, x, ctx.inputs[0].dtype, a.dtype as DType)]);

const ARITHMETIC: Record<string, string> = {
  add: 'Add',
  sub: 'Sub',
  mul: 'Mul',
  div: 'Div',
  pow: 'Pow',
  maximum: 'Max',
  minimum: 'Min',
};
for (const [op, onnx] of Object.entries(ARITHMETIC)) {
  registerConverter(op, (ctx, names) => {
    const to = ctx.outputs[0].dtype;
    return ctx.node(
      onnx,
      names.map((n, i) => castTo(ctx, n, ctx.inputs[i].dtype, to)),
    );
  });
}

const COMPARISON: Record<string, string> = {
  eq: 'Equal',
  lt: 'Less',
  le: 'LessOrEqual',
  gt: 'Greater',
  ge: 'GreaterOrEqual',
  logicalAnd: 'And',
  logicalOr: 'Or',
};
for (const [op, onnx] of Object.entries({ ...COMPARISON, ne: 'Equal' })) {
  registerConverter(op, (ctx, names) => {
    const [a, b] = ctx.inputs;
    const to = onnx === 'And' || onnx === 'Or' ? 'bool' : promoteTypes(a.dtype, b.dtype);
    const out = ctx.node(
      onnx,
      names.map((n, i) => castTo(ctx, n, ctx.inputs[i].dtype, to)),
    );
    return op === 'ne' ? ctx.node('Not', out) : out;
  });
}

registerConverter('where', (ctx, [c, a, b]) => {
  const to = ctx.outputs[0].dtype;
  return ctx.node('Where', [
    c,
    castTo(ctx, a, ctx.inputs[1].dtype, to),
    castTo(ctx, b, ctx.inputs[2].dtype, to),
  ]);
});
