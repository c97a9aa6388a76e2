#!/usr/bin/env python3
"""Generates packages/layers/src/pooling/cpu/wasm/pool.wat: the float32 SIMD pooling kernels.

The kernels repeat one loop skeleton (rows, groups of 4 outputs, taps, fast or bounds-checked
loads) for each method, so the WAT is written by this script; edit here, then run
`python3 tools/gen-pool-wat.py && pnpm gen:wasm`. `--check` (CI) only compares.
"""
import os
import sys
L = []
def e(s=''): L.append(s)

COMMON_PARAMS = '(param $x i32) (param $W i32) (param $rowTab i32) (param $nRows i32) (param $OW i32) (param $sx i32) (param $px i32) (param $K i32) (param $dx i32) (param $oxLo i32) (param $oxHi i32)'
COMMON_LOCALS = '(local $row i32) (local $rt i32) (local $R i32) (local $rr i32) (local $rp i32) (local $k i32) (local $ox0 i32) (local $fast i32) (local $x0 i32) (local $xj i32) (local $ok i32) (local $ob i32) (local $v v128) (local $mask v128)'

# The last output of the group at $ox0 that lies in the row (its lanes past OW are not outputs).
LAST_REAL = ('(select (i32.add (local.get $ox0) (i32.const 3)) (i32.sub (local.get $OW) (i32.const 1))\n'
             '            (i32.lt_s (i32.add (local.get $ox0) (i32.const 3)) (local.get $OW)))')

# $inside: the group is kernel-2 stride-2 and its real lanes' windows lie inside the row.
INSIDE = ('        (local.set $inside (i32.and (local.get $pair) (i32.and (i32.ge_s (local.get $ox0) (local.get $oxLo))\n'
  + f'          (i32.lt_s {LAST_REAL} (local.get $oxHi)))))\n')

def row_loop(group_body, stores_masked=False):
    """for each output row, for each group of 4 outputs: group_body (with $ox0, $fast, $ob set).
    stores_masked: the group's results only reach memory through store4, which drops the lanes
    past OW, so the last group of a row may take the fast path when its real lanes' windows lie
    inside the row (its other lanes read past the row, into the next row or the arena guard, and
    are dropped). Backward passes scatter every lane, so they keep the full test."""
    last = LAST_REAL if stores_masked else '(i32.add (local.get $ox0) (i32.const 3))'
    return f'''    (local.set $rt (local.get $rowTab))
    (block $rowdone (loop $rowloop
      (br_if $rowdone (i32.ge_s (local.get $row) (local.get $nRows)))
      (local.set $R (i32.load (local.get $rt)))
      (local.set $ox0 (i32.const 0))
      (block $gdone (loop $gloop
        (br_if $gdone (i32.ge_s (local.get $ox0) (local.get $OW)))
        ;; fast: stride 1 or 2 and all {'real ' if stores_masked else 'four '}windows fully inside the row (no bounds tests)
        (local.set $fast (i32.and (i32.le_u (i32.sub (local.get $sx) (i32.const 1)) (i32.const 1))
          (i32.and (i32.ge_s (local.get $ox0) (local.get $oxLo)) (i32.lt_s {last} (local.get $oxHi)))))
        ;; byte offset of output (row, ox0) in the per-plane output arrays
        (local.set $ob (i32.shl (i32.add (i32.mul (local.get $row) (local.get $OW)) (local.get $ox0)) (i32.const 2)))
{group_body}
        (local.set $ox0 (i32.add (local.get $ox0) (i32.const 4)))
        (br $gloop)))
      (local.set $rt (i32.add (local.get $rt) (i32.shl (i32.add (local.get $R) (i32.const 1)) (i32.const 2))))
      (local.set $row (i32.add (local.get $row) (i32.const 1)))
      (br $rowloop)))'''

def fast_load():
    return '''(if (i32.eq (local.get $sx) (i32.const 1))
              (then (local.set $v (v128.load (i32.add (local.get $rp) (i32.shl (local.get $x0) (i32.const 2))))))
              (else (local.set $v (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                (v128.load (i32.add (local.get $rp) (i32.shl (local.get $x0) (i32.const 2))))
                (v128.load offset=16 (i32.add (local.get $rp) (i32.shl (local.get $x0) (i32.const 2))))))))
            (local.set $mask (v128.const i32x4 -1 -1 -1 -1))'''

def generic_load(fill):
    out = []
    for j in range(4):
        out.append(f'''(local.set $xj (i32.add (local.get $x0) (i32.mul (i32.const {j}) (local.get $sx))))
            (local.set $ok (i32.and (i32.lt_u (local.get $xj) (local.get $W)) (i32.lt_s (i32.add (local.get $ox0) (i32.const {j})) (local.get $OW))))
            (local.set $v (f32x4.replace_lane {j} (local.get $v) (if (result f32) (local.get $ok)
              (then (f32.load (i32.add (local.get $rp) (i32.shl (local.get $xj) (i32.const 2))))) (else (f32.const {fill})))))
            (local.set $mask (i32x4.replace_lane {j} (local.get $mask) (i32.sub (i32.const 0) (local.get $ok))))''')
    return '\n            '.join(out)

def tap_loop(body, fill, label):
    """Loops over the row's tap rows and the K taps, loading $v (and $mask) for the 4 lanes.
    `body` is WAT text, or a function of `fast` giving the text for each variant."""
    def variant(load, fast):
        return f'''(local.set $rr (i32.const 0))
        (block $rd{label} (loop $rl{label}
          (br_if $rd{label} (i32.ge_s (local.get $rr) (local.get $R)))
          (local.set $rp (i32.add (local.get $x) (i32.shl (i32.load offset=4 (i32.add (local.get $rt) (i32.shl (local.get $rr) (i32.const 2)))) (i32.const 2))))
          (local.set $k (i32.const 0))
          (block $kd{label} (loop $kl{label}
            (br_if $kd{label} (i32.ge_s (local.get $k) (local.get $K)))
            (local.set $x0 (i32.sub (i32.add (i32.mul (local.get $ox0) (local.get $sx)) (i32.mul (local.get $k) (local.get $dx))) (local.get $px)))
            {load}
            {body(fast) if callable(body) else body}
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $kl{label})))
          (local.set $rr (i32.add (local.get $rr) (i32.const 1)))
          (br $rl{label})))'''
    return f'''        (if (local.get $fast)
          (then {variant(fast_load(), True)})
          (else {variant(generic_load(fill), False)}))'''

