#!/usr/bin/env python3
"""Writes the CPU kernels built on exp into packages/tensor/src/cpu/wasm/gemm.wat.

They compute exp, expm1 and tanh exactly as Math does (V8's ports of fdlibm's e_exp.c, s_expm1.c
and s_tanh.c), erf as math.ts does (its coefficients are read from there), and sigmoid and gelu as
the JavaScript expressions do, on two float64 lanes at a time, so that they give the JavaScript
loops' bits (float32 results: checked for all 2^32 inputs). V8 returns E for exp(1), one float64 bit from
fdlibm's result; both round to the same float32, and no kernel here takes exp(1) in float64
(softmax's x - m is at most 0). The steps are spelled out inline in every loop (Node 20's engine
does not inline WebAssembly calls, and a call per two values cost 1.5x the inline form), which is
why this script writes them. The text between BEGIN and END in gemm.wat is this script's output;
edit here, then run `python3 tools/gen-exp-wat.py && pnpm gen:wasm`. `--check` (CI) only compares.
"""
import os
import re
import struct
import sys

BEGIN = ';; ---- From here to END: written by tools/gen-exp-wat.py ----'
END = ';; ---- END of the part written by tools/gen-exp-wat.py ----'
WINOGRAD = ';; ---- From here to the end of the module: written by tools/gen-winograd-wat.py ----'

# fdlibm's constants as float64 bits (e_exp.c gives the same hex values in its comments).
K = {
    'INVLN2': '0x3ff71547652b82fe',
    'SIGN': '0x8000000000000000',
    'HALF': '0x3fe0000000000000',
    'HALFLN2': '0x3fd62e4300000000',  # the first double whose high word is above 0x3fd62e42
    'LN2HI': '0x3fe62e42fee00000',
    'LN2LO': '0x3dea39ef35793c76',
    'P1': '0x3fc555555555553e',
    'P2': '0xbf66c16c16bebd93',
    'P3': '0x3f11566aaf25de2c',
    'P4': '0xbebbbd41c5d26bf1',
    'P5': '0x3e66376972bea4d0',
    'ONE': '0x3ff0000000000000',
    'TWO': '0x4000000000000000',
    'TINY': '0x3e30000000000000',  # 2^-28
    'BIG': '0x4086200000000000',  # 708: below it 2^k is one normal factor
    'INF': '0x7ff0000000000000',
    'OVER': '0x40862e42fefa39ef',
    'UNDER': '0xc0874910d52d3051',
    'ZERO': '0x0000000000000000',
    # expm1 (s_expm1.c) and tanh (s_tanh.c)
    'Q1': '0xbfa11111111110f4',
    'Q2': '0x3f5a01a019fe5585',
    'Q3': '0xbf14ce199eaadbb7',
    'Q4': '0x3ed0cfca86e65239',
    'Q5': '0xbe8afdb76e09c32d',
    'THREE': '0x4008000000000000',
    'SIX': '0x4018000000000000',
    'QUARTER': '0x3fd0000000000000',
    'MINUS_TWO': '0xc000000000000000',
    'MINUS_ONE_D': '0xbff0000000000000',
    'TINY54': '0x3c90000000000000',  # 2^-54
    'BIGNEG': '0x4043687a00000000',  # the first double whose high word is 0x4043687a (56 ln2)
    'OVER32': '0x4056400000000000',  # 89: expm1 is above the largest float32 from here
    'TWENTYTWO': '0x4036000000000000',
    'SQRT1_2': '0x3fe6a09e667f3bcd',  # Math.SQRT1_2
    'GELU_K': '0x3fe9884533d43651',  # 0.7978845608028654
    'GELU_C': '0x3fa6e4e26d4801f7',  # 0.044715
}


def c(name):
    return f'(v128.const i64x2 {K[name]} {K[name]})'


def g(n):
    return f'(local.get ${n})'


def i64(v):
    return f'(i64x2.splat (i64.const {v}))'


TEMPS = ['ax', 'kf', 'hi', 'lo', 'r', 't', 'c', 'y', 'k', 'sm', 'tp', 'h', 'q', 'e', 'p', 'm']


def temps(s):
    return ' '.join(f'(local ${n}{s} v128)' for n in TEMPS)


def reduce(x, s):
    """e_exp.c's and s_expm1.c's reduction: x = k ln2 + r, r = hi - lo (k = 0 where |x|'s high
    word is at most 0x3fd62e42). Every lane takes the general path: fdlibm's branches give the
    same values there (k = +-1 between 0.5 and 1.5 ln2 with hi = x -+ ln2_hi, lo = +-ln2_lo; for
    k = 0, hi = x and lo = 0). Locals: ax, kf (k as a float), hi, lo, r."""
    L = lambda n: g(n + s)
    return [
        f'(local.set $ax{s} (f64x2.abs {x}))',
        f"(local.set $kf{s} (f64x2.trunc (f64x2.add (f64x2.mul {x} {c('INVLN2')}) (v128.or (v128.and {x} {c('SIGN')}) {c('HALF')}))))",
        f"(local.set $kf{s} (v128.and {L('kf')} (f64x2.ge {L('ax')} {c('HALFLN2')})))",
        f"(local.set $hi{s} (f64x2.sub {x} (f64x2.mul {L('kf')} {c('LN2HI')})))",
        f"(local.set $lo{s} (f64x2.mul {L('kf')} {c('LN2LO')}))",
        f"(local.set $r{s} (f64x2.sub {L('hi')} {L('lo')}))",
    ]


