#!/usr/bin/env python3
"""Writes the Winograd F(2x2, 3x3) kernels at the end of packages/tensor/src/cpu/wasm/gemm.wat.

wgInput, wgOutput, wgForward and wgGrad unroll the 16 positions of the transformed 4x4 tile and
the 4x4 transposes, so their WAT is written by this script (they share gemm.wat's module: the
forward calls $gemm and $putLanes). Everything after MARKER in gemm.wat is this script's output;
edit here, then run `python3 tools/gen-winograd-wat.py && pnpm gen:wasm`. `--check` (CI) only
compares.
"""
import os
import sys

MARKER = ';; ---- From here to the end of the module: written by tools/gen-winograd-wat.py ----'
L = []


def e(s=''):
    L.append(s)


def g(n):
    return f'(local.get ${n})'


def shuf(lanes, a, b):
    """i8x16.shuffle taking float lanes `lanes` (0-3 from a, 4-7 from b)."""
    bs = ' '.join(str(4 * l + k) for l in lanes for k in range(4))
    return f'(i8x16.shuffle {bs} {g(a)} {g(b)})'


def transpose_store(src_addr, dst_addr, indent):
    """Loads 4 vectors at src_addr(k) and stores the rows of their 4x4 transpose at dst_addr(i)."""
    out = []
    for k in range(4):
        out.append(f'(local.set $a{k} (v128.load {src_addr(k)}))')
    out.append(f"(local.set $t0 {shuf([0,4,1,5],'a0','a1')})")
    out.append(f"(local.set $t1 {shuf([2,6,3,7],'a0','a1')})")
    out.append(f"(local.set $t2 {shuf([0,4,1,5],'a2','a3')})")
    out.append(f"(local.set $t3 {shuf([2,6,3,7],'a2','a3')})")
    for i, (x, y, lo) in enumerate([('t0','t2',True),('t0','t2',False),('t1','t3',True),('t1','t3',False)]):
        out.append(f"(v128.store {dst_addr(i)} {shuf([0,1,4,5] if lo else [2,3,6,7], x, y)})")
    return '\n'.join(indent + l for l in out)


def add(a, b):
    return f'(f32x4.add {a} {b})'


def sub(a, b):
    return f'(f32x4.sub {a} {b})'


def open_tile_loops(t_init):
    """The loops wgInput and wgGrad share: tile rows r0..r1, channel blocks of $cb, groups of 4
    tiles ($t starts at t_init), channels of the block; ends inside the channel loop."""
    return f'''  (block $rdone (loop $rloop
    (br_if $rdone (i32.ge_s (local.get $r0) (local.get $r1)))
    (local.set $n (i32.div_u (local.get $r0) (local.get $TH)))
    (local.set $ty (i32.rem_u (local.get $r0) (local.get $TH)))
    (local.set $c0 (i32.const 0))
    (block $bdone (loop $bloop
    (br_if $bdone (i32.ge_s (local.get $c0) (local.get $C)))
    (local.set $c1 (i32.add (local.get $c0) (local.get $cb)))
    (if (i32.gt_s (local.get $c1) (local.get $C)) (then (local.set $c1 (local.get $C))))
    (local.set $t {t_init})
    (local.set $gx (i32.const 0))
    (block $gdone (loop $gloop
      (br_if $gdone (i32.ge_s (local.get $gx) (local.get $TW4)))
      (local.set $c (local.get $c0))
      (block $cdone (loop $cloop
        (br_if $cdone (i32.ge_s (local.get $c) (local.get $c1)))'''


# Closes the group, channel-block and row loops of open_tile_loops (after the channel loop).
CLOSE_TILE_LOOPS = '''      (local.set $t (i32.add (local.get $t) (i32.const 4)))
      (local.set $gx (i32.add (local.get $gx) (i32.const 4)))
      (br $gloop)))
    (local.set $c0 (local.get $c1))
    (br $bloop)))
    (local.set $r0 (i32.add (local.get $r0) (i32.const 1)))
    (br $rloop))))'''

