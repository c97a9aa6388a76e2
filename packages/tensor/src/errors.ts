// Error classes users can branch on (`err.code`) and read (`op: expected ..., got ...`).

/** Base class of every error softpool throws on purpose. `code` is stable; the message is for humans. */
export class SoftpoolError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Shapes that do not fit together (broadcasting, matmul inner dims, reshape sizes, ...). */
export class ShapeError extends SoftpoolError {
  constructor(message: string) {
    super('SHAPE', message);
  }
}

/** A dtype an op does not accept, or dtypes that do not mix. */
export class DTypeError extends SoftpoolError {
  constructor(message: string) {
    super('DTYPE', message);
  }
}

/** An argument out of its valid range (negative kernel size, axis out of range, bad option value). */
export class ArgumentError extends SoftpoolError {
  constructor(message: string) {
    super('ARGUMENT', message);
  }
}

/** A backend problem: op without a kernel on that backend, no adapter, mixed backends, device lost. */
export class BackendError extends SoftpoolError {
  constructor(message: string) {
    super('BACKEND', message);
  }
}

/** Use of a tensor after `dispose()`, or other misuse of the tensor lifecycle. */
export class StateError extends SoftpoolError {
  constructor(message: string) {
    super('STATE', message);
  }
}

/** Formats a shape the way messages print it: `[2,3]`. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