def scatter(value, fast=False):
    """grad[lane positions] += lanes of `value` for valid lanes (fixed lane order: deterministic).
    Fast groups (all lanes valid, stride 1 or 2) add whole vectors: stride 2 interleaves the lanes
    with zeros over 8 consecutive gradients (adding 0 to the odd ones, and to one element past the
    last lane, which is the next row or the arena guard)."""
    if fast:
        z = '(v128.const i32x4 0 0 0 0)'
        return f'''(local.set $ok (i32.add (i32.sub (local.get $rp) (local.get $x)) (i32.add (local.get $grad) (i32.shl (local.get $x0) (i32.const 2)))))
            (if (i32.eq (local.get $sx) (i32.const 1))
              (then (v128.store (local.get $ok) (f32x4.add (v128.load (local.get $ok)) {value})))
              (else
                (v128.store (local.get $ok) (f32x4.add (v128.load (local.get $ok)) (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 {value} {z})))
                (v128.store offset=16 (local.get $ok) (f32x4.add (v128.load offset=16 (local.get $ok)) (i8x16.shuffle 8 9 10 11 16 17 18 19 12 13 14 15 20 21 22 23 {value} {z})))))'''
    out = []
    for j in range(4):
        out.append(f'''(local.set $xj (i32.add (local.get $x0) (i32.mul (i32.const {j}) (local.get $sx))))
            (if (i32.and (i32.lt_u (local.get $xj) (local.get $W)) (i32.lt_s (i32.add (local.get $ox0) (i32.const {j})) (local.get $OW)))
              (then (local.set $ok (i32.add (i32.sub (local.get $rp) (local.get $x)) (i32.add (local.get $grad) (i32.shl (local.get $xj) (i32.const 2)))))
                (f32.store (local.get $ok) (f32.add (f32.load (local.get $ok)) (f32x4.extract_lane {j} {value})))))''')
    return '\n            '.join(out)

def store4(kind, ptr, value):
    """Stores 4 lanes at ptr+$ob, or only the lanes below OW in the last group."""
    lanes = '\n'.join(f'''            (if (i32.lt_s (i32.add (local.get $ox0) (i32.const {j})) (local.get $OW))
              (then ({kind}.store offset={4*j} (i32.add (local.get {ptr}) (local.get $ob)) ({'f32x4' if kind=='f32' else 'i32x4'}.extract_lane {j} {value}))))''' for j in range(4))
    return f'''        (if (i32.lt_s (i32.add (local.get $ox0) (i32.const 3)) (local.get $OW))
          (then (v128.store (i32.add (local.get {ptr}) (local.get $ob)) {value}))
          (else
{lanes}))'''

e(''';; Generated by tools/gen-pool-wat.py; edit that script, not this file.
;; Float32 CPU pooling kernels, WebAssembly SIMD128: SoftPool, max and average pooling, forward
;; and backward, one [D*H, W] plane at a time (each plane's data stays in cache). Windows are
;; grouped by 4 consecutive outputs of an output row; a group whose windows all lie inside the
;; row, with stride 1 or 2, loads its taps as vectors, other groups load lane by lane with bounds
;; tests (padding). Kernel 2, stride 2 and dilation 1 take both taps of a group's windows from
;; one 8-wide load per tap row (max pooling compares them as a tree, average pooling's backward
;; adds both taps' gradients with one 8-wide add per row); with 1, 2 or 4 tap rows (1-D, 2-D,
;; 3-D) SoftPool holds all of a group's inputs at once and makes one pass, and its backward
;; rebuilds the window statistics from them. Tap rows come from a table built in JS: per output
;; row, R then the R input-row offsets (padding rows are simply not listed). Backward passes add
;; each window's contributions into the input gradient in a fixed order (deterministic, no
;; atomics). Each export runs its per-plane function over `planes` planes laid out back to back
;; (input-sized arrays inStride bytes apart, output-sized ones outStride), so the CPU worker
;; threads of @softpool/tensor, which run this module on their shared memory, take ranges of
;; planes; float parameters come as their bits (the threads pass integers).
(module
  (import "env" "memory" (memory 1 65536 shared))

''')



def exp_inline(src, dst, tmp=''):
    """dst = exp(src) for 4 lanes with src already in [-88, 0], inlined (V8 does not inline wasm
    calls here): exp(d) = 2^n 2^f with t = d log2(e), n = round(t), f = t - n in [-1/2, 1/2], and
    2^f from a degree-5 polynomial fitted for relative error (1.8e-7 on [-1/2, 1/2]; rounding t
    adds up to 8e-6 relative at d = -88, where the weight is below 1e-38 of the window's largest).
    Speed: n comes from adding 1.5 * 2^23 (the float's low mantissa bits then hold n, rounded to
    nearest even), which avoids f32x4.nearest and the multi-instruction saturating conversion;
    the polynomial is evaluated in Estrin's form (6 dependent steps instead of Horner's 10).
    `tmp` suffixes the temporaries, so two evaluations can interleave."""
    return '\n            '.join(exp_lines(src, dst, tmp))

