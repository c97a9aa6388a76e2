// Deterministic release: scopes dispose every tensor created inside them except what they return.
import { ArgumentError } from './errors.js';

/** What scopes hold: tensors, typed by what scopes need of them, so this file imports no tensor. */
interface Scoped {
  dispose(): void;
}

const stack: Set<Scoped>[] = [];

/** Called by the Tensor constructor: the innermost scope, if any, adopts the new tensor. */
export function trackInScope(t: Scoped): void {
  if (stack.length > 0) stack[stack.length - 1].add(t);
}

/**
 * Keeps a tensor alive past the scopes it was created in (for state that lives across steps:
 * parameters, gradients, optimizer moments). It still has to be disposed eventually.
 */
export function keep<T extends Scoped>(t: T): T {
  for (const s of stack) s.delete(t);
  return t;
}

/** Removes a tensor from the scopes after dispose (internal). */
export function forgetInScope(t: Scoped): void {
  for (let i = stack.length - 1; i >= 0; i--) if (stack[i].delete(t)) return;
}

function collect(value: unknown, into: Set<Scoped>, isTensor: (x: unknown) => x is Scoped, depth = 0): void {
  if (isTensor(value)) into.add(value);
  else if (depth < 4 && Array.isArray(value)) for (const v of value) collect(v, into, isTensor, depth + 1);
  else if (
    depth < 4 &&
    value !== null &&
    typeof value === 'object' &&
    Object.getPrototypeOf(value) === Object.prototype
  )
    for (const v of Object.values(value)) collect(v, into, isTensor, depth + 1);
}

let tensorCheck: (x: unknown) => x is Scoped = (_x): _x is Scoped => false;
/** Installed by tensor.ts to avoid an import cycle. */
export function setTensorCheck(check: (x: unknown) => x is Scoped): void {
  tensorCheck = check;
}

/**
 * Runs `fn` and disposes every tensor created during it, except the tensors it returns (directly,
 * in arrays or in plain objects) and those passed to `keep`. Returned tensors move to the
 * enclosing scope. Synchronous by design: work after an `await` would leave the scope.
 * @example
 * const y = scope(() => relu(matmul(x, w)).sum()); // the product and relu are released
 */
export function scope<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new ArgumentError(`scope: expected a function, got ${typeof fn}`);
  // Refused before it runs: an abandoned async body would go on using tensors the scope disposed.
  if (fn.constructor?.name === 'AsyncFunction')
    throw new ArgumentError(
      'scope: the function is async; scopes are synchronous: call scope() inside the async code, around each synchronous step',
    );
  const own = new Set<Scoped>();
  stack.push(own);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    stack.pop();
    for (const t of own) t.dispose();
    throw e;
  }
  stack.pop();
  if (result instanceof Promise) {
    for (const t of own) t.dispose();
    throw new ArgumentError(
      'scope: the function returned a Promise; scopes are synchronous, use them inside async code instead',
    );
  }
  const survivors = new Set<Scoped>();
  collect(result, survivors, tensorCheck);
  for (const t of own) {
    if (survivors.has(t)) trackInScope(t);
    else t.dispose();
  }
  return result;
}
