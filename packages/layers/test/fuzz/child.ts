// The fuzz run (a child process, so that a fatal crash fails the test instead of killing the
// runner): every public op of @softpool/tensor and the functional API of @softpool/layers is
// called with hostile arguments drawn by fast-check from a fixed seed. An op may return a result
// or throw one of the library's own errors (SoftpoolError); anything else is reported.
// Prints one JSON line: { ops, calls, results, libraryErrors, failures }.
import * as L from '@softpool/layers';
import * as sp from '@softpool/tensor';
import fc from 'fast-check';

const RUNS = Number(process.argv[2] ?? 60);

/** Not ops: infrastructure, registries, backends, debugging, randomness state. */
const SKIP = new Set([
  'registerKernel',
  'getKernel',
  'hasKernel',
  'listOps',
  'dispatch',
  'run',
  'onDispatch',
  'setGradRecorder',
  'gradRecorder',
  'isGradRecording',
  'registerBackend',
  'registerBackendFactory',
  'setBackend',
  'initBackend',
  'getBackend',
  'listBackends',
  'defaultBackend',
  'isShaderBackend',
  'setDebug',
  'debugEnabled',
  'debugLog',
  'emptyCache',
  'cachedMemory',
  'memory',
  'peakMemory',
  'resetPeakMemory',
  'manualSeed',
  'defaultGenerator',
  'makeTensor',
  'makeView',
  'shareHandle',
  'keep',
  'scope',
  'cpuData',
  'cpuEmpty',
  'cpuEmptyUnfilled',
  'operand',
  'broadcastOperand',
  'readContiguous',
  'mapStrided',
  'reduceStrided',
  'gemmPacked',
  'batchNormFloat32',
  'batchNormBackwardFloat32',
  'adamStepFloat32',
  'sgdStepFloat32',
  'threefry2x32',
  'checkTensor',
  'isTensor',
  'formatValues',
  'fmtShape',
  'allocArray',
  'promoteTypes',
  'isFloat',
  // layers: file I/O and module machinery (tested on their own), not tensor ops
  'saveSafetensors',
  'loadSafetensors',
  'saveCheckpoint',
  'loadCheckpoint',
  'param',
  'fans',
  'calculateGain',
  // Helpers for op and kernel authors: they take arguments an op front-end has already validated.
  'broadcastShapes',
  'contiguousStrides',
  'isContiguous',
  'normalizeAxes',
  'normalizeAxis',
  'reducedShape',
  'shapesEqual',
  'sizeOf',
  'viewStrides',
  'resolveConv',
  'resolveGeometry',
  'windowDot',
  'tupleOption',
  'convOutSize',
  'checkShape',
  'sliceBackward',
  'padBackward',
  'geometryOf',
  'poolInput',
  'outputLength',
  'axisName',
]);

const isFunction = (v: unknown): v is (...a: unknown[]) => unknown =>
  typeof v === 'function' && !/^class[\s{]/.test(Function.prototype.toString.call(v));
const opsOf = (ns: Record<string, unknown>, prefix: string) =>
  Object.entries(ns)
    .filter(([name, v]) => isFunction(v) && !SKIP.has(name) && /^[a-z]/.test(name))
    .map(([name, f]) => [`${prefix}.${name}`, f as (...a: unknown[]) => unknown] as const);

const OPS = [...opsOf(sp as never, 'tensor'), ...opsOf(L as never, 'layers')];

// Numbers that are wrong as sizes, axes or options without asking for a legitimately huge result.
const numbers = fc.constantFrom(
  -1,
  0,
  1,
  2,
  3,
  0.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  -Infinity,
  2 ** 53 + 2,
  1e20,
  2 ** 32,
  -(2 ** 31),
);
const tensorArb = fc
  .record({
    shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 5 }),
    dtype: fc.constantFrom(...sp.DTYPES),
    seed: fc.integer({ min: 0, max: 1000 }),
  })
  .map(({ shape, dtype, seed }) => () => {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = Array.from({ length: n }, (_, i) => ((i * 7 + seed) % 11) - 5);
    return sp.tensor(dtype === 'bool' ? values.map((v) => v > 0) : values, { shape, dtype });
  });
