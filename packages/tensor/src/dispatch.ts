// The one dispatch point: every op call picks its backend kernel here, and autograd records here.
import { type Backend, defaultBackend } from './backend.js';
import { debugEnabled, debugLog } from './debug.js';
import { BackendError, fmtShape } from './errors.js';
import { type Attrs, getKernel } from './kernels.js';
import type { Tensor } from './tensor.js';

/**
 * How autograd hooks into the core without the core importing it: after each kernel runs, the
 * recorder sees the op, its inputs, attributes and outputs, and may attach a gradient node.
 */
export interface GradRecorder {
  /** False inside `noGrad`. */
  readonly enabled: boolean;
  record(op: string, inputs: readonly Tensor[], attrs: Attrs, outputs: readonly Tensor[]): void;
  /** Runs backward from `t` (what `t.backward()` calls). */
  backward(t: Tensor, gradient: Tensor | undefined, options: BackwardOptions): void;
  /** Marks a non-leaf tensor so backward fills its `.grad` (what `t.retainGrad()` calls). */
  retainGrad(t: Tensor): void;
}

/** Options of `t.backward()`. */
export interface BackwardOptions {
  /** Keep saved tensors so backward can run through the graph again. Default false. */
  retainGraph?: boolean;
  /** Record the backward pass itself, so gradients can be differentiated again. Default false. */
  createGraph?: boolean;
}

/** The installed recorder, or a clear error when autograd is not loaded (for `backward`). */
export function gradRecorder(op: string): GradRecorder {
  if (!recorder) {
    throw new BackendError(
      `${op}: @softpool/autograd is not loaded; add \`import '@softpool/autograd'\` to record gradients`,
    );
  }
  return recorder;
}

let recorder: GradRecorder | undefined;

/** Installs the gradient recorder (@softpool/autograd does this on import). */
export function setGradRecorder(r: GradRecorder | undefined): void {
  recorder = r;
}

/** True when autograd is loaded and recording (not inside `noGrad`). */
export function isGradRecording(): boolean {
  return recorder?.enabled ?? false;
}

/** Listener for profiling: called after each op with its wall time in milliseconds. */
/**
 * Told of every dispatched op after its kernel ran: timing (bench, cost), logs, and tracing
 * (the ONNX exporter rebuilds a graph from `inputs`, `attrs` and `outputs`).
 */
export type DispatchListener = (
  op: string,
  backend: string,
  inputs: readonly Tensor[],
  ms: number,
  attrs: Attrs,
  outputs: readonly Tensor[],
) => void;
const listeners = new Set<DispatchListener>();

/** Adds a dispatch listener; returns a function that removes it. */
export function onDispatch(listener: DispatchListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function pickBackend(op: string, inputs: readonly Tensor[], backend: Backend | undefined): Backend {
  if (inputs.length === 0) return backend ?? defaultBackend();
  const first = inputs[0].backend;
  for (const t of inputs) {
    if (t.backend !== first) {
      throw new BackendError(
        `${op}: inputs are on different backends (${inputs.map((x) => x.device).join(', ')}); ` +
          `move them to one with .to('${first.name}')`,
      );
    }
  }
  return first;
}

/**
 * Runs `op` on the backend of its inputs (or `backend`, or the default one for ops without tensor
 * inputs) and lets autograd record it. Front-end functions validate before calling this.
 */
export function dispatch(
  op: string,
  inputs: readonly Tensor[],
  attrs: Attrs = {},
  backend?: Backend,
): Tensor[] {
  for (let i = 0; i < inputs.length; i++) inputs[i].assertAlive(op);
  const b = pickBackend(op, inputs, backend);
  const kernel = getKernel(op, b.name);
  const timed = listeners.size > 0 || debugEnabled('dispatch');
  const t0 = timed ? performance.now() : 0;
  const result = kernel(inputs as Tensor[], attrs, b);
  const outputs = Array.isArray(result) ? result : [result];
  if (timed) {
    const ms = performance.now() - t0;
    for (const l of listeners) l(op, b.name, inputs, ms, attrs, outputs);
    if (debugEnabled('dispatch')) {
      const ins = inputs.map((t) => `${fmtShape(t.shape)}:${t.dtype}`).join(' ');
      const outs = outputs.map((t) => fmtShape(t.shape)).join(' ');
      debugLog('dispatch', `${op}@${b.name} ${ins} -> ${outs} ${ms.toFixed(3)}ms`);
    }
  }
  if (recorder?.enabled) {
    for (let i = 0; i < inputs.length; i++) {
      if (inputs[i].requiresGrad) {
        recorder.record(op, inputs, attrs, outputs);
        break;
      }
    }
  }
  return outputs;
}

/** `dispatch` for ops with exactly one output. */
export function run(op: string, inputs: readonly Tensor[], attrs: Attrs = {}, backend?: Backend): Tensor {
  return dispatch(op, inputs, attrs, backend)[0];
}