def reduce_poly(x, s):
    """reduce, then fdlibm's y = 1 - ((lo - r c / (2 - c)) - hi) ~ exp(r) (for k = 0 its formula
    is this one with hi = x, lo = 0)."""
    L = lambda n: g(n + s)
    return reduce(x, s) + [
        f"(local.set $t{s} (f64x2.mul {L('r')} {L('r')}))",
        f"(local.set $c{s} (f64x2.add {c('P4')} (f64x2.mul {L('t')} {c('P5')})))",
        f"(local.set $c{s} (f64x2.add {c('P3')} (f64x2.mul {L('t')} {L('c')})))",
        f"(local.set $c{s} (f64x2.add {c('P2')} (f64x2.mul {L('t')} {L('c')})))",
        f"(local.set $c{s} (f64x2.add {c('P1')} (f64x2.mul {L('t')} {L('c')})))",
        f"(local.set $c{s} (f64x2.sub {L('r')} (f64x2.mul {L('t')} {L('c')})))",
        f"(local.set $y{s} (f64x2.sub {c('ONE')} (f64x2.sub (f64x2.sub {L('lo')} (f64x2.div (f64x2.mul {L('r')} {L('c')}) (f64x2.sub {c('TWO')} {L('c')}))) {L('hi')})))",
    ]


def exp_fast(x, out, s):
    """exp(x) for lanes with 2^-28 <= |x| < 708: y * 2^k, one normal factor."""
    L = lambda n: g(n + s)
    return reduce_poly(x, s) + [
        f"(local.set ${out} (f64x2.mul {L('y')} (i64x2.shl (i64x2.add {i64(1023)} (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero {L('kf')}))) (i32.const 52))))",
    ]


def exp_full(x, out, s):
    """exp(x) for any lanes: y * 2^k in fdlibm's factors (2^(k+1000) * 2^-1000 below k = -1021,
    2 * 2^1023 at k = 1024), then its special cases: tiny |x|, overflow (and +inf), underflow
    (and -inf), NaN."""
    L = lambda n: g(n + s)
    o = g(out)
    return reduce_poly(x, s) + [
        f"(local.set $k{s} (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero {L('kf')})))",
        f"(local.set $sm{s} (i64x2.lt_s {L('k')} {i64(-1021)}))",
        f"(local.set $tp{s} (i64x2.eq {L('k')} {i64(1024)}))",
        f"(local.set ${out} (f64x2.mul (f64x2.mul {L('y')} (i64x2.shl (i64x2.add {i64(1023)} (v128.bitselect (i64x2.add {L('k')} {i64(1000)}) (v128.bitselect {i64(1)} {L('k')} {L('tp')}) {L('sm')})) (i32.const 52)))",
        f"  (i64x2.shl (i64x2.add {i64(1023)} (v128.bitselect {i64(-1000)} (v128.and {i64(1023)} {L('tp')}) {L('sm')})) (i32.const 52))))",
        f"(local.set ${out} (v128.bitselect (f64x2.add {c('ONE')} {x}) {o} (f64x2.lt {L('ax')} {c('TINY')})))",
        f"(local.set ${out} (v128.bitselect {c('INF')} {o} (f64x2.gt {x} {c('OVER')})))",
        f"(local.set ${out} (v128.andnot {o} (f64x2.lt {x} {c('UNDER')})))",
        f"(local.set ${out} (v128.bitselect (f64x2.add {x} {x}) {o} (f64x2.ne {x} {x})))",
    ]


