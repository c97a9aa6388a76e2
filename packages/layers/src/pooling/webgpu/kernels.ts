// WGSL kernels of the window poolings, the same math as the CPU kernels in ../cpu (see there for
// the derivations): one thread per output for each forward, one per input for each backward
// (it gathers from the windows covering it: no atomics, no races). Where the windows tile the
// input (kernel = stride, no padding or dilation, nothing left over) each input lies in exactly
// one window, and the backward of max, average and SoftPool pooling runs one thread per window
// instead, writing its inputs: no search for covering windows, and fewer threads.
import { type Backend, registerKernel, type Tensor } from '@softpool/tensor';
import { geometryOf, type PoolGeometry, softPoolOutputs } from '../geometry.js';
import { cover, IN_POS, OUT_POS, poolParams, poolWgsl, shaderBackend, taps, withDense } from './program.js';

const NAN = 'bits_(0x7fc00000u)';
const NEG_INF = 'bits_(0xff800000u)';

/** Whether the windows tile the input: every input in exactly one window. */
function tiles(g: PoolGeometry, xShape: readonly number[]): boolean {
  return (
    !g.adaptive &&
    g.kernel.every(
      (k, d) => k === g.stride[d] && g.dilation[d] === 1 && g.padding[d] === 0 && xShape[2 + d] % k === 0,
    )
  );
}

/**
 * Runs a pooling program: forward over outputs, backward over inputs (an `in` output), or with
 * `perWindow` a backward over outputs that writes each window's inputs (tiling windows only).
 */
function runPool(
  op: string,
  backend: Backend,
  inputs: Tensor[],
  attrs: Record<string, unknown>,
  body: string,
  o: {
    xShape: number[];
    scalars?: number[];
    outputs: ('out' | 'in' | 'outInt')[];
    lib?: string;
    perWindow?: boolean;
  },
): Tensor[] {
  const gpu = shaderBackend(op, backend);
  const p = poolParams(op, o.xShape, geometryOf(attrs), o.scalars ?? []);
  const perInput = o.outputs[0] === 'in' && !o.perWindow;
  const dtype = inputs[0].dtype;
  return withDense(inputs, backend, (d) =>
    gpu.runProgram({
      code: `${poolWgsl(p.words)}${o.lib ?? ''}\nfn body(i: u32) {${perInput ? IN_POS : OUT_POS}\n${body}\n}`,
      inputs: d,
      outputs: o.outputs.map((k) => ({
        shape: k === 'in' ? o.xShape : p.outShape,
        dtype: k === 'outInt' ? 'int32' : dtype,
      })),
      params: p.words,
      threads: p.planes * (perInput ? p.inPlane : p.outPlane),
    }),
  );
}

/** A backward: over inputs (`gather`), or over windows (`tiled`) where the windows tile the input. */
function runBackward(
  op: string,
  backend: Backend,
  inputs: Tensor[],
  attrs: Record<string, unknown>,
  xShape: readonly number[],
  body: { gather: string; tiled: string },
  scalars?: number[],
): Tensor {
  const perWindow = tiles(geometryOf(attrs), xShape);
  return runPool(op, backend, inputs, attrs, perWindow ? body.tiled : body.gather, {
    xShape: [...xShape],
    scalars,
    outputs: ['in'],
    perWindow,
  })[0];
}

// ---- SoftPool ------------------------------------------------------------------------------

const SOFT_FORWARD = `
  let invT = scalar(0u);
  var m = ${NEG_INF};
  var top = ${NEG_INF};
  var nan = false;
  ${taps('let a = in0[ib + k]; let v = a * invT; top = max(top, a); if (v > m) { m = v; } else if (isnan_(v)) { nan = true; }')}
  if (nan || isinf_(m)) {
    out0[i] = select(select(${NEG_INF}, m, m > 0.0), ${NAN}, nan);
    out1[i] = select(m, ${NAN}, nan);
    out2[i] = 1.0;
    return;
  }
  var s = 0.0;
  var sw = 0.0;
  // y = top + sum e (a - top) / s: bounded terms, so windows near float32's limit do not overflow.
  ${taps('let v = in0[ib + k]; let e = exp(v * invT - m); if (e == 0.0) { continue; } s += e; sw += e * (v - top);')}
  out0[i] = top + sw / s;
  out1[i] = m;
  out2[i] = s;`;

const SOFT_BACKWARD = `
  let invT = scalar(0u);
  let exact = scalar(1u) != 0.0;
  let ai = in1[i];
  var acc = 0.0;
  ${cover(`let m = in3[o];
        if (isnan_(m)) { acc = ${NAN}; continue; }
        if (isinf_(m)) { continue; }
        let w = exp(ai * invT - m) / in4[o];
        if (w == 0.0) { continue; }
        acc += select(in0[o] * w, in0[o] * w * (1.0 + (ai - in2[o]) * invT), exact);`)}
  out0[i] = acc;`;

