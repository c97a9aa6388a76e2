// The graph an export builds: nodes in execution order, initializers (weights and constants) and
// fresh value names. Converters (convert/*.ts) see it through ConvertContext.
import type { DType, Tensor } from '@softpool/tensor';
import { type AttrValue, attributeProto, type OnnxDType, type TensorProto, tensorProto } from './proto.js';

/** What a converter is given: the traced op's tensors (for shapes and dtypes) and the graph to add to. */
export interface ConvertContext {
  readonly opset: number;
  /** The traced op's inputs and outputs: read their shapes and dtypes, never their values. */
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  /** Adds a node; returns the names of its `outputs` outputs. */
  node(
    opType: string,
    inputs: readonly string[],
    attrs?: Record<string, AttrValue>,
    outputs?: number,
  ): string[];
  /** An int64 constant (shapes, axes, pads). */
  int64(values: readonly number[], dims?: readonly number[]): string;
  /** A constant of the given dtype. */
  constant(values: ArrayLike<number | boolean>, dims: readonly number[], dtype: OnnxDType): string;
}

/** Converts one softpool op: ONNX value names of its inputs in, names of its outputs out. */
export type Converter = (
  ctx: ConvertContext,
  inputs: readonly string[],
  attrs: Record<string, unknown>,
) => string[];

export class GraphBuilder {
  readonly nodes: Record<string, unknown>[] = [];
  readonly initializers: TensorProto[] = [];
  readonly #used = new Set<string>();
  readonly #counts = new Map<string, number>();

  constructor(readonly opset: number) {}

  /** A value name not used before, from `hint` (`conv1.weight`, `Conv_3`). */
  fresh(hint: string): string {
    let name = hint;
    while (this.#used.has(name)) {
      const n = (this.#counts.get(hint) ?? 0) + 1;
      this.#counts.set(hint, n);
      name = `${hint}_${n}`;
    }
    this.#used.add(name);
    return name;
  }

  node(
    opType: string,
    inputs: readonly string[],
    attrs: Record<string, AttrValue> = {},
    outputs = 1,
  ): string[] {
    const name = this.fresh(opType);
    const outs = Array.from({ length: outputs }, (_, i) =>
      outputs === 1 ? `${name}_out` : `${name}_out${i}`,
    );
    for (const o of outs) this.#used.add(o);
    const attribute = Object.entries(attrs).map(([k, v]) => attributeProto(k, v));
    this.nodes.push({ name, op_type: opType, input: [...inputs], output: outs, attribute });
    return outs;
  }

  initializer(
    hint: string,
    values: ArrayLike<number | boolean>,
    dims: readonly number[],
    dtype: OnnxDType,
  ): string {
    const name = this.fresh(hint);
    this.initializers.push(tensorProto(name, values, dims, dtype));
    return name;
  }

  /** The context one converter call sees. */
  context(inputs: readonly Tensor[], outputs: readonly Tensor[]): ConvertContext {
    return {
      opset: this.opset,
      inputs,
      outputs,
      node: (op, ins, attrs, n) => this.node(op, ins, attrs, n),
      int64: (values, dims = [values.length]) => this.initializer('const', values, dims, 'int64'),
      constant: (values, dims, dtype) => this.initializer('const', values, dims, dtype),
    };
  }
}

/** The ONNX dtype of a softpool dtype (they share names). */
export function onnxDType(dtype: DType): OnnxDType {
  return dtype;
}