def expm1_core(x, out, s, k_one):
    """expm1(x) for finite lanes with 2^-54 <= |x| and x below 56 ln2 or k <= 1024 (fdlibm's
    s_expm1.c): x = k ln2 + r with its correction c, e from the rational form, then the value
    of each case of k selected lane by lane (k = 0, -1, 1 with `k_one`, k <= -2 or k > 56,
    k < 20, else), each in fdlibm's steps. Locals: kf, hi, lo, r (x reduced), c, h (r/2),
    q (r h), t, e, k."""
    L = lambda n: g(n + s)
    p2 = lambda k: f"(i64x2.shl (i64x2.add {i64(1023)} {k}) (i32.const 52))"
    o = g(out)
    inv = p2(f"(i64x2.neg {L('k')})")  # 2^-k
    lines = reduce(x, s) + [
        f"(local.set $c{s} (f64x2.sub (f64x2.sub {L('hi')} {L('r')}) {L('lo')}))",
        f"(local.set $h{s} (f64x2.mul {c('HALF')} {L('r')}))",
        f"(local.set $q{s} (f64x2.mul {L('r')} {L('h')}))",
        # r1 = 1 + q*(Q1 + q*(Q2 + q*(Q3 + q*(Q4 + q*Q5))))
        f"(local.set $y{s} (f64x2.add {c('Q4')} (f64x2.mul {L('q')} {c('Q5')})))",
        f"(local.set $y{s} (f64x2.add {c('Q3')} (f64x2.mul {L('q')} {L('y')})))",
        f"(local.set $y{s} (f64x2.add {c('Q2')} (f64x2.mul {L('q')} {L('y')})))",
        f"(local.set $y{s} (f64x2.add {c('Q1')} (f64x2.mul {L('q')} {L('y')})))",
        f"(local.set $y{s} (f64x2.add {c('ONE')} (f64x2.mul {L('q')} {L('y')})))",
        f"(local.set $t{s} (f64x2.sub {c('THREE')} (f64x2.mul {L('y')} {L('h')})))",
        # e = q*((r1 - t)/(6 - r*t)); k = 0 gives r - (r e - q)
        f"(local.set $e{s} (f64x2.mul {L('q')} (f64x2.div (f64x2.sub {L('y')} {L('t')}) (f64x2.sub {c('SIX')} (f64x2.mul {L('r')} {L('t')})))))",
        f"(local.set $m{s} (f64x2.sub {L('r')} (f64x2.sub (f64x2.mul {L('r')} {L('e')}) {L('q')})))",
        # other k: e = (r*(e - c) - c) - q
        f"(local.set $e{s} (f64x2.sub (f64x2.sub (f64x2.mul {L('r')} (f64x2.sub {L('e')} {L('c')})) {L('c')}) {L('q')}))",
        f"(local.set $k{s} (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero {L('kf')})))",
        f"(local.set $p{s} {p2(L('k'))})",
        # else (20 <= k <= 56): ((r - (e + 2^-k)) + 1) * 2^k
        f"(local.set ${out} (f64x2.mul (f64x2.add (f64x2.sub {L('r')} (f64x2.add {L('e')} {inv})) {c('ONE')}) {L('p')}))",
        # k < 20: ((1 - 2^-k) - (e - r)) * 2^k
        f"(local.set ${out} (v128.bitselect (f64x2.mul (f64x2.sub (f64x2.sub {c('ONE')} {inv}) (f64x2.sub {L('e')} {L('r')})) {L('p')}) {o} (i64x2.lt_s {L('k')} {i64(20)})))",
        # k <= -2 or k > 56: (1 - (e - r)) * 2^k - 1
        f"(local.set ${out} (v128.bitselect (f64x2.sub (f64x2.mul (f64x2.sub {c('ONE')} (f64x2.sub {L('e')} {L('r')})) {L('p')}) {c('ONE')}) {o} (v128.or (i64x2.le_s {L('k')} {i64(-2)}) (i64x2.gt_s {L('k')} {i64(56)}))))",
    ]
    if k_one:
        # k = 1: r < -0.25 ? -2 (e - (r + 0.5)) : 1 + 2 (r - e)
        lines.append(f"(local.set ${out} (v128.bitselect (v128.bitselect (f64x2.mul {c('MINUS_TWO')} (f64x2.sub {L('e')} (f64x2.add {L('r')} {c('HALF')}))) (f64x2.add {c('ONE')} (f64x2.mul {c('TWO')} (f64x2.sub {L('r')} {L('e')}))) (f64x2.lt {L('r')} (f64x2.neg {c('QUARTER')}))) {o} (i64x2.eq {L('k')} {i64(1)})))")
    lines += [
        # k = -1: 0.5 (r - e) - 0.5
        f"(local.set ${out} (v128.bitselect (f64x2.sub (f64x2.mul {c('HALF')} (f64x2.sub {L('r')} {L('e')})) {c('HALF')}) {o} (i64x2.eq {L('k')} {i64(-1)})))",
        f"(local.set ${out} (v128.bitselect {L('m')} {o} (i64x2.eq {L('k')} {i64(0)})))",
    ]
    return lines


