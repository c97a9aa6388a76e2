// Finite-difference gradient checks (float64, central differences), for tests and for users
// checking their own ops. The analytic side uses the engine; the numeric side only the forward.
import {
  ArgumentError,
  cast,
  copy_,
  DTypeError,
  detach,
  mul,
  randn,
  SoftpoolError,
  scope,
  sum,
  type Tensor,
  tensor,
} from '@softpool/tensor';
import { gradients } from './functional.js';
import { enableGrad, noGrad } from './grad-mode.js';

/** A gradient check that failed (analytic and numeric gradients disagree). */
export class GradcheckError extends SoftpoolError {
  constructor(message: string) {
    super('GRADCHECK', message);
  }
}

export interface GradcheckOptions {
  /** Finite-difference step. Default 1e-6. */
  eps?: number;
  /** Absolute and relative tolerance: |analytic - numeric| <= atol + rtol * |numeric|. */
  atol?: number;
  rtol?: number;
  /** Random projections instead of full Jacobians; automatic above 4096 Jacobian entries. */
  fast?: boolean;
  /** Throw on failure (default) or just return false. */
  raise?: boolean;
}

/** The outcome, with the worst entry when it failed. */
export interface GradcheckResult {
  ok: boolean;
  maxError: number;
  message: string;
}

type Fn = (...inputs: Tensor[]) => Tensor | Tensor[];

function asList(t: Tensor | Tensor[]): Tensor[] {
  return Array.isArray(t) ? t : [t];
}

/** The function's outputs flattened into one float64 array (graphs it builds are dropped). */
function evaluate(fn: Fn, inputs: Tensor[]): Float64Array {
  return scope(() => {
    const outs = asList(fn(...inputs));
    const parts = outs.map((o) => Float64Array.from(o.dataSync()));
    // Outputs may outlive scopes (gradients() results, as gradgradcheck's function returns): release them.
    for (const o of outs) o.dispose();
    const flat = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
    let k = 0;
    for (const p of parts) {
      flat.set(p, k);
      k += p.length;
    }
    return flat;
  });
}

/** Perturbs element `j` of `x` by `delta` in place (x is the check's own copy). */
function nudge(x: Tensor, j: number, delta: number): void {
  const data = x.dataSync();
  data[j] += delta;
  noGrad(() => copy_(x, tensor(data, { shape: x.shape, dtype: 'float64' })));
}

/**
 * Compares the engine's gradients of `fn` at `inputs` with central finite differences, for every
 * input that requires grad. Inputs must be float64. Throws with the worst entry on mismatch.
 * @example gradcheck((x) => sum(tanh(x)), [randn([3], { dtype: 'float64' }).requiresGrad_()]);
 */
export function gradcheck(fn: Fn, inputs: Tensor[], options: GradcheckOptions = {}): GradcheckResult {
  // Every temporary (perturbed copies, random directions) is released, even inside a caller's scope.
  return scope(() => check(fn, inputs, options));
}

