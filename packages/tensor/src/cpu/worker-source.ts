// The code each CPU worker thread runs, as a string: a worker made from it needs no file of its
// own, so it works the same from the sources, the ESM and CJS builds and a browser bundle. A
// worker instantiates the kernels on the shared memory, then claims work items until told to
// stop. It only ever runs kernels with integer arguments (WebAssembly exports, and the JavaScript
// loops of mapJs, softmaxBlock and randnJs): it never dispatches ops, so no parallel call can wait on another (no nested
// parallelism, no deadlock).
//
// Control words (Int32Array over a SharedArrayBuffer), see threads.ts:
//   NEXT  generation (8 bits) | item count (12 bits) | next unclaimed item (12 bits)
//   DONE  items finished in this generation      ERROR  1 + the first item that threw
//   STOP  nonzero: exit
//   SPIN  microseconds a thread keeps polling before it blocks (threads.ts, SPIN_US)
// An item is claimed by compare-and-swap on NEXT, so a worker that wakes late can never take an
// item of a newer generation by mistake. Item i's calls are in the task table at i * SLOT:
// a call count, then per call the export's number and its arguments (ARITY of them; numbers past
// FN's are kernels of other packages' modules, registerCpuKernels in threads.ts).

export const CONTROL = { NEXT: 0, DONE: 1, ERROR: 2, STOP: 3, SPIN: 4, WORDS: 5 } as const;
/** Int32 words per work item in the task table. */
export const SLOT = 32;
/**
 * Export numbers an item may call (the WebAssembly export of the same name; fail and exit are test
 * hooks), and their argument counts. Both threads' tables are built from these names, in order.
 */
export const FN = {
  gemm: 0,
  im2col: 1,
  packA: 2,
  packB: 3,
  fail: 4,
  exit: 5,
  bnForward: 6,
  bnBackward: 7,
  col2im: 8,
  threefry: 9,
  convDirect: 10,
  convDirectWgrad: 11,
  padRows: 12,
  interleave8: 13,
  mapBinary: 14,
  mapUnary: 15,
  mapReluBackward: 16,
  reduceOuterInner: 17,
  reduceLeading: 18,
  adamStep: 19,
  sgdStep: 20,
  wgInput: 21,
  wgOutput: 22,
  wgGrad: 23,
  wgForward: 24,
  fillWords: 25,
  mapJs: 26,
  softmaxBlock: 27,
  softmaxRows: 28,
  argReduce: 29,
  mapBinaryRuns: 30,
  mapCompare: 31,
  mapWhere: 32,
  mapLogical: 33,
  randomMap: 34,
  randnJs: 35,
  softmaxCols: 36,
  gather4: 37,
  dwConv: 38,
  dwWgrad: 39,
} as const;
export const ARITY = [
  8, 16, 6, 6, 0, 0, 13, 15, 18, 6, 20, 19, 11, 6, 6, 4, 4, 10, 9, 7, 6, 14, 13, 10, 20, 3, 8, 9, 7, 9, 10, 6,
  7, 6, 6, 4, 11, 11, 17, 18,
];
/** The export names, indexed by their numbers in `FN`. */
export const FN_NAMES = Object.keys(FN);
/** At most this many items per parallel call (12 bits of NEXT). */
export const MAX_ITEMS = 4095;

/**
 * Source of a function `(memory, helpers, maps) => mapJs`: the one kernel written in JavaScript.
 * `maps` lists float32 elementwise expressions (expressions.ts: THREADED_MAPS) and `helpers`
 * the source of the functions they call; `mapJs(code, a, b, out, n, step, q0lo, q0hi)` runs
 * expression `code` over n floats at byte address a (and b, advancing `step` floats an element:
 * 0 for a broadcast scalar) into out, with q0 the float64 whose 32-bit halves are given. The
 * calling thread and the workers compile this same text, so every thread computes the same bits
 * as the calling thread's strided loops (float64 arithmetic, rounded on store).
 */
export const mapJsSource = `(memory, helpers, maps) => {
  const loops = maps.map(([, expr]) => {
    const x2 = expr.includes('x2') ? ', x2 = d[b + i * step]' : '';
    const loop = 'return (d, a, b, o, n, step, q0) => { for (let i = 0; i < n; i++) { const x1 = d[a + i]' + x2 + '; d[o + i] = ' + expr + '; } };';
    return new Function('__name', helpers + ';' + loop)((f) => f);
  });
  const words = new Int32Array(2);
  const q = new Float64Array(words.buffer);
  let d = new Float32Array(memory.buffer);
  return (code, a, b, o, n, step, q0lo, q0hi) => {
    // The memory may have grown since the view was made (views of a shared buffer stay valid).
    if (d.length < (Math.max(a, b, o) >> 2) + n) d = new Float32Array(memory.buffer);
    words[0] = q0lo;
    words[1] = q0hi;
    loops[code](d, a >> 2, b >> 2, o >> 2, n, step, q[0]);
  };
}`;