# ---------------- input transform ----------------
e(''';; Winograd F(2x2, 3x3) convolution (conv-winograd.ts): a 3x3 stride-1 convolution as 16
;; products of [channels x tiles] matrices, one per position xi = 4i + j of the transformed 4x4
;; tile, with 16 multiplies per 2x2 outputs and input channel where the direct sum takes 36.
;; Tiles t = (n, ty, tx) cover outputs 2ty..2ty+1, 2tx..2tx+1; tx runs to TW4 (a multiple of 4), so
;; the kernels move four horizontally adjacent tiles per vector (tiles past the output compute
;; values nobody stores, or read zeros in the weight gradient).

;; V = B^T d B for the tiles of tile rows [r0, r1) (r = n*TH + ty) and every channel c of the
;; staged input (rows padded as padRows writes them: [N][C][Hp][Wp]; tile (ty, tx) reads rows
;; 2ty..2ty+3, columns 2tx..2tx+3). Position xi of (c, t), t counted from tile tBase, goes to
;; dst + xi*xiBytes + ((t >> 3)*C + c)*32 + (t & 7)*4 (wgrad = 0: gemm B panels for the forward)
;; or ((c >> 2)*T + t)*16 + (c & 3)*4 (wgrad = 1: gemm A panels for the weight gradient; blocks of
;; 4 channels' vectors go to `scr`, 1 KiB per item, and are transposed from there: per-lane stores
;; took 3x as long). Channels are the inner loop (by blocks of 4 for the weight gradient), so the
;; stores of a 4-tile group fill whole cache lines of each position's block while they are in
;; cache (a loop over planes wrote half lines 1 KiB apart and took 3-4x as long). Per row of a
;; group: three vector loads, even and odd lanes give columns 0 and 1, shifted ones 2 and 3; d B per
;; row, then B^T combines the rows.
(func $wgInput (export "wgInput")
  (param $src i32) (param $dst i32) (param $r0 i32) (param $r1 i32) (param $C i32) (param $TH i32) (param $TW4 i32)
  (param $Hp i32) (param $Wp i32) (param $T i32) (param $xiBytes i32) (param $wgrad i32) (param $scr i32) (param $tBase i32)
  (local $n i32) (local $ty i32) (local $gx i32) (local $row i32) (local $t i32) (local $c i32) (local $c0 i32) (local $c1 i32) (local $cb i32) (local $at i32) (local $p i32)
  (local $a v128) (local $b v128) (local $cc v128) (local $e0 v128) (local $o0 v128) (local $e1 v128) (local $o1 v128)
  (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
  (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)''')
for r in range(4):
    e('  ' + ' '.join(f'(local $w{r}{j} v128)' for j in range(4)))
e('''  ;; channels by blocks of 4 (weight gradient: one A panel's lanes) or all at once
  (local.set $cb (select (i32.const 4) (local.get $C) (local.get $wgrad)))
''' + open_tile_loops('(i32.sub (i32.mul (local.get $r0) (local.get $TW4)) (local.get $tBase))') + '''
        (local.set $row (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $n) (local.get $C)) (local.get $c)) (local.get $Hp))
          (i32.shl (local.get $ty) (i32.const 1))) (local.get $Wp)) (i32.shl (local.get $gx) (i32.const 1))) (i32.const 2))))''')
def load_row(r):
    e(f'''        ;; row {r}: d B
        (local.set $a (v128.load offset={0} (local.get $row)))
        (local.set $b (v128.load offset={16} (local.get $row)))
        (local.set $cc (v128.load offset={32} (local.get $row)))
        (local.set $e0 {shuf([0,2,4,6],'a','b')})
        (local.set $o0 {shuf([1,3,5,7],'a','b')})
        (local.set $e1 {shuf([0,2,4,6],'b','cc')})
        (local.set $o1 {shuf([1,3,5,7],'b','cc')})
        (local.set $x2 {shuf([1,2,3,6],'e0','e1')})
        (local.set $x3 {shuf([1,2,3,6],'o0','o1')})
        (local.set $w{r}0 (f32x4.sub {g('e0')} {g('x2')}))
        (local.set $w{r}1 (f32x4.add {g('o0')} {g('x2')}))
        (local.set $w{r}2 (f32x4.sub {g('x2')} {g('o0')}))
        (local.set $w{r}3 (f32x4.sub {g('o0')} {g('x3')}))
        (local.set $row (i32.add (local.get $row) (i32.shl (local.get $Wp) (i32.const 2))))''')