function check(fn: Fn, inputs: Tensor[], options: GradcheckOptions): GradcheckResult {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-3, raise = true } = options;
  for (const [i, x] of inputs.entries()) {
    if (x.dtype !== 'float64')
      throw new DTypeError(`gradcheck: input ${i} must be float64 for finite differences, got ${x.dtype}`);
  }
  const wrt = inputs.map((x, i) => (x.requiresGrad ? i : -1)).filter((i) => i >= 0);
  if (wrt.length === 0) throw new ArgumentError('gradcheck: no input requires grad');
  // Private copies: perturbing them never touches the caller's tensors.
  const xs = inputs.map((x) => {
    const c = noGrad(() => detach(x).clone());
    if (x.requiresGrad) c.requiresGrad_();
    return c;
  });
  const outs = asList(noGrad(() => fn(...xs)));
  const outSizes = outs.map((o) => o.size);
  const outShapes = outs.map((o) => [...o.shape]);
  outs.forEach((o) => {
    o.dispose();
  });
  const nOut = outSizes.reduce((a, b) => a + b, 0);
  const nIn = wrt.reduce((n, i) => n + xs[i].size, 0);
  const fast = options.fast ?? nOut * nIn > 4096;
  let worst = { err: 0, msg: '' };
  const compare = (analytic: number, numeric: number, where: string): void => {
    const err = Math.abs(analytic - numeric);
    const bad = !(err <= atol + rtol * Math.abs(numeric));
    if (bad && (worst.msg === '' || err > worst.err))
      worst = { err, msg: `${where}: analytic ${analytic}, numeric ${numeric}` };
    if (!bad && worst.msg === '') worst.err = Math.max(worst.err, err);
  };

  /** Analytic v^T J for one cotangent v (flat over all outputs), per checked input. */
  const vjpRows = (v: Float64Array): Float64Array[] =>
    scope(() => {
      const ys = asList(fn(...xs));
      let k = 0;
      const cots = ys.map((_, o) => {
        const c = tensor(v.subarray(k, k + outSizes[o]), { shape: outShapes[o], dtype: 'float64' });
        k += outSizes[o];
        return c;
      });
      // A scalar function of all outputs whose gradient is v^T J.
      const total = ys.map((y, o) => sum(mul(cast(y, 'float64'), cots[o]))).reduce((a, b) => a.add(b));
      for (const y of ys) y.dispose(); // the graph of `total` keeps what backward needs
      // gradients() hands its results to the caller (they outlive scopes): release them here.
      return gradients(
        total,
        wrt.map((i) => xs[i]),
      ).map((g) => {
        const row = Float64Array.from(g.dataSync());
        g.dispose();
        return row;
      });
    });

  if (!fast) {
    // Full Jacobians: one backward per output element, two forwards per input element.
    const analytic: Float64Array[][] = [];
    for (let r = 0; r < nOut; r++) {
      const v = new Float64Array(nOut);
      v[r] = 1;
      analytic.push(vjpRows(v));
    }
    wrt.forEach((i, w) => {
      for (let j = 0; j < xs[i].size; j++) {
        nudge(xs[i], j, eps);
        const plus = evaluate(fn, xs);
        nudge(xs[i], j, -2 * eps);
        const minus = evaluate(fn, xs);
        nudge(xs[i], j, eps);
        for (let r = 0; r < nOut; r++) {
          compare(
            analytic[r][w][j],
            (plus[r] - minus[r]) / (2 * eps),
            `input ${i} element ${j}, output element ${r}`,
          );
        }
      }
    });
  } else {
    // Random projections: compare v^T J u computed both ways, for a few (u, v) pairs.
    for (let trial = 0; trial < 4; trial++) {
      const v = Float64Array.from(noGrad(() => randn([nOut], { dtype: 'float64' })).dataSync());
      const rows = vjpRows(v);
      for (const [w, i] of wrt.entries()) {
        const u = Float64Array.from(noGrad(() => randn([xs[i].size], { dtype: 'float64' })).dataSync());
        const base = Float64Array.from(xs[i].dataSync());
        const shift = (s: number) =>
          noGrad(() =>
            copy_(
              xs[i],
              tensor(
                base.map((b, k) => b + s * u[k]),
                { shape: xs[i].shape, dtype: 'float64' },
              ),
            ),
          );
        shift(eps);
        const plus = evaluate(fn, xs);
        shift(-eps);
        const minus = evaluate(fn, xs);
        shift(0);
        let numeric = 0;
        for (let r = 0; r < nOut; r++) numeric += (v[r] * (plus[r] - minus[r])) / (2 * eps);
        const analytic = rows[w].reduce((s, g, k) => s + g * u[k], 0);
        compare(analytic, numeric, `input ${i}, random projection ${trial}`);
      }
    }
  }
  xs.forEach((x) => {
    x.dispose();
  });
  const ok = worst.msg === '';
  const message = ok
    ? `gradcheck passed (max error ${worst.err.toExponential(2)})`
    : `gradcheck failed at ${worst.msg}`;
  if (!ok && raise) throw new GradcheckError(message);
  return { ok, maxError: worst.err, message };
}

/**
 * Checks second derivatives: the gradient of `fn` (built with createGraph) is itself checked
 * with `gradcheck`, against random cotangents.
 */
export function gradgradcheck(fn: Fn, inputs: Tensor[], options: GradcheckOptions = {}): GradcheckResult {
  const wrt = inputs.map((x, i) => (x.requiresGrad ? i : -1)).filter((i) => i >= 0);
  const outs = asList(noGrad(() => fn(...inputs)));
  const cotangents = outs.map((o) => noGrad(() => randn([...o.shape], { dtype: 'float64' })));
  outs.forEach((o) => {
    o.dispose();
  });
  // g(x, v) = v^T J(x): differentiable in x (second derivatives) and in v.
  const firstOrder = (...args: Tensor[]): Tensor[] =>
    enableGrad(() => {
      const xs = args.slice(0, inputs.length);
      const vs = args.slice(inputs.length);
      const ys = asList(fn(...xs));
      const total = ys.map((y, o) => sum(mul(y, vs[o]))).reduce((a, b) => a.add(b));
      return gradients(
        total,
        wrt.map((i) => xs[i]),
        undefined,
        { createGraph: true },
      );
    });
  const vs = cotangents.map((c) => c.requiresGrad_());
  try {
    return gradcheck(firstOrder, [...inputs, ...vs], options);
  } finally {
    vs.forEach((v) => {
      v.dispose();
    });
  }
}