def exp_lines(src, dst, tmp=''):
    """The statements of exp_inline, one per list item."""
    c = lambda v: '(v128.const f32x4 %s %s %s %s)' % (v, v, v, v)
    k, r, pp, f2 = f'$ek{tmp}', f'$er{tmp}', f'$ep{tmp}', f'$ef{tmp}'
    return [f'(local.set {k} (f32x4.mul (local.get {src}) {c("1.44269504")}))',
      f'(local.set {r} (f32x4.add (local.get {k}) {c("12582912")}))',
      f'(local.set {k} (f32x4.sub (local.get {k}) (f32x4.sub (local.get {r}) {c("12582912")})))',
      f'(local.set {f2} (f32x4.mul (local.get {k}) (local.get {k})))',
      f'(local.set {pp} (f32x4.add (f32x4.mul {c("1.32187e-3")} (local.get {k})) {c("9.6717e-3")}))',
      f'(local.set {pp} (f32x4.add (f32x4.mul (local.get {pp}) (local.get {f2})) (f32x4.add (f32x4.mul {c("5.550893e-2")} (local.get {k})) {c("0.24022238")})))',
      f'(local.set {pp} (f32x4.add (f32x4.mul (local.get {pp}) (local.get {f2})) (f32x4.add (f32x4.mul {c("0.6931469")} (local.get {k})) {c("1")})))',
      f'(local.set {dst} (f32x4.mul (local.get {pp}) (i32x4.shl (i32x4.add (local.get {r}) (v128.const i32x4 127 127 127 127)) (i32.const 23))))']

def interleave(*lists):
    """Statements of independent computations, alternated so their latencies overlap."""
    return '\n            '.join(x for group in zip(*lists) for x in group)

def pair_rows(label, body):
    """The fast path of kernel-2 stride-2 windows (dilation 1): for each tap row, 8 consecutive
    inputs give both taps of 4 windows at once ($lo: first taps, $hi: second taps), with no tap
    loop and no per-tap branch, and two independent exponentials per step."""
    return f'''(local.set $rr (i32.const 0))
          (local.set $x0 (i32.sub (i32.shl (local.get $ox0) (i32.const 1)) (local.get $px)))
          (block $pd{label} (loop $pl{label}
            (br_if $pd{label} (i32.ge_s (local.get $rr) (local.get $R)))
            (local.set $rp (i32.add (local.get $x) (i32.shl (i32.load offset=4 (i32.add (local.get $rt) (i32.shl (local.get $rr) (i32.const 2)))) (i32.const 2))))
            (local.set $v (v128.load (i32.add (local.get $rp) (i32.shl (local.get $x0) (i32.const 2)))))
            (local.set $v2 (v128.load offset=16 (i32.add (local.get $rp) (i32.shl (local.get $x0) (i32.const 2)))))
            (local.set $lo (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $v) (local.get $v2)))
            (local.set $hi (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $v) (local.get $v2)))
            {body}
            (local.set $rr (i32.add (local.get $rr) (i32.const 1)))
            (br $pl{label})))'''

PAIR_LOCALS = '(local $pair i32) (local $v2 v128) (local $lo v128) (local $hi v128) (local $ek2 v128) (local $er2 v128) (local $ep2 v128) (local $ef2 v128)'
PAIR_INIT = ('    (local.set $pair (i32.and (i32.eq (local.get $K) (i32.const 2))\n'
  '      (i32.and (i32.eq (local.get $sx) (i32.const 2)) (i32.eq (local.get $dx) (i32.const 1)))))\n')

def wrap(comment, header, locals_, body):
    e(comment)
    e('  (func ' + header)
    e('    ' + COMMON_LOCALS + ' ' + locals_)
    e(body)
    e('  )')
    e('')

# ---- SoftPool ----
CLAMP = '(v128.const f32x4 -88 -88 -88 -88)'

ROWS = (2, 1, 4)  # tap-row counts with a one-pass path: 2-D, 1-D and 3-D kernel-2 windows

def tree(op, xs):
    """op over all of xs as a balanced tree (shorter dependency chains than a running total)."""
    while len(xs) > 1:
        xs = [f'({op} {xs[i]} {xs[i + 1]})' if i + 1 < len(xs) else xs[i] for i in range(0, len(xs), 2)]
    return xs[0]

def row_ptr(j):
    return '$rp' if j == 0 else f'$rp{j}'

def fixed_load(n, tight=False):
    """The one-pass path of kernel-2 stride-2 groups with n tap rows: loads the 8n inputs of 4
    windows, scaled by 1/T, as $w0.. (row j: first taps $w{2j}, second taps $w{2j+1}), then $mx =
    their maximum per window, $dw{k} = max(w - m, -88), $ew{k} = exp(dw), $sum and $t = sum e d.
    `tight`: inside one_pass_loop, which keeps the row pointers and the byte offset $xo itself."""
    def row(j):
        rp, lo, hi = row_ptr(j), f'$w{2 * j}', f'$w{2 * j + 1}'
        at = f'(i32.add (local.get {rp}) (local.get $xo))' if tight else f'(i32.add (local.get {rp}) (i32.shl (local.get $x0) (i32.const 2)))'
        head = '' if tight else f'''(local.set {rp} (i32.add (local.get $x) (i32.shl (i32.load offset={4 * (j + 1)} (local.get $rt)) (i32.const 2))))
            '''
        return head + f'''(local.set $v (v128.load {at}))
            (local.set $v2 (v128.load offset=16 {at}))
            (local.set {lo} (f32x4.mul (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $v) (local.get $v2)) (local.get $iT)))
            (local.set {hi} (f32x4.mul (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $v) (local.get $v2)) (local.get $iT)))'''
    ks = range(2 * n)
    ds = '\n            '.join(f'(local.set $dw{k} (f32x4.pmax (f32x4.sub (local.get $w{k}) (local.get $mx)) {CLAMP}))' for k in ks)
    # at most 4 exponentials in flight: more only spill registers
    exps = '\n            '.join(interleave(*(exp_lines(f'$dw{k}', f'$ew{k}', f'w{k}') for k in ks[c:c + 4])) for c in range(0, 2 * n, 4))
    rows = '\n            '.join(row(j) for j in range(n))
    x0 = '' if tight else '(local.set $x0 (i32.sub (i32.shl (local.get $ox0) (i32.const 1)) (local.get $px)))\n            '
    return f'''{x0}{rows}
            ;; pmax is one instruction where max is several; the NaN it can drop reaches the sums
            (local.set $mx {tree('f32x4.pmax', [f'(local.get $w{k})' for k in ks])})
            {ds}
            {exps}
            (local.set $sum {tree('f32x4.add', [f'(local.get $ew{k})' for k in ks])})
            (local.set $t {tree('f32x4.add', [f'(f32x4.mul (local.get $ew{k}) (local.get $dw{k}))' for k in ks])})'''

