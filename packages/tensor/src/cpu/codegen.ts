// Generates the CPU's strided loops. One template serves every elementwise op and every
// reduction: the op contributes an expression, the template walks any strides with a counter per
// outer dim (no per-element index math), and fast inner loops are specialised for unit and zero
// strides. Functions are compiled once per (expression, dtypes, stride pattern) and cached.
import type { TypedArray } from '../dtype.js';
import { collapseDims } from '../shape.js';

/** A strided view into a typed array. */
export interface Operand {
  data: TypedArray;
  offset: number;
  strides: readonly number[];
}

type LoopFn = (
  shape: number[],
  operands: (TypedArray | number[] | number)[],
  params: readonly number[],
) => void;

const cache = new Map<string, LoopFn>();

/** Inner-loop pattern of one operand: 'u' unit stride, 'z' zero stride (broadcast), 's' strided. */
function pattern(stride: number): string {
  return stride === 1 ? 'u' : stride === 0 ? 'z' : 's';
}

/**
 * Source of the loop. Operand k lives in `d{k}` with pointer `p{k}` and strides `s{k}`; operand 0
 * is the output. `body` uses `x1..xn` (input values) and writes through `OUT(...)`.
 */
function source(
  nOps: number,
  body: (v: string[]) => string,
  pat: string,
  reduce: boolean,
  copy = false,
): string {
  const ks = Array.from({ length: nOps }, (_, k) => k);
  const head = [
    'const r = shape.length;',
    ...ks.map(
      (k) => `const d${k} = ops[${3 * k}], s${k} = ops[${3 * k + 1}]; let p${k} = ops[${3 * k + 2}];`,
    ),
    'const q0 = params[0], q1 = params[1];',
  ];
  const vals = (idx: (k: number) => string): string[] => ks.map((k) => `d${k}[${idx(k)}]`);
  // Scalar case (rank 0 after collapsing).
  const scalar = `if (r === 0) { ${body(vals((k) => `p${k}`))} return; }`;
  const inner = ks.map((k) => `const i${k} = s${k}[r - 1];`).join(' ');
  // Inner loop specialised on the pattern: unit strides index by i, zero strides are hoisted.
  const hoisted = ks.filter((k) => k > 0 && pat[k] === 'z').map((k) => `const h${k} = d${k}[p${k}];`);
  const at = (k: number): string =>
    pat[k] === 'u' ? `p${k} + i` : pat[k] === 'z' ? `p${k}` : `p${k} + i * i${k}`;
  let loop: string;
  if (copy && pat[0] === 'u' && pat[1] !== 's') {
    // A copy's unit-stride runs go to the engine's fill and set (memset and memcpy speed), which
    // convert between typed arrays exactly as element stores do.
    loop =
      pat[1] === 'z'
        ? 'd0.fill(d1[p1], p0, p0 + n);'
        : 'if (n >= 16) d0.set(d1.subarray(p1, p1 + n), p0); else for (let i = 0; i < n; i++) d0[p0 + i] = d1[p1 + i];';
  } else if (reduce && pat[0] === 'z') {
    // Output stride 0: accumulate in a local and store once.
    const v = ['acc', ...ks.slice(1).map((k) => (pat[k] === 'z' ? `h${k}` : `d${k}[${at(k)}]`))];
    loop = `${hoisted.join(' ')} let acc = d0[p0]; for (let i = 0; i < n; i++) { ${body(v)} } d0[p0] = acc;`;
  } else {
    const v = ks.map((k) => (k > 0 && pat[k] === 'z' ? `h${k}` : `d${k}[${at(k)}]`));
    loop = `${hoisted.join(' ')} for (let i = 0; i < n; i++) { ${body(v)} }`;
  }
  const advance = ks.map((k) => `p${k} += s${k}[d];`).join(' ');
  const rewind = ks.map((k) => `p${k} -= s${k}[d] * shape[d];`).join(' ');
  return [
    ...head,
    scalar,
    'const n = shape[r - 1];',
    inner,
    'let outer = 1; for (let d = 0; d < r - 1; d++) outer *= shape[d];',
    'const idx = new Int32Array(r);',
    'for (let o = 0; o < outer; o++) {',
    loop,
    `for (let d = r - 2; d >= 0; d--) { ${advance} if (++idx[d] < shape[d]) break; idx[d] = 0; ${rewind} }`,
    '}',
  ].join('\n');
}