const leaf: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: tensorArb },
  { weight: 3, arbitrary: numbers },
  {
    weight: 1,
    arbitrary: fc.constantFrom(null, undefined, true, false, 'x', '1', 'max', {}, Symbol.for('s')),
  },
  { weight: 2, arbitrary: fc.array(numbers, { maxLength: 4 }) },
);
const options = fc.dictionary(
  fc.constantFrom(
    'axis',
    'keepDim',
    'kernelSize',
    'stride',
    'padding',
    'dilation',
    'ceilMode',
    'dtype',
    'shape',
    'mode',
    'value',
    'groups',
    'size',
    'scaleFactor',
    'reduction',
    'temperature',
    'backend',
    'correction',
  ),
  leaf,
  { maxKeys: 3 },
);
const argsArb = fc.array(fc.oneof({ weight: 3, arbitrary: leaf }, { weight: 1, arbitrary: options }), {
  maxLength: 4,
});

/** Turns tensor factories into fresh tensors (nested one level into options and arrays). */
function materialise(v: unknown, made: sp.Tensor[]): unknown {
  if (typeof v === 'function') {
    const t = (v as () => sp.Tensor)();
    made.push(t);
    return t;
  }
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'function' ? materialise(x, made) : x));
  if (v && typeof v === 'object' && !(v instanceof sp.Tensor))
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k, typeof x === 'function' ? materialise(x, made) : x]),
    );
  return v;
}

const show = (v: unknown): string => {
  if (typeof v === 'function') return 'tensor';
  if (v instanceof sp.Tensor) return `tensor(${v.dtype}[${v.shape}])`;
  if (typeof v === 'number' || typeof v === 'symbol' || v === undefined) return String(v);
  try {
    return JSON.stringify(v, (_, x) =>
      typeof x === 'function' ? 'tensor' : typeof x === 'number' && !Number.isFinite(x) ? String(x) : x,
    );
  } catch {
    return String(v);
  }
};

let calls = 0;
let results = 0;
let libraryErrors = 0;
const failures: { op: string; args: string; error: string }[] = [];
const seen = new Set<string>();

for (const [name, f] of OPS) {
  if (process.env.FUZZ_TRACE) process.stderr.write(`${name}\n`);
  fc.assert(
    fc.property(argsArb, (raw) => {
      const made: sp.Tensor[] = [];
      const args = raw.map((a) => materialise(a, made));
      calls++;
      try {
        const out = f(...args);
        if (out instanceof Promise) out.catch(() => {});
        // A returned tensor must be readable (CPU) with a valid shape.
        for (const t of [out].flat(2))
          if (t instanceof sp.Tensor) {
            if (!t.shape.every((d) => Number.isInteger(d) && d >= 0))
              throw new Error(`bad shape [${t.shape}]`);
            if (t.size <= 1 << 16) t.dataSync();
            t.dispose();
          }
        results++;
      } catch (e) {
        if (e instanceof sp.SoftpoolError) libraryErrors++;
        else {
          const key = `${name}: ${(e as Error)?.constructor?.name} ${String((e as Error)?.message).slice(0, 80)}`;
          if (!seen.has(key)) {
            seen.add(key);
            failures.push({
              op: name,
              args: raw.map(show).join(', '),
              error: `${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`,
            });
          }
        }
      } finally {
        for (const t of made) t.dispose();
      }
      return true;
    }),
    { seed: Number(process.argv[3] ?? 20261129), numRuns: RUNS },
  );
}
process.stdout.write(`${JSON.stringify({ ops: OPS.length, calls, results, libraryErrors, failures })}\n`);