FIXED_LOCALS = (' '.join(f'(local $rp{j} i32)' for j in range(1, max(ROWS)))
  + ' ' + ' '.join(f'(local ${n}{k} v128)' for k in range(2 * max(ROWS)) for n in ('w', 'dw', 'ew', 'ekw', 'erw', 'epw', 'efw')))

def fixed(n, flag=None):
    """A group of 4 windows that is fast, kernel-2 stride-2 in x, and has n tap rows (or, with
    `flag`, whose flag local says the first two, and has n tap rows)."""
    ok = f'(local.get {flag})' if flag else '(i32.and (local.get $fast) (local.get $pair))'
    return f'(i32.and {ok} (i32.eq (local.get $R) (i32.const {n})))'

def choose(paths, other, flag=None):
    """(if fixed(n, flag) then paths[n] else ...) over ROWS, then `other`."""
    out = other
    for n in reversed(ROWS):
        out = f'(if {fixed(n, flag)}\n        (then\n            {paths[n]})\n        (else\n{out}))'
    return out

SOFT_LOCALS = ('(local $mx v128) (local $sum v128) (local $t v128) (local $d v128) (local $d2 v128) (local $ex v128) (local $ex2 v128) '
  '(local $iT v128) (local $ek v128) (local $er v128) (local $ep v128) (local $ef v128) ' + PAIR_LOCALS + ' ' + FIXED_LOCALS)

# forward
pair_fwd = (pair_rows('a', '(local.set $mx (f32x4.max (local.get $mx) (f32x4.max (f32x4.mul (local.get $lo) (local.get $iT)) (f32x4.mul (local.get $hi) (local.get $iT)))))') + '\n'
  + '          (local.set $sum (v128.const f32x4 0 0 0 0))\n'
  + '          (local.set $t (v128.const f32x4 0 0 0 0))\n          '
  + pair_rows('b', f'(local.set $d (f32x4.pmax (f32x4.sub (f32x4.mul (local.get $lo) (local.get $iT)) (local.get $mx)) {CLAMP}))\n'
      f'            (local.set $d2 (f32x4.pmax (f32x4.sub (f32x4.mul (local.get $hi) (local.get $iT)) (local.get $mx)) {CLAMP}))\n            '
      + interleave(exp_lines('$d', '$ex'), exp_lines('$d2', '$ex2', '2')) + '\n'
      '            (local.set $sum (f32x4.add (local.get $sum) (f32x4.add (local.get $ex) (local.get $ex2))))\n'
      '            (local.set $t (f32x4.add (local.get $t) (f32x4.add (f32x4.mul (local.get $ex) (local.get $d)) (f32x4.mul (local.get $ex2) (local.get $d2)))))'))
generic_fwd = (tap_loop('(local.set $mx (f32x4.max (local.get $mx) (f32x4.mul (local.get $v) (local.get $iT))))', '-inf', 'a') + '\n'
  + '        (local.set $sum (v128.const f32x4 0 0 0 0))\n'
  + '        (local.set $t (v128.const f32x4 0 0 0 0))\n'
  + tap_loop(f'(local.set $d (f32x4.pmax (f32x4.sub (f32x4.mul (local.get $v) (local.get $iT)) (local.get $mx)) {CLAMP}))\n'
      + exp_inline('$d', '$ex') + '\n            (local.set $ex (v128.and (local.get $ex) (local.get $mask)))\n'
      '            (local.set $sum (f32x4.add (local.get $sum) (local.get $ex)))\n'
      '            (local.set $t (f32x4.add (local.get $t) (f32x4.mul (local.get $ex) (local.get $d))))', '-inf', 'b'))
body = ('        (local.set $mx (v128.const f32x4 -inf -inf -inf -inf))\n        '
  + choose({n: fixed_load(n) for n in ROWS}, '        (if (i32.and (local.get $fast) (local.get $pair))\n        (then\n          ' + pair_fwd + ')\n'
    + '        (else\n' + generic_fwd + '))') + '\n'
  + '        (local.set $ex (f32x4.mul (f32x4.add (local.get $mx) (f32x4.div (local.get $t) (local.get $sum))) (f32x4.splat (local.get $T))))\n'
  + '        ;; finite windows keep the formula; NaN / inf / all -inf windows give their maximum (x T)\n'
  + '        (local.set $ex (v128.bitselect (local.get $ex) (f32x4.mul (local.get $mx) (f32x4.splat (local.get $T)))\n'
  + '          (f32x4.eq (f32x4.sub (local.get $mx) (local.get $mx)) (v128.const f32x4 0 0 0 0))))\n'
  + store4('f32', '$y', '(local.get $ex)') + '\n' + store4('f32', '$m', '(local.get $mx)') + '\n' + store4('f32', '$s', '(local.get $sum)'))
wrap('  ;; SoftPool forward: y = T (m + sum e d / sum e) with d = max(a/T - m, -88), e = exp(d),\n  ;; m = max a/T; writes y, m and s = sum e. A NaN, +inf or all -inf window yields m (x T).',
  '(export "softFwd") ' + COMMON_PARAMS + ' (param $y i32) (param $m i32) (param $s i32) (param $invT f32) (param $T f32)',
  SOFT_LOCALS, PAIR_INIT + '    (local.set $iT (f32x4.splat (local.get $invT)))\n' + row_loop(body, stores_masked=True))