function compile(
  key: string,
  nOps: number,
  body: (v: string[]) => string,
  pat: string,
  reduce: boolean,
  helpers: Record<string, unknown>,
  copy = false,
): LoopFn {
  let fn = cache.get(key);
  if (!fn) {
    const names = Object.keys(helpers);
    const src = source(nOps, body, pat, reduce, copy);
    // Generated code: the template is fixed; only the op expressions (from our own tables) vary.
    const factory = new Function(...names, `return function kernel(shape, ops, params) {\n${src}\n};`);
    fn = factory(...names.map((n) => helpers[n])) as LoopFn;
    cache.set(key, fn);
  }
  return fn;
}

function pack(operands: readonly Operand[], shape: readonly number[], sortByFirstInput: boolean) {
  let dims = shape.map((_, i) => i);
  if (sortByFirstInput) {
    // Walk the input in memory order (largest strides outermost) for cache-friendly reductions.
    const s = operands[1].strides;
    dims = dims.sort((a, b) => Math.abs(s[b]) - Math.abs(s[a]));
  }
  const { shape: cs, strides } = collapseDims(
    dims.map((d) => shape[d]),
    operands.map((o) => dims.map((d) => o.strides[d])),
  );
  const ops: (TypedArray | number[] | number)[] = [];
  for (let k = 0; k < operands.length; k++) ops.push(operands[k].data, strides[k], operands[k].offset);
  return { shape: cs, strides, ops };
}

/**
 * out = f(inputs) elementwise over `shape`; every operand is a strided view already broadcast
 * to `shape` (zero strides). `expr` uses x1..xn for the inputs and q0, q1 for `params`.
 * `helpers` are functions the expression may call (e.g. erf).
 */
export function mapStrided(
  expr: string,
  out: Operand,
  inputs: readonly Operand[],
  shape: readonly number[],
  params: readonly number[] = [],
  helpers: Record<string, unknown> = {},
): void {
  if (shape.some((d) => d === 0)) return;
  const { shape: cs, strides, ops } = pack([out, ...inputs], shape, false);
  const pat = strides.map((s) => pattern(s[s.length - 1] ?? 1)).join('');
  const dtypes = [out, ...inputs].map((o) => o.data.constructor.name).join(',');
  const body = (v: string[]): string => {
    let e = expr;
    for (let k = inputs.length; k >= 1; k--) e = e.replace(new RegExp(`\\bx${k}\\b`, 'g'), `(${v[k]})`);
    return `${v[0]} = ${e};`;
  };
  const copy = expr === 'x1' && inputs.length === 1;
  compile(
    `map|${expr}|${dtypes}|${pat}`,
    inputs.length + 1,
    body,
    pat,
    false,
    helpers,
    copy,
  )(cs, ops, params);
}

/**
 * acc = combine(acc, x) for every input element, where `acc` is a view with zero strides on the
 * reduced axes. `combine` uses `acc` and `x1`. The accumulator must be pre-filled with the identity.
 */
export function reduceStrided(combine: string, acc: Operand, input: Operand, shape: readonly number[]): void {
  if (shape.some((d) => d === 0)) return;
  const { shape: cs, strides, ops } = pack([acc, input], shape, true);
  const pat = strides.map((s) => pattern(s[s.length - 1] ?? 1)).join('');
  const dtypes = `${acc.data.constructor.name},${input.data.constructor.name}`;
  const body = (v: string[]): string =>
    `${v[0]} = ${combine.replace(/\bacc\b/g, v[0]).replace(/\bx1\b/g, `(${v[1]})`)};`;
  compile(`reduce|${combine}|${dtypes}|${pat}`, 2, body, pat, true, {})(cs, ops, []);
}
