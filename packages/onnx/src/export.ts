// exportOnnx: runs the model once on an example input while listening to the dispatcher (as
// torch.onnx's tracer does), then converts every op it saw, in order, with the converter
// registered under its name. Parameters and buffers become named initializers; tensors the forward
// pass made outside any op become constants. A second trace with one more example row tells which
// shapes follow the batch size, so the exported graph takes any batch.
import { noGrad } from '@softpool/autograd';
import type { Module } from '@softpool/layers';
import {
  ArgumentError,
  add,
  checkTensor,
  concat,
  mul,
  narrow,
  onDispatch,
  scope,
  type Tensor,
} from '@softpool/tensor';
import { OnnxExportError } from './errors.js';
import { type ConvertContext, GraphBuilder } from './graph.js';
import { DATA_TYPE, IR_VERSION, ModelProto } from './proto.js';
import { getConverter, refusalOf } from './registry.js';
import './convert/index.js';

export interface ExportOptions {
  /** ONNX opset, 13 to 18. Default 17 (the newest Debian's onnx checker knows). */
  opset?: number;
  /** Graph input and output names. Default 'input' and 'output'. */
  inputName?: string;
  outputName?: string;
  /** Let the batch size (dim 0) vary, named 'batch' in the graph. Default true. */
  dynamicBatch?: boolean;
  /** Key-value metadata stored in the model (metadata_props): normalisation, classes, ... */
  metadata?: Record<string, string>;
  /** Name of the graph. Default: the model's class name. */
  name?: string;
}

interface TracedOp {
  op: string;
  inputs: Tensor[];
  outputs: Tensor[];
  attrs: Record<string, unknown>;
}

interface Trace {
  ops: TracedOp[];
  output: Tensor;
  /** Values of tensors the forward pass used without an op making them (constants), in order. */
  constants: Map<Tensor, ArrayLike<number>>;
  /** Tensors made without an op that view a traced one whole (`detach()`): the same value. */
  aliases: Map<Tensor, Tensor>;
}

/** Same storage, shape, strides and offset: one value under two handles. */
function sameView(a: Tensor, b: Tensor): boolean {
  return (
    a.storage === b.storage &&
    a.offset === b.offset &&
    a.shape.join() === b.shape.join() &&
    a.strides.join() === b.strides.join()
  );
}

/** Ops that make a tensor from nothing but their attributes: their outputs are constants. */
const CREATION = new Set(['full', 'arange', 'linspace', 'eye']);
const RANDOM = new Set(['rand', 'randn', 'randint', 'bernoulli']);

function trace(model: Module, input: Tensor, known: ReadonlySet<Tensor>): Trace {
  const ops: TracedOp[] = [];
  const seen = new Set<Tensor>(known);
  const constants = new Map<Tensor, ArrayLike<number>>();
  const aliases = new Map<Tensor, Tensor>();
  let reading = false;
  // Values are read while the listener runs: the forward pass may free them right after.
  const read = (t: Tensor) => {
    reading = true;
    try {
      constants.set(t, t.dataSync());
    } finally {
      reading = false;
    }
  };
  const off = onDispatch((op, _backend, inputs, _ms, attrs, outputs) => {
    if (reading) return;
    if (RANDOM.has(op))
      throw new OnnxExportError(
        `exportOnnx: the forward pass draws random numbers ('${op}'); export in eval mode`,
      );
    for (const t of inputs) {
      if (seen.has(t)) continue;
      const original = [...seen].find((u) => !u.isDisposed && sameView(u, t));
      if (original) aliases.set(t, original);
      else read(t);
      seen.add(t);
    }
    ops.push({ op, inputs: [...inputs], outputs: [...outputs], attrs: { ...attrs } });
    for (const t of outputs) {
      seen.add(t);
      if (CREATION.has(op)) read(t);
    }
  });
  try {
    const output = noGrad(() => model.forward(input));
    return { ops, output, constants, aliases };
  } finally {
    off();
  }
}

/** Module states to restore after the export ran the model in eval mode. */
function evalMode(model: Module): () => void {
  const modes = [...model.modules()].map((m) => [m, m.training] as const);
  model.eval();
  return () => {
    for (const [m, mode] of modes) m.training = mode;
  };
}

/**
 * A graph is only right for other inputs if the second trace (another input) ran the same ops on
 * the same constants. A constant that changed was computed from the input outside any op (in JS,
 * or through a view the trace cannot follow): ONNX would freeze the example's values.
 */