# backward
def contribution(d, c):
    """c = g/s * e * (1 + d + q) for taps with exponential c and clamped d (exact; q = m - y/T
    per window, so 1 + d + q = 1 + (a - y)/T), or g/s * e (paper); non-finite windows give $bad."""
    return (f'''(local.set {c} (f32x4.mul (local.get $gs) (local.get {c})))
            (if (local.get $exact) (then (local.set {c} (f32x4.mul (local.get {c}) (f32x4.add (local.get {d}) (local.get $q))))))
            (local.set {c} (v128.bitselect (local.get {c}) (local.get $bad) (local.get $fin)))''')

def window_terms():
    """$gs = g / s, $q = 1 + m - y/T, and the window masks."""
    return '''(local.set $gs (f32x4.div (local.get $gs) (local.get $sum)))
            (local.set $q (f32x4.add (v128.const f32x4 1 1 1 1) (f32x4.sub (local.get $mx) (f32x4.mul (local.get $yv) (local.get $iT)))))
            ''' + window_masks()

def window_masks():
    """The masks of finite ($fin) and NaN ($bad) windows."""
    return '''(local.set $fin (f32x4.eq (f32x4.sub (local.get $mx) (local.get $mx)) (v128.const f32x4 0 0 0 0)))
            (local.set $bad (v128.and (f32x4.ne (local.get $mx) (local.get $mx)) (v128.const f32x4 nan nan nan nan)))'''

def bwd_tap(v, d, c, tmp=''):
    """c = the gradient contribution of taps v (d, c: temporaries)."""
    return (f'(local.set {d} (f32x4.pmax (f32x4.sub (f32x4.mul (local.get {v}) (local.get $iT)) (local.get $mx)) {CLAMP}))\n            '
      + exp_inline(d, c, tmp) + '\n            ' + contribution(d, c))

def add_pair(rp, c, c2, tight=False):
    """Adds the interleaved contributions of a row's two taps into its 8 input gradients. `tight`
    (one_pass_loop): stores them instead, as no other window covers these inputs."""
    lo = f'(i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get {c}) (local.get {c2}))'
    hi = f'(i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get {c}) (local.get {c2}))'
    if tight:
        return f'''(local.set $ok (i32.add (i32.sub (local.get {rp}) (local.get $x)) (i32.add (local.get $grad) (local.get $xo))))
            (v128.store (local.get $ok) {lo})
            (v128.store offset=16 (local.get $ok) {hi})'''
    return f'''(local.set $ok (i32.add (i32.sub (local.get {rp}) (local.get $x)) (i32.add (local.get $grad) (i32.shl (local.get $x0) (i32.const 2)))))
            (v128.store (local.get $ok) (f32x4.add (v128.load (local.get $ok)) {lo}))
            (v128.store offset=16 (local.get $ok) (f32x4.add (v128.load offset=16 (local.get $ok)) {hi}))'''

# The one-pass groups recompute their windows' m, s and y from the inputs they hold anyway (the
# same operations as the forward, so the same values): they read no statistic. Their branches are
# per group and predictable, where the other paths test per tap.
def fixed_bwd(n, tight=False):
    ks = range(2 * n)
    return (fixed_load(n, tight) + '''
            ;; 1 + (a - y)/T = 1 + d + (m - y/T), and m - y/T = -t/s here
            (local.set $q (f32x4.div (v128.const f32x4 1 1 1 1) (local.get $sum)))
            (local.set $gs (f32x4.mul (v128.load (i32.add (local.get $g) (local.get $ob))) (local.get $q)))
            (local.set $q (f32x4.sub (v128.const f32x4 1 1 1 1) (f32x4.mul (local.get $t) (local.get $q))))
            ''' + window_masks() + '''
            (if (local.get $exact)
              (then
            ''' + '\n            '.join(f'(local.set $ew{k} (f32x4.mul (f32x4.mul (local.get $gs) (local.get $ew{k})) (f32x4.add (local.get $dw{k}) (local.get $q))))' for k in ks) + ''')
              (else
            ''' + '\n            '.join(f'(local.set $ew{k} (f32x4.mul (local.get $gs) (local.get $ew{k})))' for k in ks) + '''))
            (if (i32.eqz (i32x4.all_true (local.get $fin)))
              (then
            ''' + '\n            '.join(f'(local.set $ew{k} (v128.bitselect (local.get $ew{k}) (local.get $bad) (local.get $fin)))' for k in ks) + '))\n            '
      + ('' if tight else tail_lanes([f'$ew{k}' for k in ks]))
      + '\n            '.join(add_pair(row_ptr(j), f'$ew{2 * j}', f'$ew{2 * j + 1}', tight) for j in range(n)))

def tail_lanes(vs):
    """In the last group of a row, the lanes past OW (windows that do not exist, whose inputs lie past
    the row's windows) of each of `vs` become -0, which added to a gradient leaves it as it is."""
    keep = '(i32x4.lt_s (i32x4.add (i32x4.splat (local.get $ox0)) (v128.const i32x4 0 1 2 3)) (i32x4.splat (local.get $OW)))'
    sets = '\n            '.join(f'(local.set {v} (v128.bitselect (local.get {v}) (v128.const f32x4 -0 -0 -0 -0) (local.get $keep)))' for v in vs)
    return f'''(if (i32.gt_s (i32.add (local.get $ox0) (i32.const 4)) (local.get $OW))
              (then
            (local.set $keep {keep})
            {sets}))
            '''

stats = ('            (local.set $mx (v128.load (i32.add (local.get $m) (local.get $ob))))\n'
  + '            (local.set $yv (v128.load (i32.add (local.get $y) (local.get $ob))))\n'
  + '            (local.set $sum (v128.load (i32.add (local.get $s) (local.get $ob))))\n'
  + '            (local.set $gs (v128.load (i32.add (local.get $g) (local.get $ob))))\n            '
  + window_terms() + '\n')
