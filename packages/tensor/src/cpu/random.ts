// CPU random kernels: element i is a pure function of (key, counter + i), as on every backend.

import { registerKernel } from '../kernels.js';
import type { RandomAttrs } from '../ops/random.js';
import { normalFromWords, threefry2x32, uniform24, uniform53 } from '../random.js';
import { broadcastOperand, buf, emptyUnfilled } from './backend.js';
import { mapStrided } from './codegen.js';

const CHUNK = 4096;
const words = new Uint32Array(2 * CHUNK);

/**
 * Calls `map(w, start, count)` for consecutive chunks of the `n` elements, `w` holding the two
 * Threefry words of each element of the chunk (element start + j: w[2j], w[2j + 1]). The words
 * come from one monomorphic loop, and each kernel maps them in its own loop: a shared loop that
 * called a different mapping per element ran several times slower.
 */
function forEachWords(
  attrs: RandomAttrs,
  n: number,
  map: (w: Uint32Array, start: number, count: number) => void,
): void {
  const [k0, k1] = attrs.key;
  for (let start = 0; start < n; start += CHUNK) {
    const count = Math.min(CHUNK, n - start);
    for (let j = 0; j < count; j++) {
      const c = attrs.counter + start + j;
      // 64-bit counter split into two words (exact for counters below 2^53).
      threefry2x32(k0, k1, c >>> 0, Math.floor(c / 4294967296) >>> 0, words, 2 * j);
    }
    map(words, start, count);
  }
}

registerKernel('rand', 'cpu', (_, a) => {
  const out = emptyUnfilled(a.shape, a.dtype);
  const o = buf(out);
  const f64 = a.dtype === 'float64';
  forEachWords(a, o.length, (w, start, count) => {
    if (f64) for (let j = 0; j < count; j++) o[start + j] = uniform53(w[2 * j], w[2 * j + 1]);
    else for (let j = 0; j < count; j++) o[start + j] = uniform24(w[2 * j]);
  });
  return out;
});

registerKernel('randn', 'cpu', (_, a) => {
  const out = emptyUnfilled(a.shape, a.dtype);
  const o = buf(out);
  forEachWords(a, o.length, (w, start, count) => {
    for (let j = 0; j < count; j++) o[start + j] = normalFromWords(w[2 * j], w[2 * j + 1]);
  });
  return out;
});

registerKernel('randint', 'cpu', (_, a) => {
  const out = emptyUnfilled(a.shape, a.dtype);
  const o = buf(out);
  const span = a.high - a.low;
  forEachWords(a, o.length, (w, start, count) => {
    for (let j = 0; j < count; j++) o[start + j] = a.low + (w[2 * j] % span);
  });
  return out;
});

registerKernel('bernoulli', 'cpu', (inputs, a) => {
  const out = emptyUnfilled(a.shape, a.dtype);
  const o = buf(out);
  if (inputs.length === 0) {
    const p = a.p!;
    forEachWords(a, o.length, (w, start, count) => {
      for (let j = 0; j < count; j++) o[start + j] = uniform24(w[2 * j]) < p ? 1 : 0;
    });
    return out;
  }
  // Per-element probabilities: the uniforms first, then compared with p broadcast.
  const u = new Float64Array(o.length);
  forEachWords(a, o.length, (w, start, count) => {
    for (let j = 0; j < count; j++) u[start + j] = uniform24(w[2 * j]);
  });
  mapStrided(
    'x1 < x2 ? 1 : 0',
    { data: o, offset: 0, strides: out.strides },
    [{ data: u, offset: 0, strides: out.strides }, broadcastOperand(inputs[0], a.shape)],
    a.shape,
  );
  return out;
});