for r in range(4): load_row(r)
e('''        ;; where position (c, t) goes in the position-0 block
        (local.set $at (i32.add (local.get $dst) (select
          (i32.add (i32.shl (i32.add (i32.mul (i32.shr_u (local.get $c) (i32.const 2)) (local.get $T)) (local.get $t)) (i32.const 4))
            (i32.shl (i32.and (local.get $c) (i32.const 3)) (i32.const 2)))
          (i32.add (i32.shl (i32.add (i32.mul (i32.shr_u (local.get $t) (i32.const 3)) (local.get $C)) (local.get $c)) (i32.const 5))
            (i32.shl (i32.and (local.get $t) (i32.const 7)) (i32.const 2)))
          (local.get $wgrad))))''')
# V rows: V0 = w0 - w2, V1 = w1 + w2, V2 = w2 - w1, V3 = w1 - w3
rows = {0: ('sub', 0, 2), 1: ('add', 1, 2), 2: ('sub', 2, 1), 3: ('sub', 1, 3)}
e('        (if (local.get $wgrad)\n          (then')
e('            ;; to the scratch: channel (c - c0), position xi at scr + ((c - c0)*16 + xi)*16')
e('            (local.set $p (i32.add (local.get $scr) (i32.shl (i32.sub (local.get $c) (local.get $c0)) (i32.const 8))))')


def store_v(address):
    """Stores the 16 positions of V, position xi at address(xi)."""
    for i in range(4):
        op, a, b = rows[i]
        for j in range(4):
            e(f'            (v128.store {address(4 * i + j)} (f32x4.{op} {g(f"w{a}{j}")} {g(f"w{b}{j}")}))')


store_v(lambda xi: f'offset={16 * xi} (local.get $p)')
e('          )\n          (else')
store_v(lambda xi: f'(i32.add (local.get $at) (i32.mul (local.get $xiBytes) (i32.const {xi})))')
e('          ))')
e('''        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $cloop)))
      ;; weight gradient: each position's 4 channels x 4 tiles, transposed into the A panels
      (if (local.get $wgrad)
        (then
          (local.set $at (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (i32.shr_u (local.get $c0) (i32.const 2)) (local.get $T)) (local.get $t)) (i32.const 4))))''')
for xi in range(16):
    e(f'          (local.set $p (i32.add (local.get $at) (i32.mul (local.get $xiBytes) (i32.const {xi}))))')
    e(transpose_store(lambda k, xi=xi: f'offset={(k*16+xi)*16} (local.get $scr)', lambda i: f'offset={16*i} (local.get $p)', '          '))
e('''        ))
''' + CLOSE_TILE_LOOPS + '''
''')

def store_row(a, b, indent):
    """Stores the output row interleaved from a and b at $out: 8 values, or the $left that remain."""
    i = ' ' * indent
    lo, hi = shuf([0, 4, 1, 5], a, b), shuf([2, 6, 3, 7], a, b)
    return f"""{i}(if (i32.ge_s (local.get $left) (i32.const 8))
{i}  (then
{i}    (v128.store offset=0 (local.get $out) {lo})
{i}    (v128.store offset=16 (local.get $out) {hi}))
{i}  (else
{i}    (call $putLanes (local.get $out) {lo} (local.get $left))
{i}    (if (i32.gt_s (local.get $left) (i32.const 4))
{i}      (then (call $putLanes (i32.add (local.get $out) (i32.const 16)) {hi} (i32.sub (local.get $left) (i32.const 4)))))))"""