pair_bwd = pair_rows('p', bwd_tap('$lo', '$d', '$c') + '\n            ' + bwd_tap('$hi', '$d2', '$c2', '2') + '\n            ' + add_pair('$rp', '$c', '$c2'))
# One-pass groups include a row's last group when its real lanes' windows lie inside the row
# ($inside, the forward's rule): its other lanes add -0 (tail_lanes).
body = (INSIDE + '        ' + choose({n: fixed_bwd(n) for n in ROWS}, stats
  + '        (if (i32.and (local.get $fast) (local.get $pair))\n        (then\n          ' + pair_bwd + ')\n'
  + '        (else\n' + tap_loop(lambda fast: bwd_tap('$v', '$d', '$c') + '\n            ' + scatter('(local.get $c)', fast), '0', 'c') + '))', '$inside'))
wrap('  ;; SoftPool backward: each window adds g w (1 + (a - y)/T) (exact) or g w (paper) into the\n  ;; gradient of its taps, w = exp(max(a/T - m, -88)) / s. Non-finite windows add 0 (NaN for NaN).',
  '(export "softBwd") ' + COMMON_PARAMS + ' (param $g i32) (param $y i32) (param $m i32) (param $s i32) (param $invT f32) (param $exact i32) (param $grad i32)',
  SOFT_LOCALS + ' (local $gs v128) (local $yv v128) (local $q v128) (local $c v128) (local $c2 v128) (local $fin v128) (local $bad v128) (local $inside i32) (local $keep v128)',
  PAIR_INIT + '    (local.set $iT (f32x4.splat (local.get $invT)))\n' + row_loop(body))

# Planes whose every group is a one-pass group (kernel 2, stride 2, no padding, OW a multiple of
# 4, the same R tap rows for every output row): dedicated loops without the per-group tests of
# the general kernels, row pointers set once per row, and offsets that only advance. The forward
# writes y alone (these backwards need no statistics); the backward stores each gradient once,
# as no two windows share an input (inputs outside every window are zeroed by the caller).
def one_pass_loop(paths):
    """Loops over rows and groups, with paths[R] the group body, chosen once by $R."""
    def loop(n):
        rps = '\n      '.join(f'(local.set {row_ptr(j)} (i32.add (local.get $x) (i32.shl (i32.load offset={4 * (j + 1)} (local.get $rt)) (i32.const 2))))' for j in range(n))
        return f'''(local.set $rt (local.get $rowTab))
    (block $rowdone{n} (loop $rowloop{n}
      (br_if $rowdone{n} (i32.ge_s (local.get $row) (local.get $nRows)))
      {rps}
      (local.set $xo (i32.const 0))
      (local.set $end (i32.add (local.get $ob) (i32.shl (local.get $OW) (i32.const 2))))
      (block $gdone{n} (loop $gloop{n}
        (br_if $gdone{n} (i32.ge_u (local.get $ob) (local.get $end)))
            {paths[n]}
        (local.set $xo (i32.add (local.get $xo) (i32.const 32)))
        (local.set $ob (i32.add (local.get $ob) (i32.const 16)))
        (br $gloop{n})))
      (local.set $rt (i32.add (local.get $rt) (i32.const {4 * (n + 1)})))
      (local.set $row (i32.add (local.get $row) (i32.const 1)))
      (br $rowloop{n})))'''
    out = '(unreachable)'
    for n in reversed(ROWS):
        out = f'(if (i32.eq (local.get $R) (i32.const {n}))\n    (then\n    {loop(n)})\n    (else {out}))'
    return out

ONE_PARAMS = '(param $x i32) (param $rowTab i32) (param $nRows i32) (param $OW i32) (param $R i32)'
ONE_LOCALS = ('(local $row i32) (local $rt i32) (local $ob i32) (local $xo i32) (local $end i32) (local $ok i32) (local $rp i32) '
  '(local $v v128) (local $v2 v128) (local $mx v128) (local $sum v128) (local $t v128) (local $iT v128) (local $ex v128) ' + FIXED_LOCALS)

def one_pass_func(comment, name, params, locals_, paths):
    e(comment)
    e(f'  (func (export "{name}") {ONE_PARAMS} {params}')
    e(f'    {ONE_LOCALS} {locals_}')
    e('    (local.set $iT (f32x4.splat (local.get $invT)))')
    e('    ' + one_pass_loop(paths))
    e('  )')
    e('')

one_pass_func('  ;; SoftPool forward of one-pass planes: y only (see above).', 'softFwdOne',
  '(param $y i32) (param $invT f32) (param $T f32)', '',
  {n: fixed_load(n, True) + '''
            (local.set $ex (f32x4.mul (f32x4.add (local.get $mx) (f32x4.div (local.get $t) (local.get $sum))) (f32x4.splat (local.get $T))))
            ;; finite windows keep the formula; NaN / inf / all -inf windows give their maximum (x T)
            (v128.store (i32.add (local.get $y) (local.get $ob)) (v128.bitselect (local.get $ex) (f32x4.mul (local.get $mx) (f32x4.splat (local.get $T)))
              (f32x4.eq (f32x4.sub (local.get $mx) (local.get $mx)) (v128.const f32x4 0 0 0 0))))''' for n in ROWS})
one_pass_func('  ;; SoftPool backward of one-pass planes: m, s and y rebuilt per group (see above).', 'softBwdOne',
  '(param $g i32) (param $invT f32) (param $exact i32) (param $grad i32)',
  '(local $gs v128) (local $q v128) (local $fin v128) (local $bad v128)',
  {n: fixed_bwd(n, True) for n in ROWS})