/** SOFT_BACKWARD for tiling windows: the window's one gradient, written to each of its inputs. */
const SOFT_BACKWARD_TILED = `
  let invT = scalar(0u);
  let exact = scalar(1u) != 0.0;
  let g = in0[i]; let y = in2[i]; let m = in3[i]; let s = in4[i];
  ${taps(`let ai = in1[ib + k];
        var d = 0.0;
        if (isnan_(m)) { d = ${NAN}; }
        else if (!isinf_(m)) {
          let w = exp(ai * invT - m) / s;
          if (w != 0.0) { d = 0.0 + select(g * w, g * w * (1.0 + (ai - y) * invT), exact); }
        }
        out0[ib + k] = d;`)}`;

registerKernel('softPool', 'webgpu', ([x], attrs, b) =>
  softPoolOutputs(
    runPool('softPool', b, [x], attrs, SOFT_FORWARD, {
      xShape: [...x.shape],
      scalars: [1 / (attrs.temperature as number)],
      outputs: ['out', 'out', 'out'],
    }),
    attrs,
  ),
);
registerKernel('softPoolBackward', 'webgpu', ([grad, x, y, m, s], attrs, b) =>
  runBackward(
    'softPoolBackward',
    b,
    [grad, x, y, m, s],
    attrs,
    x.shape,
    { gather: SOFT_BACKWARD, tiled: SOFT_BACKWARD_TILED },
    [1 / (attrs.temperature as number), attrs.gradient !== 'paper' ? 1 : 0],
  ),
);

// ---- max pooling (and the backward of stochastic pooling) -----------------------------------

const MAX_FORWARD = `
  var m = 0.0;
  var best = -1i;
  ${taps('let v = in0[ib + k]; if (best < 0i || (!isnan_(m) && (v > m || isnan_(v)))) { m = v; best = i32(k); }')}
  out0[i] = m;
  out1[i] = best;`;

/** Each input collects the gradients of the windows whose recorded winner it is. */
const MAX_BACKWARD = `
  var acc = 0.0;
  ${cover('if (in1[o] == i32(k)) { acc += in0[o]; }')}
  out0[i] = acc;`;

const MAX_BACKWARD_TILED = `
  let g = in0[i]; let best = in1[i];
  ${taps('out0[ib + k] = select(0.0, 0.0 + g, best == i32(k));')}`;

registerKernel('maxPool', 'webgpu', ([x], attrs, b) =>
  runPool('maxPool', b, [x], attrs, MAX_FORWARD, { xShape: [...x.shape], outputs: ['out', 'outInt'] }),
);
registerKernel('maxPoolBackward', 'webgpu', ([grad, x, indices], attrs, b) =>
  runBackward('maxPoolBackward', b, [grad, indices], attrs, x.shape, {
    gather: MAX_BACKWARD,
    tiled: MAX_BACKWARD_TILED,
  }),
);

// ---- average pooling -----------------------------------------------------------------------

const AVG_FORWARD = `
  var s = 0.0;
  ${taps('s += in0[ib + k];')}
  out0[i] = s / avgDivisor(oz, oy, ox);`;

const AVG_BACKWARD = `
  var acc = 0.0;
  ${cover('acc += in0[o] / avgDivisor(cz, cy, cx);')}
  out0[i] = acc;`;

const AVG_BACKWARD_TILED = `
  let d = 0.0 + in0[i] / avgDivisor(oz, oy, ox);
  ${taps('out0[ib + k] = d;')}`;

registerKernel(
  'avgPool',
  'webgpu',
  ([x], attrs, b) =>
    runPool('avgPool', b, [x], attrs, AVG_FORWARD, {
      xShape: [...x.shape],
      scalars: [attrs.countIncludePad ? 1 : 0],
      outputs: ['out'],
    })[0],
);
registerKernel('avgPoolBackward', 'webgpu', ([grad], attrs, b) =>
  runBackward(
    'avgPoolBackward',
    b,
    [grad],
    attrs,
    attrs.inputShape as number[],
    { gather: AVG_BACKWARD, tiled: AVG_BACKWARD_TILED },
    [attrs.countIncludePad ? 1 : 0],
  ),
);

// ---- LP pooling ----------------------------------------------------------------------------

/** a^b with JavaScript's rules for negative bases: integer exponents keep the sign, others NaN. */
const POW = `
fn pw(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  let p = pow(abs(a), b);
  if (b == floor(b)) { return select(p, -p, a < 0.0 && abs(b % 2.0) == 1.0); }
  return select(p, ${NAN}, a < 0.0);
}`;