# ---------------- output transform ----------------
e(''';; Y = A^T M A + bias for tile rows [r0, r1) (r = n*TH + ty) and every channel co into the
;; output [N][C][OH][OW] at y: M at position xi of (co, t) is m + xi*xiBytes + (co*ldm + t - tBase)*4
;; (the products, rows of ldm tiles). Four tiles per vector; their 2x2 outputs are interleaved into
;; two rows of 8 (fewer where a row ends: OW or OH cut the last tiles). Channels are the outer
;; loop, so each output plane is written as one run: with channels inner, 64 planes written 256
;; bytes at a time took 3x as long (more write streams than the prefetcher follows).
(func $wgOutput (export "wgOutput")
  (param $m i32) (param $bias i32) (param $y i32) (param $r0 i32) (param $r1 i32) (param $C i32) (param $TH i32) (param $TW4 i32)
  (param $OH i32) (param $OW i32) (param $ldm i32) (param $xiBytes i32) (param $tBase i32)
  (local $r i32) (local $n i32) (local $ty i32) (local $co i32) (local $gx i32) (local $t i32) (local $at i32) (local $out i32) (local $left i32) (local $bv v128)
  (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128)
  (local $s00 v128) (local $s01 v128) (local $s02 v128) (local $s03 v128) (local $s10 v128) (local $s11 v128) (local $s12 v128) (local $s13 v128)
  (local $y00 v128) (local $y01 v128) (local $y10 v128) (local $y11 v128)
  (block $cdone (loop $cloop
    (br_if $cdone (i32.ge_s (local.get $co) (local.get $C)))
    (local.set $bv (v128.load32_splat (i32.add (local.get $bias) (i32.shl (local.get $co) (i32.const 2)))))
    (local.set $r (local.get $r0))
    (block $rdone (loop $rloop
      (br_if $rdone (i32.ge_s (local.get $r) (local.get $r1)))
      (local.set $n (i32.div_u (local.get $r) (local.get $TH)))
      (local.set $ty (i32.rem_u (local.get $r) (local.get $TH)))
      (local.set $t (i32.sub (i32.mul (local.get $r) (local.get $TW4)) (local.get $tBase)))
      (local.set $gx (i32.const 0))
      (block $gdone (loop $gloop
        (br_if $gdone (i32.ge_s (local.get $gx) (local.get $TW4)))
        ;; groups past the output's width (TW4 > TW) have nothing to store
        (br_if $gdone (i32.le_s (local.get $OW) (i32.shl (local.get $gx) (i32.const 1))))
        (local.set $at (i32.add (local.get $m) (i32.shl (i32.add (i32.mul (local.get $co) (local.get $ldm)) (local.get $t)) (i32.const 2))))''')
for j in range(4):
    for i in range(4):
        e(f'        (local.set $m{i} (v128.load (i32.add (local.get $at) (i32.mul (local.get $xiBytes) (i32.const {4*i+j})))))')
    e(f'        (local.set $s0{j} (f32x4.add (f32x4.add {g("m0")} {g("m1")}) {g("m2")}))')
    e(f'        (local.set $s1{j} (f32x4.sub (f32x4.sub {g("m1")} {g("m2")}) {g("m3")}))')