# ---- Max pool forward ----
def pair_taps(n):
    """Kernel-2 stride-2 groups with n tap rows: the statements loading the 8n inputs of 4 windows
    as $w0.. (row j: first taps $w{2j}, second taps $w{2j+1}: the windows' scan order), row j's
    pointer in row_ptr(j)."""
    out = ['(local.set $x0 (i32.sub (i32.shl (local.get $ox0) (i32.const 1)) (local.get $px)))']
    for j in range(n):
        rp = row_ptr(j)
        at = f'(i32.add (local.get {rp}) (i32.shl (local.get $x0) (i32.const 2)))'
        out += [f'(local.set {rp} (i32.add (local.get $x) (i32.shl (i32.load offset={4 * (j + 1)} (local.get $rt)) (i32.const 2))))',
          f'(local.set $v (v128.load {at}))',
          f'(local.set $v2 (v128.load offset=16 {at}))',
          f'(local.set $w{2 * j} (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $v) (local.get $v2)))',
          f'(local.set $w{2 * j + 1} (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $v) (local.get $v2)))']
    return out

def pair_max(n):
    """The maximum and first-maximum index of 4 kernel-2 stride-2 windows with n tap rows, as a
    tree over the taps (depth log2(2n) instead of a chain of 2n dependent steps). Each step keeps
    its left side (the earlier taps) unless the right one is greater or is the first NaN, which
    is the scan order's rule, so the result is the tap loop's."""
    out = pair_taps(n)
    for j in range(n):
        out += [f'(local.set $i{2 * j} (i32x4.add (i32x4.splat (i32.add (i32.shr_s (i32.sub (local.get {row_ptr(j)}) (local.get $x)) (i32.const 2)) (local.get $x0)))\n'
                '              (v128.const i32x4 0 2 4 6)))',
                f'(local.set $i{2 * j + 1} (i32x4.add (local.get $i{2 * j}) (v128.const i32x4 1 1 1 1)))']
    ks = list(range(2 * n))
    while len(ks) > 1:
        for a, b in zip(ks[0::2], ks[1::2]):
            out += [f'(local.set $take (v128.or (f32x4.gt (local.get $w{b}) (local.get $w{a}))\n'
                    f'              (v128.and (f32x4.ne (local.get $w{b}) (local.get $w{b})) (f32x4.eq (local.get $w{a}) (local.get $w{a})))))',
                    f'(local.set $w{a} (v128.bitselect (local.get $w{b}) (local.get $w{a}) (local.get $take)))',
                    f'(local.set $i{a} (v128.bitselect (local.get $i{b}) (local.get $i{a}) (local.get $take)))']
        ks = ks[0::2]
    out += ['(local.set $mx (local.get $w0))', '(local.set $best (local.get $i0))']
    return '\n            '.join(out)

PAIR_TAP_LOCALS = ('(local $pair i32) (local $v2 v128) ' + ' '.join(f'(local $rp{j} i32)' for j in range(1, max(ROWS)))
  + ' ' + ' '.join(f'(local $w{k} v128)' for k in range(2 * max(ROWS))))
body = ('        (local.set $mx (v128.const f32x4 -inf -inf -inf -inf))\n'
  + '        (local.set $best (v128.const i32x4 -1 -1 -1 -1))\n        '
  + choose({n: pair_max(n) for n in ROWS}, tap_loop('(local.set $lane (i32x4.add (i32x4.splat (i32.add (i32.shr_s (i32.sub (local.get $rp) (local.get $x)) (i32.const 2)) (local.get $x0)))\n'
      '              (i32x4.mul (v128.const i32x4 0 1 2 3) (i32x4.splat (local.get $sx)))))\n'
      '            (local.set $take (v128.and (local.get $mask) (v128.or (v128.or (f32x4.gt (local.get $v) (local.get $mx))\n'
      '              (i32x4.eq (local.get $best) (v128.const i32x4 -1 -1 -1 -1)))\n'
      '              (v128.and (f32x4.ne (local.get $v) (local.get $v)) (f32x4.eq (local.get $mx) (local.get $mx))))))\n'
      '            (local.set $mx (v128.bitselect (local.get $v) (local.get $mx) (local.get $take)))\n'
      '            (local.set $best (v128.bitselect (local.get $lane) (local.get $best) (local.get $take)))', '-inf', 'd')) + '\n'
  + store4('f32', '$y', '(local.get $mx)') + '\n' + store4('i32', '$idx', '(local.get $best)'))
wrap('  ;; Max pooling forward: the maximum of each window (NaN wins) and the in-plane index of its\n  ;; first maximum in scan order (the first real tap is always taken).',
  '(export "maxFwd") ' + COMMON_PARAMS + ' (param $y i32) (param $idx i32)',
  '(local $mx v128) (local $best v128) (local $lane v128) (local $take v128) ' + PAIR_TAP_LOCALS + ' '
  + ' '.join(f'(local $i{k} v128)' for k in range(2 * max(ROWS))), PAIR_INIT + row_loop(body, stores_masked=True))

e('''  ;; Max pooling backward: grad[idx[o]] += g[o] for the n outputs of a plane (idx -1: no tap).
  (func (export "maxBwd") (param $g i32) (param $idx i32) (param $n i32) (param $grad i32)
    (local $o i32) (local $i i32) (local $p i32)
    (block $done (loop $l
      (br_if $done (i32.ge_s (local.get $o) (local.get $n)))
      (local.set $i (i32.load (i32.add (local.get $idx) (i32.shl (local.get $o) (i32.const 2)))))
      (if (i32.ge_s (local.get $i) (i32.const 0)) (then
        (local.set $p (i32.add (local.get $grad) (i32.shl (local.get $i) (i32.const 2))))
        (f32.store (local.get $p) (f32.add (f32.load (local.get $p)) (f32.load (i32.add (local.get $g) (i32.shl (local.get $o) (i32.const 2))))))))
      (local.set $o (i32.add (local.get $o) (i32.const 1)))
      (br $l)))
  )
''')

