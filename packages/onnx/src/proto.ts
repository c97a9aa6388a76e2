// The ONNX protobuf messages, from the schema python3-onnx ships (schema.gen.ts), encoded by
// protobufjs. Field names keep the schema's snake_case (`op_type`, `raw_data`).
import protobuf from 'protobufjs';
import { ONNX_PROTO } from './schema.gen.js';

const root = protobuf.parse(ONNX_PROTO, { keepCase: true }).root;
export const ModelProto = root.lookupType('onnx.ModelProto');

/** The IR version of the schema (ONNX 1.12: 8), written into every model. */
export const IR_VERSION = 8;

/** TensorProto.DataType codes of the dtypes softpool has, plus int64 for shapes and axes. */
export const DATA_TYPE = { float32: 1, int32: 6, int64: 7, bool: 9, float64: 11 } as const;
export type OnnxDType = keyof typeof DATA_TYPE;

/** AttributeProto.AttributeType codes. */
const ATTR = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

/** A node attribute, typed explicitly: ONNX tells ints from floats, JS numbers do not. */
export type AttrValue =
  | { int: number }
  | { float: number }
  | { ints: readonly number[] }
  | { floats: readonly number[] }
  | { string: string }
  | { tensor: TensorProto };

export interface TensorProto {
  name: string;
  dims: number[];
  data_type: number;
  raw_data: Uint8Array;
}

/** A TensorProto holding `values` little-endian in raw_data (how ONNX stores initializers). */
export function tensorProto(
  name: string,
  values: ArrayLike<number | boolean>,
  dims: readonly number[],
  dtype: OnnxDType,
): TensorProto {
  const n = values.length;
  let bytes: Uint8Array;
  if (dtype === 'float32') bytes = u8(Float32Array.from(values as ArrayLike<number>));
  else if (dtype === 'float64') bytes = u8(Float64Array.from(values as ArrayLike<number>));
  else if (dtype === 'int32') bytes = u8(Int32Array.from(values as ArrayLike<number>));
  else if (dtype === 'int64')
    bytes = u8(BigInt64Array.from(Array.from(values as ArrayLike<number>, (v) => BigInt(v))));
  else bytes = Uint8Array.from({ length: n }, (_, i) => (values[i] ? 1 : 0));
  return { name, dims: [...dims], data_type: DATA_TYPE[dtype], raw_data: bytes };
}

function u8(a: ArrayBufferView): Uint8Array {
  // Typed arrays are little-endian on every platform Node and browsers run on.
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export function attributeProto(name: string, v: AttrValue): Record<string, unknown> {
  if ('int' in v) return { name, type: ATTR.INT, i: v.int };
  if ('float' in v) return { name, type: ATTR.FLOAT, f: v.float };
  if ('ints' in v) return { name, type: ATTR.INTS, ints: [...v.ints] };
  if ('floats' in v) return { name, type: ATTR.FLOATS, floats: [...v.floats] };
  if ('string' in v) return { name, type: ATTR.STRING, s: new TextEncoder().encode(v.string) };
  return { name, type: ATTR.TENSOR, t: v.tensor };
}