e(f'''        (local.set $y00 (f32x4.add (f32x4.add (f32x4.add {g("s00")} {g("s01")}) {g("s02")}) {g("bv")}))
        (local.set $y01 (f32x4.add (f32x4.sub (f32x4.sub {g("s01")} {g("s02")}) {g("s03")}) {g("bv")}))
        (local.set $y10 (f32x4.add (f32x4.add (f32x4.add {g("s10")} {g("s11")}) {g("s12")}) {g("bv")}))
        (local.set $y11 (f32x4.add (f32x4.sub (f32x4.sub {g("s11")} {g("s12")}) {g("s13")}) {g("bv")}))
        (local.set $left (i32.sub (local.get $OW) (i32.shl (local.get $gx) (i32.const 1))))
        (local.set $out (i32.add (local.get $y) (i32.shl (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $n) (local.get $C)) (local.get $co)) (local.get $OH))
          (i32.shl (local.get $ty) (i32.const 1))) (local.get $OW)) (i32.shl (local.get $gx) (i32.const 1))) (i32.const 2))))
{store_row('y00', 'y01', 8)}
        (if (i32.lt_s (i32.add (i32.shl (local.get $ty) (i32.const 1)) (i32.const 1)) (local.get $OH))
          (then
            (local.set $out (i32.add (local.get $out) (i32.shl (local.get $OW) (i32.const 2))))
{store_row('y10', 'y11', 12)}))
        (local.set $t (i32.add (local.get $t) (i32.const 4)))
        (local.set $gx (i32.add (local.get $gx) (i32.const 4)))
        (br $gloop)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rloop)))
    (local.set $co (i32.add (local.get $co) (i32.const 1)))
    (br $cloop))))

;; The forward convolution for tile rows [r0, r1), by blocks of `rows` tile rows small enough for
;; their transformed input and products to stay in cache (vs, ms: this item's scratch, positions
;; vXi and mXi bytes apart): per block, V = B^T d B (wgInput), the 16 products M_xi = U_xi V_xi
;; (gemm; U at u, Cp x Cin per position, as A panels), then Y = A^T M A + bias (wgOutput). One
;; pass over memory where three separate passes wrote and read V and M (16 values per tile and
;; channel) through it.
(func (export "wgForward")
  (param $src i32) (param $u i32) (param $bias i32) (param $y i32) (param $r0 i32) (param $r1 i32) (param $rows i32)
  (param $vs i32) (param $ms i32) (param $Cin i32) (param $Cout i32) (param $Cp i32) (param $TH i32) (param $TW4 i32)
  (param $Hp i32) (param $Wp i32) (param $OH i32) (param $OW i32) (param $vXi i32) (param $mXi i32)
  (local $b1 i32) (local $np i32) (local $xi i32)
  (block $done (loop $block
    (br_if $done (i32.ge_s (local.get $r0) (local.get $r1)))
    (local.set $b1 (i32.add (local.get $r0) (local.get $rows)))
    (if (i32.gt_s (local.get $b1) (local.get $r1)) (then (local.set $b1 (local.get $r1))))
    ;; the block's tiles, rounded up to whole 8-column panels (the extra columns are not read)
    (local.set $np (i32.and (i32.add (i32.mul (i32.sub (local.get $b1) (local.get $r0)) (local.get $TW4)) (i32.const 7)) (i32.const -8)))
    (call $wgInput (local.get $src) (local.get $vs) (local.get $r0) (local.get $b1) (local.get $Cin) (local.get $TH) (local.get $TW4)
      (local.get $Hp) (local.get $Wp) (i32.const 0) (local.get $vXi) (i32.const 0) (i32.const 0) (i32.mul (local.get $r0) (local.get $TW4)))
    (local.set $xi (i32.const 0))
    (loop $products
      (call $gemm
        (i32.add (local.get $u) (i32.shl (i32.mul (local.get $xi) (i32.mul (local.get $Cp) (local.get $Cin))) (i32.const 2)))
        (i32.add (local.get $vs) (i32.mul (local.get $xi) (local.get $vXi)))
        (i32.add (local.get $ms) (i32.mul (local.get $xi) (local.get $mXi)))
        (local.get $Cp) (local.get $np) (local.get $Cin) (i32.const 256) (local.get $np))
      (local.set $xi (i32.add (local.get $xi) (i32.const 1)))
      (br_if $products (i32.lt_s (local.get $xi) (i32.const 16))))
    (call $wgOutput (local.get $ms) (local.get $bias) (local.get $y) (local.get $r0) (local.get $b1) (local.get $Cout) (local.get $TH) (local.get $TW4)
      (local.get $OH) (local.get $OW) (local.get $np) (local.get $mXi) (i32.mul (local.get $r0) (local.get $TW4)))
    (local.set $r0 (local.get $b1))
    (br $block))))
''')

e(''';; E = A dY A^T (4x4 from a 2x2 tile of the output gradient) for tile rows [r0, r1) and every
;; channel co of dY staged as [N][C][2TH][2TW4] (zeros past OH and OW): position xi of (co, t) goes
;; to dst + xi*xiBytes + ((co >> 3)*T + t)*32 + (co & 7)*4, gemm B panels over the tiles. Channels
;; are the inner loop by blocks of 8, whose vectors go to `scr` (2 KiB per item) and are transposed
;; from there into the panels.
(func (export "wgGrad")
  (param $src i32) (param $dst i32) (param $r0 i32) (param $r1 i32) (param $C i32) (param $TH i32) (param $TW4 i32)
  (param $T i32) (param $xiBytes i32) (param $scr i32)
  (local $n i32) (local $ty i32) (local $gx i32) (local $row i32) (local $t i32) (local $c i32) (local $c0 i32) (local $c1 i32) (local $cb i32) (local $at i32) (local $p i32) (local $rowBytes i32)
  (local $a v128) (local $b v128) (local $d00 v128) (local $d01 v128) (local $d10 v128) (local $d11 v128) (local $v v128)
  (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)''')