# ---- Avg pool ----
def pair_sum(n):
    """The sums of 4 kernel-2 stride-2 windows with n tap rows, added in the tap loop's order."""
    return '\n            '.join(pair_taps(n) + [f'(local.set $sum (f32x4.add (local.get $sum) (local.get $w{k})))' for k in range(2 * n)])

body = ('        (local.set $sum (v128.const f32x4 0 0 0 0))\n        '
  + choose({n: pair_sum(n) for n in ROWS}, tap_loop('(local.set $sum (f32x4.add (local.get $sum) (local.get $v)))', '0', 'e')) + '\n'
  + store4('f32', '$y', '(f32x4.mul (local.get $sum) (v128.load (i32.add (local.get $inv) (local.get $ob))))'))
wrap('  ;; Average pooling forward: the window sum times 1/divisor (a per-output table from JS).',
  '(export "avgFwd") ' + COMMON_PARAMS + ' (param $inv i32) (param $y i32)', '(local $sum v128) ' + PAIR_TAP_LOCALS,
  PAIR_INIT + row_loop(body, stores_masked=True))

def pair_spread(n):
    """Adds c of 4 kernel-2 stride-2 windows with n tap rows into both taps of each row, 8 gradients
    per row at once. The group's real lanes' windows lie inside the row; its other lanes (past OW)
    add -0, which leaves any value as it is, to inputs past the row's windows."""
    out = ['(local.set $x0 (i32.sub (i32.shl (local.get $ox0) (i32.const 1)) (local.get $px)))',
      tail_lanes(['$c']).rstrip(),
      '(local.set $v (i8x16.shuffle 0 1 2 3 0 1 2 3 4 5 6 7 4 5 6 7 (local.get $c) (local.get $c)))',
      '(local.set $v2 (i8x16.shuffle 8 9 10 11 8 9 10 11 12 13 14 15 12 13 14 15 (local.get $c) (local.get $c)))']
    for j in range(n):
        out += [f'(local.set $ok (i32.add (local.get $grad) (i32.add (i32.shl (i32.load offset={4 * (j + 1)} (local.get $rt)) (i32.const 2)) (i32.shl (local.get $x0) (i32.const 2)))))',
          '(v128.store (local.get $ok) (f32x4.add (v128.load (local.get $ok)) (local.get $v)))',
          '(v128.store offset=16 (local.get $ok) (f32x4.add (v128.load offset=16 (local.get $ok)) (local.get $v2)))']
    return '\n            '.join(out)

# Groups whose real lanes' windows lie inside the row (the forward's rule, $inside) and are kernel
# 2, stride 2, take pair_spread; other groups need all four lanes inside to add whole vectors.
body = ('        (local.set $c (f32x4.mul (v128.load (i32.add (local.get $g) (local.get $ob))) (v128.load (i32.add (local.get $inv) (local.get $ob)))))\n'
  + INSIDE + '        '
  + choose({n: pair_spread(n) for n in ROWS}, tap_loop(lambda fast: scatter('(local.get $c)', fast), '0', 'f'), '$inside'))
wrap('  ;; Average pooling backward: every tap of a window gets g / divisor.',
  '(export "avgBwd") ' + COMMON_PARAMS + ' (param $g i32) (param $inv i32) (param $grad i32)', '(local $c v128) (local $inside i32) (local $keep v128) ' + PAIR_TAP_LOCALS,
  PAIR_INIT + row_loop(body))
# ---- plane loops: the exports ----
# Which pointer parameters step by a whole input plane, and which by an output plane.
PLANES = {
    'softFwd': (['x'], ['y', 'm', 's']),
    'softBwd': (['x', 'grad'], ['g', 'y', 'm', 's']),
    'softFwdOne': (['x'], ['y']),
    'softBwdOne': (['x', 'grad'], ['g']),
    'maxFwd': (['x'], ['y', 'idx']),
    'maxBwd': (['grad'], ['g', 'idx']),
    'avgFwd': (['x'], ['y']),
    'avgBwd': (['x', 'grad'], ['g']),
}
import re
HEAD = re.compile(r'^  \(func \(export "(\w+)"\) (.*)$', re.M)
found = [(i, m) for i, part in enumerate(L) for m in HEAD.finditer(part)]
for i, m in found:
    name, params = m.group(1), m.group(2)
    L[i] = L[i].replace(m.group(0), f'  (func ${name}1 {params}')
    plist = re.findall(r'\(param \$(\w+) (\w+)\)', params)
    ins, outs = PLANES[name]
    args = ' '.join(f'(f32.reinterpret_i32 (local.get ${n}))' if t == 'f32' else f'(local.get ${n})' for n, t in plist)
    step = '\n'.join(f'      (local.set ${n} (i32.add (local.get ${n}) (local.get $inStride)))' for n in ins)
    step += '\n' + '\n'.join(f'      (local.set ${n} (i32.add (local.get ${n}) (local.get $outStride)))' for n in outs)
    e(f'''  ;; {name} over `planes` planes (see the header).
  (func (export "{name}") {' '.join(f'(param ${n} i32)' for n, _ in plist)} (param $planes i32) (param $inStride i32) (param $outStride i32)
    (local $q i32)
    (block $done (loop $l
      (br_if $done (i32.ge_s (local.get $q) (local.get $planes)))
      (call ${name}1 {args})
{step}
      (local.set $q (i32.add (local.get $q) (i32.const 1)))
      (br $l)))
  )
''')
e(')')
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'packages', 'layers', 'src', 'pooling', 'cpu', 'wasm', 'pool.wat')
text = chr(10).join(L) + chr(10)
if '--check' in sys.argv:
    # CI: the committed pool.wat must be exactly what this generator writes.
    with open(OUT) as f:
        if f.read() != text:
            sys.exit('stale: packages/layers/src/pooling/cpu/wasm/pool.wat (run python3 tools/gen-pool-wat.py && pnpm gen:wasm)')
else:
    with open(OUT, 'w') as f:
        f.write(text)