def math_ts_constants():
    """erf's coefficients, read from packages/tensor/src/cpu/math.ts (the one place they are
    written), as float64 bit patterns: scalars by name, arrays as lists."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'packages', 'tensor', 'src', 'cpu', 'math.ts')
    with open(path) as f:
        text = f.read()
    out = {}
    for name, body in re.findall(r'const (\w+) = \[([^\]]*)\];', text):
        out[name] = [_bits(float(v)) for v in re.findall(r'-?[0-9][0-9.e+-]*', body)]
    for name, v in re.findall(r'const (ERX|EFX) = (-?[0-9][0-9.e+-]*);', text):
        out[name] = _bits(float(v))
    return out


def erf_f64(x, out, s):
    """erf(x) as math.ts computes it: x + x P(x^2)/Q(x^2) below 0.84375 (x + EFX x below 2^-28),
    +-(ERX + P(|x| - 1)/Q(|x| - 1)) below 1.25, +-(1 - exp(-x^2 - 0.5625 + R(s)/S(s)) / |x|) with
    s = 1/x^2 below 6 (two coefficient sets, split at 1/0.35), +-1 from 6, NaN itself. Horner's
    steps over coefficients chosen lane by lane; a set padded with leading zeros takes the same
    steps as the unpadded one (0 * w + c = c)."""
    L = lambda n: g(n + s)
    cst = lambda h: f'(v128.const i64x2 {h} {h})'
    pad = lambda a, n: ['0x0000000000000000'] * (n - len(a)) + list(reversed(a))  # highest first

    def horner(w, sets, mask):
        # coefficients highest first; sets = (chosen where mask, else)
        a, b = sets
        n = max(len(a), len(b))
        a, b = pad(a, n), pad(b, n)
        acc = f"(v128.bitselect {cst(a[0])} {cst(b[0])} {mask})"
        for ca, cb in zip(a[1:], b[1:]):
            acc = f"(f64x2.add (f64x2.mul {acc} {w}) (v128.bitselect {cst(ca)} {cst(cb)} {mask}))"
        return acc

    sign = f"(v128.and {x} {c('SIGN')})"
    lines = [
        f"(local.set $ax{s} (f64x2.abs {x}))",
        f"(local.set $kf{s} (f64x2.lt {L('ax')} {cst(ERF_BOUNDS['small'])}))",  # small
        # small and middle ranges: w = x^2 or |x| - 1
        f"(local.set $hi{s} (v128.bitselect (f64x2.mul {x} {x}) (f64x2.sub {L('ax')} {c('ONE')}) {L('kf')}))",
        f"(local.set $lo{s} (f64x2.div {horner(L('hi'), (ERF['PP'], ERF['PA']), L('kf'))} (f64x2.add {c('ONE')} (f64x2.mul {L('hi')} {horner(L('hi'), (ERF['QQ'], ERF['QA']), L('kf'))}))))",
        # tail: w = 1 / x^2, sets A below 1/0.35, B from there; only where a lane needs it (its
        # exp is most of erf's cost; every lane it does not compute is chosen from the others)
        f"(if (v128.any_true (v128.and (f64x2.ge {L('ax')} {cst(ERF_BOUNDS['mid'])}) (f64x2.lt {L('ax')} {cst(ERF_BOUNDS['six'])}))) (then",
        f"(local.set $r{s} (f64x2.div {c('ONE')} (f64x2.mul {L('ax')} {L('ax')})))",
        f"(local.set $c{s} (f64x2.lt {L('ax')} {cst(ERF_BOUNDS['split'])}))",
        f"(local.set $t{s} (f64x2.div {horner(L('r'), (ERF['RA'], ERF['RB']), L('c'))} (f64x2.add {c('ONE')} (f64x2.mul {L('r')} {horner(L('r'), (ERF['SA'], ERF['SB']), L('c'))}))))",
        f"(local.set $y{s} (f64x2.add (f64x2.sub (f64x2.mul (f64x2.neg {L('ax')}) {L('ax')}) {cst(ERF_BOUNDS['c5625'])}) {L('t')}))",
    ] + exp_full(L('y'), 'ex' + s, s + 'x') + [
        # the tail's value, then the middle's, the small's, tiny, from 6, NaN
        f"(local.set ${out} (v128.xor (f64x2.sub {c('ONE')} (f64x2.div {g('ex' + s)} {L('ax')})) {sign}))))",
        f"(local.set ${out} (v128.bitselect (v128.xor (f64x2.add {cst(ERF['ERX'])} {L('lo')}) {sign}) {g(out)} (f64x2.lt {L('ax')} {cst(ERF_BOUNDS['mid'])})))",
        f"(local.set ${out} (v128.bitselect (f64x2.add {x} (f64x2.mul {x} {L('lo')})) {g(out)} {L('kf')}))",
        f"(local.set ${out} (v128.bitselect (f64x2.add {x} (f64x2.mul {cst(ERF['EFX'])} {x})) {g(out)} (f64x2.lt {L('ax')} {cst(ERF_BOUNDS['tiny'])})))",
        f"(local.set ${out} (v128.bitselect (v128.or {c('ONE')} {sign}) {g(out)} (f64x2.ge {L('ax')} {cst(ERF_BOUNDS['six'])})))",
        f"(local.set ${out} (v128.bitselect {x} {g(out)} (f64x2.ne {x} {x})))",
    ]
    return lines


def _bits(v):
    return '0x%016x' % struct.unpack('<Q', struct.pack('<d', v))[0]


ERF = math_ts_constants()
ERF_BOUNDS = {
    'small': _bits(0.84375),
    'mid': _bits(1.25),
    'split': _bits(1 / 0.35),
    'six': _bits(6.0),
    'tiny': _bits(3.725290298461914e-9),
    'c5625': _bits(0.5625),
}


def special(x):
    """Lanes of the float64 vector x that need exp_full."""
    ax = f'(f64x2.abs {x})'
    return f"(v128.or (v128.or (f64x2.lt {ax} {c('TINY')}) (f64x2.ge {ax} {c('BIG')})) (f64x2.ne {x} {x}))"


def exp4(xl, xh, el, eh, indent):
    """el, eh = exp of the float64 vectors in locals xl, xh: the fast path unless a lane of
    either needs the full one."""
    pad = ' ' * indent
    full = exp_full(g(xl), el, '_l') + exp_full(g(xh), eh, '_h')
    fast = exp_fast(g(xl), el, '_l') + exp_fast(g(xh), eh, '_h')
    out = [f'(if (v128.any_true (v128.or {special(g(xl))} {special(g(xh))}))', '  (then']
    out += ['    ' + line for line in full]
    out[-1] += ')'
    out.append('  (else')
    out += ['    ' + line for line in fast]
    out[-1] += '))'
    return '\n'.join(pad + line for line in out)


HIGH = '8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15'
JOIN = '0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23'


def halves(v, xl, xh, indent):
    pad = ' ' * indent
    return (f'{pad}(local.set ${xl} (f64x2.promote_low_f32x4 {v}))\n'
            f'{pad}(local.set ${xh} (f64x2.promote_low_f32x4 (i8x16.shuffle {HIGH} {v} {v})))')


def joined(al, ah):
    return f'(i8x16.shuffle {JOIN} (f32x4.demote_f64x2_zero {al}) (f32x4.demote_f64x2_zero {ah}))'


def map_exp():
    def loop(op, body):
        return f'''  (if (i32.eq (local.get $op) (i32.const {op}))
    (then
      (loop $l
        (local.set $v (v128.load (local.get $a)))
{body}
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br_if $l (i32.lt_u (local.get $out) (local.get $end))))
      (return)))'''
    exp_body = '\n'.join([
        halves(g('v'), 'xl', 'xh', 8),
        exp4('xl', 'xh', 'el', 'eh', 8),
        f"        (v128.store (local.get $out) {joined(g('el'), g('eh'))})",
    ])
    # sigmoid as the JavaScript helper: 1 / (1 + exp(-x)) for x >= 0, else e / (1 + e) with
    # e = exp(x); both are e = exp(-|x|).
    sig = lambda x, e: (f"(v128.bitselect (f64x2.div {c('ONE')} (f64x2.add {c('ONE')} {e})) "
                        f"(f64x2.div {e} (f64x2.add {c('ONE')} {e})) (f64x2.ge {x} {c('ZERO')}))")
    sigmoid_body = '\n'.join([
        halves(g('v'), 'yl', 'yh', 8),
        f"        (local.set $xl (f64x2.neg (f64x2.abs (local.get $yl))))",
        f"        (local.set $xh (f64x2.neg (f64x2.abs (local.get $yh))))",
        exp4('xl', 'xh', 'el', 'eh', 8),
        f"        (v128.store (local.get $out) {joined(sig(g('yl'), g('el')), sig(g('yh'), g('eh')))})",
    ])
    def per_half(f):
        return '\n'.join('        ' + line for line in f('l') + f('h'))

    # expm1 (s_expm1.c): the cases of k, then tiny |x| (x itself), x below -56 ln2 (-1, and for
    # -inf), NaN; above 89 every result exceeds the largest float32, so +inf is selected there
    # (fdlibm's overflow steps never run).
    def expm1_half(h):
        x, o = g('y' + h), g('e' + h)
        return [f'(local.set $y{h} (local.get $x{h}))'] + expm1_core(x, 'e' + h, '_' + h, True) + [
            f"(local.set $e{h} (v128.bitselect {x} {o} (f64x2.lt (f64x2.abs {x}) {c('TINY54')})))",
            f"(local.set $e{h} (v128.bitselect {c('MINUS_ONE_D')} {g('e' + h)} (f64x2.le {x} (f64x2.neg {c('BIGNEG')}))))",
            f"(local.set $e{h} (v128.bitselect {c('INF')} {g('e' + h)} (f64x2.gt {x} {c('OVER32')})))",
            f"(local.set $e{h} (v128.bitselect (f64x2.add {x} {x}) {g('e' + h)} (f64x2.ne {x} {x})))",
        ]

    # tanh (s_tanh.c) of local $<src><h> into $<dst><h>: t = expm1(2|x|), 1 - 2 / (t + 2) from
    # |x| = 1, else t = expm1(-2|x|), -t / (t + 2); the sign of x; then tiny |x| (x itself),
    # |x| >= 22 (+-1), NaN.
    def tanh_of(src, dst, h):
        x, a, o = g(src + h), f"(f64x2.abs {g(src + h)})", g(dst + h)
        big = f"(f64x2.ge {a} {c('ONE')})"
        sign = f"(v128.and {x} {c('SIGN')})"
        return [
            f"(local.set $y{h} (v128.bitselect (f64x2.add {a} {a}) (f64x2.neg (f64x2.add {a} {a})) {big}))",
        ] + expm1_core(g('y' + h), dst + h, '_' + h, False) + [
            f"(local.set ${dst}{h} (v128.bitselect (f64x2.sub {c('ONE')} (f64x2.div {c('TWO')} (f64x2.add {o} {c('TWO')}))) (f64x2.div (f64x2.neg {o}) (f64x2.add {o} {c('TWO')})) {big}))",
            f"(local.set ${dst}{h} (v128.xor {o} {sign}))",
            f"(local.set ${dst}{h} (v128.bitselect {x} {o} (f64x2.lt {a} {c('TINY')})))",
            f"(local.set ${dst}{h} (v128.bitselect (v128.or {c('ONE')} {sign}) {o} (f64x2.ge {a} {c('TWENTYTWO')})))",
            f"(local.set ${dst}{h} (v128.bitselect (f64x2.add {x} {x}) {o} (f64x2.ne {x} {x})))",
        ]

    # gelu as the JavaScript expressions: (0.5 x) (1 + erf(x sqrt(1/2))), and with the tanh
    # approximation (0.5 x) (1 + tanh(0.7978845608028654 (x + ((0.044715 x) x) x))).
    def erf_half(h):
        return erf_f64(g('x' + h), 'e' + h, '_' + h)

    def gelu_half(h):
        x = g('x' + h)
        return [f"(local.set $y{h} (f64x2.mul {x} {c('SQRT1_2')}))"] + erf_f64(g('y' + h), 'e' + h, '_' + h) + [
            f"(local.set $e{h} (f64x2.mul (f64x2.mul {c('HALF')} {x}) (f64x2.add {c('ONE')} {g('e' + h)})))",
        ]

    def gelu_tanh_half(h):
        x = g('x' + h)
        inner = f"(f64x2.mul (f64x2.mul (f64x2.mul {c('GELU_C')} {x}) {x}) {x})"
        return [f"(local.set $w{h} (f64x2.mul {c('GELU_K')} (f64x2.add {x} {inner})))"] + tanh_of('w', 'e', h) + [
            f"(local.set $e{h} (f64x2.mul (f64x2.mul {c('HALF')} {x}) (f64x2.add {c('ONE')} {g('e' + h)})))",
        ]

    store = f"        (v128.store (local.get $out) {joined(g('el'), g('eh'))})"
    body = lambda f: '\n'.join([halves(g('v'), 'xl', 'xh', 8), per_half(f), store])
    tanh_body = body(lambda h: tanh_of('x', 'e', h))
    expm1_body = body(expm1_half)
    return f''';; out[i] = op(a[i]) for n > 0 vectors through float64: op 0 exp, 1 sigmoid, 2 tanh, 3 expm1, 4 erf,
;; 5 gelu, 6 gelu with tanh (mapUnary's ops 5 to 11), each in the JavaScript loops' steps: Math's
;; (fdlibm's e_exp.c, s_tanh.c, s_expm1.c) and math.ts's erf, every case computed and each lane's
;; own selected.
(func $mapExp (param $op i32) (param $a i32) (param $out i32) (param $n i32)
  (local $end i32) (local $v v128) (local $xl v128) (local $xh v128) (local $yl v128) (local $yh v128)
  (local $el v128) (local $eh v128) (local $wl v128) (local $wh v128) (local $ex_l v128) (local $ex_h v128)
  {temps('_l')}
  {temps('_h')}
  {temps('_lx')}
  {temps('_hx')}
  (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 4))))
{loop(0, exp_body)}
{loop(1, sigmoid_body)}
{loop(2, tanh_body)}
{loop(3, expm1_body)}
{loop(4, body(erf_half))}
{loop(5, body(gelu_half))}
{loop(6, body(gelu_tanh_half))}
  (unreachable))
'''


def exp_minus(load, ml, mh):
    """el, eh = exp(v - m) of the four floats `load` reads, in float64 halves xl, xh less the
    locals ml, mh (the softmax rows' and columns' middle step)."""
    return '\n'.join([
        f'          (local.set $v {load})',
        halves(g('v'), 'xl', 'xh', 10),
        f'          (local.set $xl (f64x2.sub (local.get $xl) (local.get ${ml})))',
        f'          (local.set $xh (f64x2.sub (local.get $xh) (local.get ${mh})))',
        exp4('xl', 'xh', 'el', 'eh', 10),
    ])


# Stores w at out row q's vector j: whole, or the lanes left in the row.
STORE = ('(if (i32.le_u (i32.add (local.get $j) (i32.const 4)) (local.get $n)) '
         '(then (v128.store (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 2))) (local.get $w))) '
         '(else (call $storeLanes (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 2))) (local.get $w) (i32.sub (local.get $n) (local.get $j)))))')


def softmax_rows():
    # exp(x - m) of the row's vector at p + 4 j (lanes past the row read what follows it: the
    # next row, or the staged stretch's padding; they are neither summed nor stored).
    diff = exp_minus('(v128.load (i32.add (local.get $p) (i32.shl (local.get $j) (i32.const 2))))', 'mv', 'mv')
    add = lambda lane: (f'          (if (i32.lt_u (i32.add (local.get $j) (i32.const {lane})) (local.get $n)) '
                        f'(then (local.set $s (f64.add (local.get $s) (f64x2.extract_lane {lane % 2} '
                        f'(local.get ${"el" if lane < 2 else "eh"}))))))')
    return f''';; The softmax family over rows r0 <= r < r1 of n > 0 floats at x (row r at x + 4 n r), with the
;; steps and order of softmax-block.ts (float64, exp as Math.exp, sums in row order), so the same
;; bits:
;;   code 0: softmax into out: m = row max, s = sum of e = exp(x - m), then e / s, the row's e
;;           kept in float64 at stats (room for n + 3 values: the last vector's lanes);
;;   code 2: m and s of each row into stats (two float64 a row) for logSoftmax and logSumExp;
;;   code 1: logSoftmax into out from stats holding m and log(s): (x - m) - log(s).
;; Stores never pass a row's end (the next row may be another thread's).
(func (export "softmaxRows") (param $code i32) (param $x i32) (param $out i32) (param $n i32) (param $stats i32) (param $r0 i32) (param $r1 i32)
  (local $r i32) (local $p i32) (local $q i32) (local $j i32) (local $m f64) (local $s f64) (local $v v128)
  (local $mv v128) (local $sv v128) (local $xl v128) (local $xh v128) (local $el v128) (local $eh v128) (local $w v128)
  {temps('_l')}
  {temps('_h')}
  (local.set $r (local.get $r0))
  (loop $rows
    (local.set $p (i32.add (local.get $x) (i32.mul (local.get $r) (i32.shl (local.get $n) (i32.const 2)))))
    (local.set $q (i32.add (local.get $out) (i32.mul (local.get $r) (i32.shl (local.get $n) (i32.const 2)))))
    (local.set $j (i32.const 0))
    (if (i32.eq (local.get $code) (i32.const 1))
      (then
        (local.set $mv (v128.load64_splat (i32.add (local.get $stats) (i32.shl (local.get $r) (i32.const 4)))))
        (local.set $sv (v128.load64_splat offset=8 (i32.add (local.get $stats) (i32.shl (local.get $r) (i32.const 4)))))
        (loop $l
          (local.set $v (v128.load (i32.add (local.get $p) (i32.shl (local.get $j) (i32.const 2)))))
{halves(g('v'), 'xl', 'xh', 10)}
          (local.set $w {joined("(f64x2.sub (f64x2.sub (local.get $xl) (local.get $mv)) (local.get $sv))", "(f64x2.sub (f64x2.sub (local.get $xh) (local.get $mv)) (local.get $sv))")})
          {STORE}
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br_if $l (i32.lt_u (local.get $j) (local.get $n)))))
      (else
        (local.set $m (call $rowMax (local.get $p) (local.get $n)))
        (local.set $mv (f64x2.splat (local.get $m)))
        (local.set $s (f64.const 0))
        (loop $l
{diff}
          (if (i32.le_u (i32.add (local.get $j) (i32.const 4)) (local.get $n))
            (then
              (local.set $s (f64.add (f64.add (f64.add (f64.add (local.get $s)
                (f64x2.extract_lane 0 (local.get $el))) (f64x2.extract_lane 1 (local.get $el)))
                (f64x2.extract_lane 0 (local.get $eh))) (f64x2.extract_lane 1 (local.get $eh)))))
            (else
  {add(0)}
  {add(1)}
  {add(2)}))
          (if (i32.eqz (local.get $code))
            (then
              (v128.store (i32.add (local.get $stats) (i32.shl (local.get $j) (i32.const 3))) (local.get $el))
              (v128.store offset=16 (i32.add (local.get $stats) (i32.shl (local.get $j) (i32.const 3))) (local.get $eh))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br_if $l (i32.lt_u (local.get $j) (local.get $n))))
        (if (i32.eq (local.get $code) (i32.const 2))
          (then
            (f64.store (i32.add (local.get $stats) (i32.shl (local.get $r) (i32.const 4))) (local.get $m))
            (f64.store offset=8 (i32.add (local.get $stats) (i32.shl (local.get $r) (i32.const 4))) (local.get $s)))
          (else
            (local.set $sv (f64x2.splat (local.get $s)))
            (local.set $j (i32.const 0))
            (loop $l
              (local.set $el (v128.load (i32.add (local.get $stats) (i32.shl (local.get $j) (i32.const 3)))))
              (local.set $eh (v128.load offset=16 (i32.add (local.get $stats) (i32.shl (local.get $j) (i32.const 3)))))
              (local.set $w {joined("(f64x2.div (local.get $el) (local.get $sv))", "(f64x2.div (local.get $eh) (local.get $sv))")})
              {STORE}
              (local.set $j (i32.add (local.get $j) (i32.const 4)))
              (br_if $l (i32.lt_u (local.get $j) (local.get $n))))))))
    (local.set $r (i32.add (local.get $r) (i32.const 1)))
    (br_if $rows (i32.lt_u (local.get $r) (local.get $r1)))))
'''


# Stores the lanes of $w below column i1 at $q (four, or the first i1 - i).
COL_STORE = ('(if (i32.le_u (i32.add (local.get $i) (i32.const 4)) (local.get $i1)) '
             '(then (v128.store (local.get $q) (local.get $w))) '
             '(else (call $storeLanes (local.get $q) (local.get $w) (i32.sub (local.get $i1) (local.get $i)))))')


def softmax_cols():
    # exp(x - m) of four columns' values in row j (lanes past the block read other columns or
    # what follows the input; they are neither summed nor stored).
    diff = exp_minus('(v128.load (local.get $p))', 'ml', 'mh')
    sub_log = joined("(f64x2.sub (f64x2.sub (local.get $xl) (local.get $ml)) (local.get $sl))",
                     "(f64x2.sub (f64x2.sub (local.get $xh) (local.get $mh)) (local.get $sh))")
    ratio = joined("(f64x2.div (v128.load (i32.add (local.get $stats) (i32.shl (local.get $j) (i32.const 5)))) (local.get $sl))",
                   "(f64x2.div (v128.load offset=16 (i32.add (local.get $stats) (i32.shl (local.get $j) (i32.const 5)))) (local.get $sh))")
    return f''';; The softmax family along the middle axis of [outer][n][inner] floats at x (inner > 1), four
;; columns a step, each lane the steps and order of softmax-block.ts down its own column (float64,
;; exp as Math.exp, sums in axis order), so the same bits; rows a0 <= a < a1, columns i0 <= i < i1:
;;   code 0: softmax into out, the four columns' e = exp(x - m) kept in float64 at stats (4 n);
;;   code 2: each column's m and s: m at stats + 8 c, s at sOff + 8 c, for column c = a inner + i
;;           (logSoftmax and logSumExp);
;;   code 1: logSoftmax into out from stats holding m and log(s) so: (x - m) - log(s).
;; Stores never pass column i1 (the next columns may be another thread's).
(func (export "softmaxCols") (param $code i32) (param $x i32) (param $out i32) (param $n i32) (param $inner i32)
    (param $stats i32) (param $sOff i32) (param $a0 i32) (param $a1 i32) (param $i0 i32) (param $i1 i32)
  (local $a i32) (local $i i32) (local $j i32) (local $p i32) (local $q i32) (local $row i32) (local $c i32)
  (local $v v128) (local $mv v128) (local $ml v128) (local $mh v128) (local $sl v128) (local $sh v128)
  (local $xl v128) (local $xh v128) (local $el v128) (local $eh v128) (local $w v128)
  {temps('_l')}
  {temps('_h')}
  (local.set $row (i32.shl (local.get $inner) (i32.const 2)))
  (local.set $a (local.get $a0))
  (loop $rows
    (local.set $i (local.get $i0))
    (loop $cols
      (local.set $c (i32.add (i32.mul (local.get $a) (local.get $inner)) (local.get $i)))
      (local.set $p (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (i32.mul (local.get $a) (local.get $n)) (local.get $inner)) (local.get $i)) (i32.const 2))))
      (local.set $q (i32.add (local.get $out) (i32.sub (local.get $p) (local.get $x))))
      (local.set $j (i32.const 0))
      (if (i32.eq (local.get $code) (i32.const 1))
        (then
          (local.set $ml (v128.load (i32.add (local.get $stats) (i32.shl (local.get $c) (i32.const 3)))))
          (local.set $mh (v128.load offset=16 (i32.add (local.get $stats) (i32.shl (local.get $c) (i32.const 3)))))
          (local.set $sl (v128.load (i32.add (local.get $sOff) (i32.shl (local.get $c) (i32.const 3)))))
          (local.set $sh (v128.load offset=16 (i32.add (local.get $sOff) (i32.shl (local.get $c) (i32.const 3)))))
          (loop $l
            (local.set $v (v128.load (local.get $p)))
{halves(g('v'), 'xl', 'xh', 12)}
            (local.set $w {sub_log})
            {COL_STORE}
            (local.set $p (i32.add (local.get $p) (local.get $row)))
            (local.set $q (i32.add (local.get $q) (local.get $row)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br_if $l (i32.lt_u (local.get $j) (local.get $n)))))
        (else
          ;; m: the column max (NaN wins; the sign of a zero never shows, as in rowMax)
          ;; (pmax, one x86 instruction, with NaN seen apart: f32x4.max takes several)
          (local.set $mv (v128.const i32x4 0xff800000 0xff800000 0xff800000 0xff800000))
          (local.set $sl (v128.const i64x2 0 0))
          (loop $l
            (local.set $v (v128.load (local.get $p)))
            (local.set $mv (f32x4.pmax (local.get $mv) (local.get $v)))
            (local.set $sl (v128.or (local.get $sl) (f32x4.ne (local.get $v) (local.get $v))))
            (local.set $p (i32.add (local.get $p) (local.get $row)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br_if $l (i32.lt_u (local.get $j) (local.get $n))))
          (local.set $mv (v128.bitselect (v128.const i32x4 0x7fc00000 0x7fc00000 0x7fc00000 0x7fc00000) (local.get $mv) (local.get $sl)))
{halves(g('mv'), 'ml', 'mh', 10)}
          (local.set $p (i32.sub (local.get $p) (i32.mul (local.get $n) (local.get $row))))
          (local.set $sl (v128.const i64x2 0 0))
          (local.set $sh (v128.const i64x2 0 0))
          (local.set $j (i32.const 0))
          (loop $l
{diff}
            (local.set $sl (f64x2.add (local.get $sl) (local.get $el)))
            (local.set $sh (f64x2.add (local.get $sh) (local.get $eh)))
            (if (i32.eqz (local.get $code))
              (then
                (v128.store (i32.add (local.get $stats) (i32.shl (local.get $j) (i32.const 5))) (local.get $el))
                (v128.store offset=16 (i32.add (local.get $stats) (i32.shl (local.get $j) (i32.const 5))) (local.get $eh))))
            (local.set $p (i32.add (local.get $p) (local.get $row)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br_if $l (i32.lt_u (local.get $j) (local.get $n))))
          (if (i32.eq (local.get $code) (i32.const 2))
            (then
              (call $storeColumnStats (i32.add (local.get $stats) (i32.shl (local.get $c) (i32.const 3))) (local.get $ml) (local.get $mh) (i32.sub (local.get $i1) (local.get $i)))
              (call $storeColumnStats (i32.add (local.get $sOff) (i32.shl (local.get $c) (i32.const 3))) (local.get $sl) (local.get $sh) (i32.sub (local.get $i1) (local.get $i))))
            (else
              (local.set $j (i32.const 0))
              (loop $l
                (local.set $w {ratio})
                {COL_STORE}
                (local.set $q (i32.add (local.get $q) (local.get $row)))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br_if $l (i32.lt_u (local.get $j) (local.get $n))))))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br_if $cols (i32.lt_u (local.get $i) (local.get $i1))))
    (local.set $a (i32.add (local.get $a) (i32.const 1)))
    (br_if $rows (i32.lt_u (local.get $a) (local.get $a1)))))

;; The first `left` (1 to 4) float64 lanes of lo, hi at p.
(func $storeColumnStats (param $p i32) (param $lo v128) (param $hi v128) (param $left i32)
  (f64.store (local.get $p) (f64x2.extract_lane 0 (local.get $lo)))
  (if (i32.ge_u (local.get $left) (i32.const 2)) (then (f64.store offset=8 (local.get $p) (f64x2.extract_lane 1 (local.get $lo)))))
  (if (i32.ge_u (local.get $left) (i32.const 3)) (then (f64.store offset=16 (local.get $p) (f64x2.extract_lane 0 (local.get $hi)))))
  (if (i32.ge_u (local.get $left) (i32.const 4)) (then (f64.store offset=24 (local.get $p) (f64x2.extract_lane 1 (local.get $hi))))))
'''


HELPERS = ''';; The maximum of n > 0 floats at p: a NaN if there is one, else the largest value ($maxRun, by
;; the reductions). (The JavaScript loop keeps the first met of -0 and +0, $maxRun either; the sign
;; never shows: a row holding both has s >= 2, so log(s) > 0 in logSoftmax's (x - m) - log(s) and
;; logSumExp's m + log(s).)
(func $rowMax (param $p i32) (param $n i32) (result f64)
  (f64.promote_f32 (call $maxRun (local.get $p) (local.get $n) (v128.const i32x4 0 0 0 0))))

;; Stores the first left (1 to 3) floats of v at p: a row's last vector.
(func $storeLanes (param $p i32) (param $v v128) (param $left i32)
  (v128.store32_lane 0 (local.get $p) (local.get $v))
  (if (i32.ge_u (local.get $left) (i32.const 2)) (then (v128.store32_lane offset=4 1 (local.get $p) (local.get $v))))
  (if (i32.ge_u (local.get $left) (i32.const 3)) (then (v128.store32_lane offset=8 2 (local.get $p) (local.get $v)))))
'''


def generate():
    return '\n'.join([BEGIN, HELPERS, map_exp(), softmax_rows(), softmax_cols(), END])


def main():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'packages', 'tensor', 'src', 'cpu', 'wasm', 'gemm.wat')
    with open(path) as f:
        text = f.read()
    if BEGIN in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip('\n')
    else:
        head, tail = text.split(WINOGRAD, 1)
        tail = WINOGRAD + tail
    new = head + generate() + '\n\n' + tail
    if '--check' in sys.argv:
        if new != text:
            sys.exit('gemm.wat: the exp kernels are stale; run python3 tools/gen-exp-wat.py')
        return
    with open(path, 'w') as f:
        f.write(new)


main()
