// Grad mode: whether ops that run now are recorded for backward. `noGrad` turns recording off for
// inference and optimizer updates; backward turns it on only when it builds a graph of its own
// (`createGraph`, for higher-order gradients).
import { ArgumentError } from '@softpool/tensor';

let enabled = true;

/** Whether the engine records ops now (the core asks through the recorder's `enabled`). */
export function isGradModeOn(): boolean {
  return enabled;
}

export function withGradMode<T>(on: boolean, fn: () => T): T {
  const previous = enabled;
  enabled = on;
  try {
    const result = fn();
    if (result instanceof Promise)
      throw new ArgumentError('noGrad/enableGrad: the function must be synchronous');
    return result;
  } finally {
    enabled = previous;
  }
}

/** Runs `fn` without recording gradients (inference, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Runs `fn` with gradient recording on, even inside `noGrad`. */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}