e('  ' + ' '.join(f'(local $q{i}{j} v128)' for i in range(4) for j in range(2)))
e('''  (local.set $rowBytes (i32.shl (local.get $TW4) (i32.const 3)))
  ;; channels by blocks of 8 (one B panel's lanes)
  (local.set $cb (i32.const 8))
''' + open_tile_loops('(i32.mul (local.get $r0) (local.get $TW4))') + '''
        ;; plane (n, c), rows 2ty and 2ty + 1 of 2*TW4 values, from column 2gx
        (local.set $p (i32.add (i32.add (local.get $src) (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $n) (local.get $C)) (local.get $c))
          (i32.shl (local.get $TH) (i32.const 1))) (i32.shl (local.get $ty) (i32.const 1))) (local.get $rowBytes)))
          (i32.shl (local.get $gx) (i32.const 3))))
        (local.set $a (v128.load offset=0 (local.get $p)))
        (local.set $b (v128.load offset=16 (local.get $p)))''')
e(f'''        (local.set $d00 {shuf([0,2,4,6],'a','b')})
        (local.set $d01 {shuf([1,3,5,7],'a','b')})
        (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
        (local.set $a (v128.load offset=0 (local.get $p)))
        (local.set $b (v128.load offset=16 (local.get $p)))
        (local.set $d10 {shuf([0,2,4,6],'a','b')})
        (local.set $d11 {shuf([1,3,5,7],'a','b')})''')
# rows: q0 = d0, q1 = d0 + d1, q2 = d0 - d1, q3 = -d1 (per column b)
for bcol in range(2):
    e(f'        (local.set $q0{bcol} {g(f"d0{bcol}")})')
    e(f'        (local.set $q1{bcol} (f32x4.add {g(f"d0{bcol}")} {g(f"d1{bcol}")}))')
    e(f'        (local.set $q2{bcol} (f32x4.sub {g(f"d0{bcol}")} {g(f"d1{bcol}")}))')
    e(f'        (local.set $q3{bcol} (f32x4.neg {g(f"d1{bcol}")}))')
e('        (local.set $p (i32.add (local.get $scr) (i32.shl (i32.sub (local.get $c) (local.get $c0)) (i32.const 8))))')
for i in range(4):
    cols = [g(f'q{i}0'), add(g(f'q{i}0'), g(f'q{i}1')), sub(g(f'q{i}0'), g(f'q{i}1')), f'(f32x4.neg {g(f"q{i}1")})']
    for j in range(4):
        xi = 4 * i + j
        e(f'        (v128.store offset={16*xi} (local.get $p) {cols[j]})')
e('''        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $cloop)))
      ;; each position's 8 channels x 4 tiles, transposed (two 4x4 blocks) into the B panels
      (local.set $at (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (i32.shr_u (local.get $c0) (i32.const 3)) (local.get $T)) (local.get $t)) (i32.const 5))))''')
for xi in range(16):
    e(f'      (local.set $p (i32.add (local.get $at) (i32.mul (local.get $xiBytes) (i32.const {xi}))))')
    for h in range(2):
        e(transpose_store(lambda k, xi=xi, h=h: f'offset={((4*h+k)*16+xi)*16} (local.get $scr)', lambda i, h=h: f'offset={32*i+16*h} (local.get $p)', '      '))
e(CLOSE_TILE_LOOPS)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'packages', 'tensor', 'src', 'cpu', 'wasm', 'gemm.wat')
with open(OUT) as f:
    current = f.read()
if MARKER not in current:
    sys.exit(f'{OUT}: the marker line is missing ({MARKER})')
text = current[: current.index(MARKER)] + MARKER + '\n' + '\n'.join(L) + '\n)\n'
if '--check' in sys.argv:
    # CI: the committed gemm.wat must end with exactly what this generator writes.
    if current != text:
        sys.exit('stale: packages/tensor/src/cpu/wasm/gemm.wat (run python3 tools/gen-winograd-wat.py && pnpm gen:wasm)')
elif current != text:
    with open(OUT, 'w') as f:
        f.write(text)