/**
 * Source of `(memory, block) => kernel`: softmax-block.ts's function on float32 tensors at byte
 * addresses x and o of the memory, `kernel(code, x, o, n, inner, a0, a1, i0, i1)`.
 */
export const softmaxBlockSource = `(memory, block) => (code, x, o, n, inner, a0, a1, i0, i1) =>
  block(code, new Float32Array(memory.buffer, x), new Float32Array(memory.buffer, o), n, inner, a0, a1, i0, i1)`;

/**
 * Source of `(memory, normal) => kernel`: randn's map (src/random.ts: normalFromWords, Box-Muller
 * with Math.log and Math.cos, whose bits only the engine's own Math gives) over the Threefry words
 * of n elements at byte address w into float32 (f64 0) or float64 (f64 1) values at o.
 */
export const randnSource = `(memory, normal) => (w, o, n, f64) => {
  const words = new Uint32Array(memory.buffer, w, 2 * n);
  const out = f64 ? new Float64Array(memory.buffer, o, n) : new Float32Array(memory.buffer, o, n);
  for (let j = 0; j < n; j++) out[j] = normal(words[2 * j], words[2 * j + 1]);
}`;

export const workerSource = `'use strict';
const { NEXT, DONE, ERROR, STOP, SPIN } = ${JSON.stringify(CONTROL)};
const SLOT = ${SLOT};
function serve(init) {
  const env = { env: { memory: init.memory } };
  const ex = new WebAssembly.Instance(init.module, env).exports;
  const fns = ${JSON.stringify(FN_NAMES)}.map((name) => ex[name]);
  // Other packages' modules (registerCpuKernels): their exports follow FN's, in order.
  for (const e of init.extra) {
    const more = new WebAssembly.Instance(e.module, env).exports;
    for (const name of e.names) fns.push(more[name]);
  }
  const ARITY = init.arity;
  fns[${FN.mapJs}] = (${mapJsSource})(init.memory, init.jsHelpers, init.jsMaps);
  const block = new Function('__name', 'return ' + init.softmaxBlock)((f) => f);
  fns[${FN.softmaxBlock}] = (${softmaxBlockSource})(init.memory, block);
  const normal = new Function('__name', 'return ' + init.normal)((f) => f);
  fns[${FN.randnJs}] = (${randnSource})(init.memory, normal);
  fns[${FN.fail}] = () => { throw new Error('injected failure'); };
  fns[${FN.exit}] = () => { if (typeof process !== 'undefined') process.exit(1); else close(); };
  const ctl = new Int32Array(init.control);
  const table = new Int32Array(init.tasks);
  init.ready();
  let poll = true;
  for (;;) {
    if (Atomics.load(ctl, STOP)) return;
    const v = Atomics.load(ctl, NEXT);
    const total = (v >>> 12) & 0xfff;
    const idx = v & 0xfff;
    if (idx >= total) {
      // Poll a little before blocking, while the calls come that close together: a blocked
      // thread takes tens of microseconds to wake (threads.ts, SPIN_US).
      const budget = Atomics.load(ctl, SPIN) / 1000;
      const t0 = performance.now();
      if (poll) while (Atomics.load(ctl, NEXT) === v && !Atomics.load(ctl, STOP) && performance.now() - t0 < budget) {}
      if (Atomics.load(ctl, NEXT) === v) Atomics.wait(ctl, NEXT, v);
      poll = performance.now() - t0 < budget;
      continue;
    }
    if (Atomics.compareExchange(ctl, NEXT, v, v + 1) !== v) continue;
    try {
      let at = idx * SLOT;
      const calls = table[at++];
      for (let c = 0; c < calls; c++) {
        const fn = table[at++];
        const args = Array.from(table.subarray(at, at + ARITY[fn]));
        at += ARITY[fn];
        fns[fn](...args);
      }
    } catch (e) {
      Atomics.compareExchange(ctl, ERROR, 0, idx + 1);
    }
    if (Atomics.add(ctl, DONE, 1) + 1 === total) Atomics.notify(ctl, DONE);
  }
}
if (typeof self === 'undefined') {
  // Evaluated as CommonJS, or as a module where the parent runs with --input-type=module.
  const { parentPort, workerData } =
    typeof require === 'function' ? require('node:worker_threads') : process.getBuiltinModule('node:worker_threads');
  serve({ ...workerData, ready: () => parentPort.postMessage('ready') });
} else {
  self.onmessage = (e) => serve({ ...e.data, ready: () => self.postMessage('ready') });
}
`;
