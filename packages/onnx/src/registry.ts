// Converters by softpool op name, the same names the dispatcher and autograd use. Ops that ONNX
// cannot express can be listed with the reason, so the error says why rather than just "missing".
import type { Converter } from './graph.js';

const converters = new Map<string, Converter>();
const refusals = new Map<string, string>();

export function registerConverter(op: string, convert: Converter): void {
  converters.set(op, convert);
}

/** Marks `op` as not exportable, with a reason the export error repeats. */
export function refuseOp(op: string, reason: string): void {
  refusals.set(op, reason);
}

export function getConverter(op: string): Converter | undefined {
  return converters.get(op);
}

export function refusalOf(op: string): string | undefined {
  return refusals.get(op);
}

/** The ops exportOnnx can convert. */
export function exportableOps(): string[] {
  return [...converters.keys()].sort();
}