const LP_FORWARD = `
  let p = scalar(0u);
  var s = 0.0;
  ${taps('s += pw(in0[ib + k], p);')}
  out0[i] = pw(s, 1.0 / p);`;

const LP_BACKWARD = `
  let p = scalar(0u);
  let ai = in1[i];
  var acc = 0.0;
  ${cover('let y = in2[o]; if (y != 0.0) { acc += in0[o] * pw(ai, p - 1.0) * pw(y, 1.0 - p); }')}
  out0[i] = acc;`;

registerKernel(
  'lpPool',
  'webgpu',
  ([x], attrs, b) =>
    runPool('lpPool', b, [x], attrs, LP_FORWARD, {
      xShape: [...x.shape],
      scalars: [attrs.normType as number],
      outputs: ['out'],
      lib: POW,
    })[0],
);
registerKernel(
  'lpPoolBackward',
  'webgpu',
  ([grad, x, y], attrs, b) =>
    runPool('lpPoolBackward', b, [grad, x, y], attrs, LP_BACKWARD, {
      xShape: [...x.shape],
      scalars: [attrs.normType as number],
      outputs: ['in'],
      lib: POW,
    })[0],
);

// ---- AdaPool's eDSCW -------------------------------------------------------------------------

const DSC = `
fn dsc(a: f32, b: f32) -> f32 {
  let den = a * a + b * b;
  return select(2.0 * abs(a * b) / den, 1.0, den == 0.0);
}
fn dscGrad(a: f32, b: f32) -> vec2<f32> {
  let den = a * a + b * b;
  if (den == 0.0) { return vec2<f32>(0.0, 0.0); }
  let sgn = sign(a * b);
  let den2 = den * den;
  return vec2<f32>(2.0 * sgn * b * (b * b - a * a) / den2, 2.0 * sgn * a * (a * a - b * b) / den2);
}`;

const EDSCW_FORWARD = `
  var sum = 0.0;
  ${taps('sum += in0[ib + k];')}
  let mu = sum / realTaps(oz, oy, ox);
  var s = 0.0;
  var sw = 0.0;
  ${taps('let v = in0[ib + k]; let e = exp(dsc(v, mu)); s += e; sw += e * v;')}
  let y = sw / s;
  let l = log(s);
  var q = 0.0;
  ${taps('let v = in0[ib + k]; q += exp(dsc(v, mu) - l) * (v - y) * dscGrad(v, mu).y;')}
  out0[i] = y;
  out1[i] = mu;
  out2[i] = l;
  out3[i] = q;`;

const EDSCW_BACKWARD = `
  let ai = in1[i];
  var acc = 0.0;
  ${cover(`let mu = in3[o];
        let w = exp(dsc(ai, mu) - in4[o]);
        acc += in0[o] * (w + w * (ai - in2[o]) * dscGrad(ai, mu).x + in5[o] / realTaps(cz, cy, cx));`)}
  out0[i] = acc;`;

registerKernel('edscwPool', 'webgpu', ([x], attrs, b) =>
  runPool('edscwPool', b, [x], attrs, EDSCW_FORWARD, {
    xShape: [...x.shape],
    outputs: ['out', 'out', 'out', 'out'],
    lib: DSC,
  }),
);
registerKernel(
  'edscwPoolBackward',
  'webgpu',
  ([grad, x, ...stats], attrs, b) =>
    runPool('edscwPoolBackward', b, [grad, x, ...stats], attrs, EDSCW_BACKWARD, {
      xShape: [...x.shape],
      outputs: ['in'],
      lib: DSC,
    })[0],
);

// ---- stochastic pooling (training pass) ------------------------------------------------------

/** Samples a tap with probability max(a, 0) / sum max(a, 0), from the window's uniform u. */
const STOCHASTIC_FORWARD = `
  var total = 0.0;
  ${taps('total += max(in0[ib + k], 0.0);')}
  var pick = -1i;
  if (total > 0.0) {
    let goal = in1[i] * total;
    var acc = 0.0;
    var done = false;
    ${taps('let v = max(in0[ib + k], 0.0); if (done || v == 0.0) { continue; } acc += v; pick = i32(k); if (acc > goal) { done = true; }')}
  }
  out0[i] = select(in0[ib + u32(max(pick, 0i))], 0.0, pick < 0i);
  out1[i] = pick;`;

registerKernel('stochasticPool', 'webgpu', ([x, u], attrs, b) =>
  runPool('stochasticPool', b, [x, u], attrs, STOCHASTIC_FORWARD, {
    xShape: [...x.shape],
    outputs: ['out', 'outInt'],
  }),
);
