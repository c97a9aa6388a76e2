// The code each CPU worker thread runs, as a string: a worker made from it needs no file of its
// own, so it works the same from the sources, the ESM and CJS builds and a browser bundle. A
// worker instantiates the kernels on the shared memory, then claims work items until told to
// stop. It only ever runs WebAssembly exports with integer arguments: it never dispatches ops,
// so no parallel call can wait on another (no nested parallelism, no deadlock).
//
// Control words (Int32Array over a SharedArrayBuffer), see threads.ts:
//   NEXT  generation (8 bits) | item count (12 bits) | next unclaimed item (12 bits)
//   DONE  items finished in this generation      ERROR  1 + the first item that threw
//   STOP  nonzero: exit
// An item is claimed by compare-and-swap on NEXT, so a worker that wakes late can never take an
// item of a newer generation by mistake. Item i's calls are in the task table at i * SLOT:
// a call count, then per call the export's number and its arguments (ARITY of them; numbers past
// FN's are kernels of other packages' modules, registerCpuKernels in threads.ts).

export const CONTROL = { NEXT: 0, DONE: 1, ERROR: 2, STOP: 3, WORDS: 4 } as const;
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
  sumOuterInner: 17,
  sumLeading: 18,
  adamStep: 19,
  sgdStep: 20,
  wgInput: 21,
  wgOutput: 22,
  wgGrad: 23,
  wgForward: 24,
  fillWords: 25,
} as const;
export const ARITY = [
  8, 16, 6, 6, 0, 0, 13, 15, 18, 6, 20, 17, 11, 6, 6, 4, 4, 7, 6, 7, 6, 14, 13, 10, 20, 3,
];
/** The export names, indexed by their numbers in `FN`. */
export const FN_NAMES = Object.keys(FN);
/** At most this many items per parallel call (12 bits of NEXT). */
export const MAX_ITEMS = 4095;

export const workerSource = `'use strict';
const { NEXT, DONE, ERROR, STOP } = ${JSON.stringify(CONTROL)};
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
  fns[${FN.fail}] = () => { throw new Error('injected failure'); };
  fns[${FN.exit}] = () => { if (typeof process !== 'undefined') process.exit(1); else close(); };
  const ctl = new Int32Array(init.control);
  const table = new Int32Array(init.tasks);
  init.ready();
  for (;;) {
    if (Atomics.load(ctl, STOP)) return;
    const v = Atomics.load(ctl, NEXT);
    const total = (v >>> 12) & 0xfff;
    const idx = v & 0xfff;
    if (idx >= total) { Atomics.wait(ctl, NEXT, v); continue; }
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