function checkSameGraph(a: Trace, b: Trace): void {
  if (a.ops.length !== b.ops.length || a.ops.some((o, i) => o.op !== b.ops[i].op)) {
    throw new OnnxExportError(
      'exportOnnx: the forward pass runs different ops for another input (control flow on values or on the batch size); ' +
        'ONNX export needs one graph for every input',
    );
  }
  const ca = [...a.constants.values()];
  const cb = [...b.constants.values()];
  const differs = (x: ArrayLike<number>, y: ArrayLike<number>) =>
    x.length !== y.length || Array.prototype.some.call(x, (v: number, i: number) => !Object.is(v, y[i]));
  if (ca.length !== cb.length || ca.some((v, i) => differs(v, cb[i]))) {
    throw new OnnxExportError(
      'exportOnnx: the forward pass computes a tensor from the input outside any op (e.g. in JS from data()); ' +
        "ONNX would freeze the example input's values. Compute it with tensor ops",
    );
  }
}

/** Reshape/expand shapes that follow the batch size, by the dims that changed with it. */
function batchDependentShapes(a: Trace, b: Trace): Map<TracedOp, number[]> {
  const varying = new Map<TracedOp, number[]>();
  a.ops.forEach((o, i) => {
    const other = b.ops[i];
    if (JSON.stringify(o.attrs) === JSON.stringify(other.attrs)) return;
    const shape = o.attrs.shape as number[] | undefined;
    const otherShape = other.attrs.shape as number[] | undefined;
    const rest = { ...o.attrs, shape: undefined };
    const sameRest = JSON.stringify(rest) === JSON.stringify({ ...other.attrs, shape: undefined });
    if (
      (o.op === 'reshape' || o.op === 'expand') &&
      sameRest &&
      shape &&
      otherShape?.length === shape.length
    ) {
      varying.set(
        o,
        shape.flatMap((d, j) => (d === otherShape[j] ? [] : [j])),
      );
      return;
    }
    throw new OnnxExportError(
      `exportOnnx: op '${o.op}' has attributes that depend on the batch size (${JSON.stringify(o.attrs)}); ` +
        'export with { dynamicBatch: false }',
    );
  });
  return varying;
}

/**
 * The model as an ONNX file (bytes), traced on `exampleInput` in eval mode on the CPU.
 * @example const bytes = exportOnnx(new LeNet5({ pool: 'soft' }), randn([1, 1, 28, 28]));
 */
export function exportOnnx(model: Module, exampleInput: Tensor, options: ExportOptions = {}): Uint8Array {
  const {
    opset = 17,
    inputName = 'input',
    outputName = 'output',
    dynamicBatch = true,
    metadata = {},
  } = options;
  checkTensor('exportOnnx', exampleInput, 'exampleInput');
  if (!Number.isInteger(opset) || opset < 13 || opset > 18)
    throw new ArgumentError(`exportOnnx: opset must be an integer from 13 to 18, got ${opset}`);
  if (exampleInput.rank === 0)
    throw new ArgumentError('exportOnnx: exampleInput needs a batch dim, got a 0-d tensor');
  const params = new Map<Tensor, string>();
  for (const [name, p] of model.namedParameters()) params.set(p, name);
  for (const [name, b] of model.namedBuffers()) params.set(b, name);
  for (const t of [exampleInput, ...params.keys()]) {
    if (t.device !== 'cpu')
      throw new ArgumentError(
        `exportOnnx: the model and exampleInput must be on the CPU, found a tensor on '${t.device}'`,
      );
  }
  const restore = evalMode(model);
  return scope(() => {
    try {
      const known = new Set<Tensor>([exampleInput, ...params.keys()]);
      const first = trace(model, exampleInput, known);
      // Another input (other values; one more row for a dynamic batch) must give the same graph.
      const rows = dynamicBatch ? concat([exampleInput, narrow(exampleInput, 0, 0, 1)], 0) : exampleInput;
      const probe = add(mul(rows, 0.75), 0.5);
      const second = trace(model, probe, new Set([probe, ...params.keys()]));
      checkSameGraph(first, second);
      const varying = dynamicBatch ? batchDependentShapes(first, second) : new Map<TracedOp, number[]>();
      return build(
        first,
        exampleInput,
        params,
        varying,
        { ...options, opset, inputName, outputName, dynamicBatch, metadata },
        model,
      );
    } finally {
      restore();
    }
  });
}

