// CPU random kernels: element i is a pure function of (key, counter + i), as on every backend.

import { registerKernel } from '../kernels.js';
import type { RandomAttrs } from '../ops/random.js';
import { normalFromWords, threefry2x32, uniform24, uniform53 } from '../random.js';
import type { Tensor } from '../tensor.js';
import { broadcastOperand, buf, empty } from './backend.js';
import { mapStrided } from './codegen.js';

/** Fills `out` with f(word0, word1) of consecutive counters. */
function fill(attrs: RandomAttrs, f: (w0: number, w1: number) => number): Tensor {
  const out = empty(attrs.shape, attrs.dtype);
  const o = buf(out);
  const [k0, k1] = attrs.key;
  const words = [0, 0];
  for (let i = 0; i < o.length; i++) {
    const c = attrs.counter + i;
    // 64-bit counter split into two words (exact for counters below 2^53).
    threefry2x32(k0, k1, c >>> 0, Math.floor(c / 4294967296) >>> 0, words);
    o[i] = f(words[0], words[1]);
  }
  return out;
}

registerKernel('rand', 'cpu', (_, a) => fill(a, a.dtype === 'float64' ? uniform53 : (w0) => uniform24(w0)));

registerKernel('randn', 'cpu', (_, a) => fill(a, normalFromWords));

registerKernel('randint', 'cpu', (_, a) => fill(a, (w0) => a.low + (w0 % (a.high - a.low))));

registerKernel('bernoulli', 'cpu', (inputs, a) => {
  if (inputs.length === 0) return fill(a, (w0) => (uniform24(w0) < a.p! ? 1 : 0));
  const u = fill({ ...a, dtype: 'float64' }, (w0) => uniform24(w0));
  const out = empty(a.shape, a.dtype);
  mapStrided(
    'x1 < x2 ? 1 : 0',
    { data: buf(out), offset: 0, strides: out.strides },
    [{ data: buf(u), offset: 0, strides: u.strides }, broadcastOperand(inputs[0], a.shape)],
    a.shape,
  );
  u.dispose();
  return out;
});
