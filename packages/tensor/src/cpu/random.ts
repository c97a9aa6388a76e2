// CPU random kernels: element i is a pure function of (key, counter + i), as on every backend.

import { registerKernel } from '../kernels.js';
import type { RandomAttrs } from '../ops/random.js';
import { uniform24, uniform53 } from '../random.js';
import { broadcastOperand, buf, emptyUnfilled } from './backend.js';
import { mapStrided } from './codegen.js';
import { residentAddress } from './heap.js';
import { activeThreads, runParallel } from './threads.js';
import { reserve } from './wasm.js';
import { FN } from './worker-source.js';

/** Elements whose words one WebAssembly pass makes (512 KiB of words). */
const CHUNK = 1 << 16;
/** Elements below which the words are made on the calling thread alone. */
const PARALLEL_MIN = 1 << 14;

/**
 * The work items that make the Threefry words of elements [start, start + padded) (padded a
 * multiple of 4) at byte 0 of the scratch memory, split over the threads: the WebAssembly
 * `threefry` kernel (four counters per SIMD lane group, the rounds of `threefry2x32`). `then(s0,
 * s1)` may add calls to an item, which run after its words are made (elements start + [s0, s1)).
 */
function wordItems(
  attrs: RandomAttrs,
  start: number,
  padded: number,
  then: (s0: number, s1: number) => number[] = () => [],
): number[][] {
  const [k0, k1] = attrs.key;
  const parts = padded < PARALLEL_MIN ? 1 : 2 * activeThreads();
  const items: number[][] = [];
  for (let p = 0; p < parts; p++) {
    const s0 = Math.floor((p * padded) / parts / 4) * 4;
    const s1 = Math.floor(((p + 1) * padded) / parts / 4) * 4;
    if (s1 === s0) continue;
    // 64-bit counter of the item's first element, split into two words (exact below 2^53).
    const c = attrs.counter + start + s0;
    items.push([
      FN.threefry,
      k0 | 0,
      k1 | 0,
      (c % 4294967296) | 0,
      Math.floor(c / 4294967296) | 0,
      s1 - s0,
      s0 * 8,
      ...then(s0, s1),
    ]);
  }
  return items;
}

/**
 * Calls `map(w, start, count)` for consecutive chunks of the `n` elements, `w` holding the two
 * Threefry words of each element of the chunk (element start + j: w[2j], w[2j + 1]); each random
 * kernel then maps them in its own loop.
 */
function forEachWords(
  attrs: RandomAttrs,
  n: number,
  map: (w: Uint32Array, start: number, count: number) => void,
): void {
  for (let start = 0; start < n; start += CHUNK) {
    const count = Math.min(CHUNK, n - start);
    const padded = Math.ceil(count / 4) * 4;
    const { i32 } = reserve(2 * padded);
    runParallel(wordItems(attrs, start, padded));
    map(new Uint32Array(i32.buffer, 0, 2 * count), start, count);
  }
}

/**
 * Fills `o` with values made from each element's words by `map(w, out, count)`, calls that the
 * same item runs after making the words, on the threads: `randomMap` (WebAssembly) or `randnJs`.
 * They give the values of the JavaScript maps below, without their pass over all the words on
 * the calling thread (2-4x as fast). Writes in place where `o` is resident, else through scratch.
 */
function fillRandom(
  attrs: RandomAttrs,
  o: Float32Array | Int32Array | Float64Array,
  map: (w: number, out: number, count: number) => number[],
): void {
  const n = o.length;
  const size = o.BYTES_PER_ELEMENT;
  const at = o instanceof Float64Array ? undefined : residentAddress(o);
  for (let start = 0; start < n; start += CHUNK) {
    const count = Math.min(CHUNK, n - start);
    const padded = Math.ceil(count / 4) * 4;
    const { i32 } = reserve(2 * padded + (at === undefined ? (padded * size) / 4 : 0));
    // Resident storage is padded to whole vectors: the last chunk may write its last one whole.
    const out = at === undefined ? 8 * padded : at + size * start;
    runParallel(wordItems(attrs, start, padded, (s0, s1) => map(8 * s0, out + size * s0, s1 - s0)));
    if (at === undefined) {
      const View = o.constructor as Float32ArrayConstructor;
      o.set(new View(i32.buffer, out, count), start);
    }
  }
}

registerKernel('rand', 'cpu', (_, a) => {
  const out = emptyUnfilled(a.shape, a.dtype);
  const o = buf(out);
  if (o instanceof Float32Array) {
    fillRandom(a, o, (w, at, n) => [FN.randomMap, 0, w, at, n, 0, 0]);
    return out;
  }
  const f64 = a.dtype === 'float64';
  forEachWords(a, o.length, (w, start, count) => {
    if (f64) for (let j = 0; j < count; j++) o[start + j] = uniform53(w[2 * j], w[2 * j + 1]);
    else for (let j = 0; j < count; j++) o[start + j] = uniform24(w[2 * j]);
  });
  return out;
});

registerKernel('randn', 'cpu', (_, a) => {
  const out = emptyUnfilled(a.shape, a.dtype);
  // Box-Muller costs 40-50 ns an element in JavaScript: the threads run it (randnJs) once the
  // words are made (with one thread the caller runs the same loop).
  const o = buf(out) as Float32Array | Float64Array;
  const f64 = o instanceof Float64Array ? 1 : 0;
  fillRandom(a, o, (w, at, n) => [FN.randnJs, w, at, n, f64]);
  return out;
});

registerKernel('randint', 'cpu', (_, a) => {
  const out = emptyUnfilled(a.shape, a.dtype);
  const o = buf(out);
  const span = a.high - a.low;
  if (o instanceof Int32Array && span <= 0xffffffff) {
    fillRandom(a, o, (w, at, n) => [FN.randomMap, 2, w, at, n, span | 0, a.low]);
    return out;
  }
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
    if (o instanceof Float32Array) {
      // u < p for u = k * 2^-24 with k an integer: k < p * 2^24 (exact), i.e. k < ceil(p * 2^24).
      const threshold = Math.min(Math.max(Math.ceil(p * 16777216), 0), 16777216);
      fillRandom(a, o, (w, at, n) => [FN.randomMap, 1, w, at, n, threshold, 0]);
      return out;
    }
    forEachWords(a, o.length, (w, start, count) => {
      // +(a < b), not a ternary: random draws make the branch unpredictable.
      for (let j = 0; j < count; j++) o[start + j] = +(uniform24(w[2 * j]) < p);
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