function build(
  t: Trace,
  input: Tensor,
  params: Map<Tensor, string>,
  varying: Map<TracedOp, number[]>,
  options: Required<Omit<ExportOptions, 'name'>> & { name?: string },
  model: Module,
): Uint8Array {
  const g = new GraphBuilder(options.opset);
  const names = new Map<Tensor, string>([[input, options.inputName]]);
  g.fresh(options.inputName);
  g.fresh(options.outputName);
  const unexported = new Set<Tensor>();
  const nameOf = (x: Tensor, op: string): string => {
    const alias = t.aliases.get(x);
    if (alias) return nameOf(alias, op);
    const known = names.get(x);
    if (known) return known;
    if (unexported.has(x))
      throw new OnnxExportError(
        `exportOnnx: '${op}' uses an output that ONNX export does not produce (e.g. max pooling indices)`,
      );
    const param = params.get(x);
    const values = param === undefined ? t.constants.get(x) : x.dataSync();
    if (!values) throw new OnnxExportError(`exportOnnx: '${op}' uses a tensor the trace cannot account for`);
    const name = g.initializer(param ?? 'const', values, x.shape, x.dtype);
    names.set(x, name);
    return name;
  };
  for (const o of t.ops) {
    if (CREATION.has(o.op)) continue; // its output is read as a constant where used
    const convert = getConverter(o.op);
    if (!convert) {
      const why = refusalOf(o.op);
      throw new OnnxExportError(
        `exportOnnx: op '${o.op}' cannot be exported to ONNX${why ? `: ${why}` : ' (no converter; see exportableOps())'}`,
      );
    }
    const ins = o.inputs.map((x) => nameOf(x, o.op));
    const ctx: ConvertContext = g.context(o.inputs, o.outputs);
    const dims = varying.get(o);
    const attrs = dims ? batchFree(o, dims) : o.attrs;
    const outs = convert(ctx, ins, attrs);
    o.outputs.forEach((x, i) => {
      if (i < outs.length) names.set(x, outs[i]);
      else unexported.add(x);
    });
  }
  // A final Identity gives the output its name whatever op made it (or if it is the input).
  g.nodes.push({
    name: g.fresh('output_identity'),
    op_type: 'Identity',
    input: [nameOf(t.output, 'the model output')],
    output: [options.outputName],
    attribute: [],
  });
  const batch = options.dynamicBatch;
  const valueInfo = (name: string, x: Tensor) => ({
    name,
    type: {
      tensor_type: {
        elem_type: DATA_TYPE[x.dtype],
        shape: { dim: x.shape.map((d, i) => (i === 0 && batch ? { dim_param: 'batch' } : { dim_value: d })) },
      },
    },
  });
  const message = ModelProto.fromObject({
    ir_version: IR_VERSION,
    opset_import: [{ domain: '', version: options.opset }],
    producer_name: 'softpool',
    graph: {
      name: options.name ?? model.constructor.name,
      node: g.nodes,
      initializer: g.initializers,
      input: [valueInfo(options.inputName, input)],
      output: [valueInfo(options.outputName, t.output)],
    },
    metadata_props: Object.entries(options.metadata).map(([key, value]) => ({ key, value })),
  });
  return ModelProto.encode(message).finish();
}

/** A reshape/expand whose shape follows the batch: -1 (reshape) or 1 (expand) where it varies. */
function batchFree(o: TracedOp, dims: number[]): Record<string, unknown> {
  const shape = [...(o.attrs.shape as number[])];
  const refuse = () =>
    new OnnxExportError(
      `exportOnnx: ${o.op} to [${shape}] follows the batch size in a way ONNX cannot express here; export with { dynamicBatch: false }`,
    );
  if (o.op === 'reshape') {
    if (dims.length !== 1) throw refuse();
    shape[dims[0]] = -1;
    return { ...o.attrs, shape };
  }
  // Expand keeps an input dim where the target says 1: right when the input already has the batch there.
  const input = o.inputs[0].shape;
  for (const d of dims) {
    const i = d - (shape.length - input.length);
    if (i < 0 || input[i] !== shape[d]) throw refuse();
    shape[d] = 1;
  }
  return { ...o.attrs, shape };
}

/** The key-value metadata (metadata_props) of an ONNX file, e.g. what `pnpm train --export-onnx` wrote. */
export function onnxMetadata(bytes: Uint8Array): Record<string, string> {
  let model: { metadata_props?: { key: string; value: string }[] };
  try {
    model = ModelProto.toObject(ModelProto.decode(bytes)) as typeof model;
  } catch (e) {
    throw new OnnxExportError(`onnxMetadata: not an ONNX model (${(e as Error).message})`);
  }
  return Object.fromEntries((model.metadata_props ?? []).map(({ key, value }) => [key, value]));
}
