;; Single-precision matrix multiply for the CPU backend, WebAssembly SIMD128.
;; C (row-major, padded) = Ap * Bp, where Ap holds 4-row panels (per k: 4 values) and Bp holds
;; 8-column panels (per k: 8 values), both zero-padded by the JS packer. k is blocked by KC so
;; each panel chunk stays in L1 while the 4x8 register tile accumulates.
;; Inner loops spell small helpers out instead of calling them: Node 20's engine does not inline
;; WebAssembly calls, and a call per vector costs more than the vector's work (a 1M-element
;; float32 sum, copy in included: 2.0-2.1 ms with a shuffle helper called per vector, 1.2-1.4 ms
;; with the shuffle inline).
(module
  ;; The memory is the caller's: shared between the worker threads (tools/wasm.mjs also emits a
  ;; variant without "shared" for hosts that cannot share memory).
  (import "env" "memory" (memory 1 65536 shared))

  ;; One 4x8 tile: c[0..4][0..8] (+)= sum over kc of ap[k][r] * bp[k][c]. ldc is the C row stride
  ;; in bytes; accumulate=0 overwrites C (first k block), 1 adds to it. The multiply-adds are relaxed
  ;; SIMD's, one fused instruction where the CPU has FMA (1.33-1.37x this kernel's speed on the
  ;; reference machine); tools/wasm.mjs also emits a variant with a separate multiply and add for
  ;; engines without relaxed SIMD (Node 20 unless run with --experimental-wasm-relaxed-simd).
  (func $micro (param $ap i32) (param $bp i32) (param $cp i32) (param $kc i32) (param $ldc i32) (param $accumulate i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128) (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $a v128) (local $row i32)
    (block $done
      (br_if $done (i32.eqz (local.get $kc)))
      (loop $k
        (local.set $b0 (v128.load (local.get $bp)))
        (local.set $b1 (v128.load offset=16 (local.get $bp)))
        (local.set $a (v128.load32_splat offset=0 (local.get $ap)))
        (local.set $c00 (f32x4.relaxed_madd (local.get $a) (local.get $b0) (local.get $c00)))
        (local.set $c01 (f32x4.relaxed_madd (local.get $a) (local.get $b1) (local.get $c01)))
        (local.set $a (v128.load32_splat offset=4 (local.get $ap)))
        (local.set $c10 (f32x4.relaxed_madd (local.get $a) (local.get $b0) (local.get $c10)))
        (local.set $c11 (f32x4.relaxed_madd (local.get $a) (local.get $b1) (local.get $c11)))
        (local.set $a (v128.load32_splat offset=8 (local.get $ap)))
        (local.set $c20 (f32x4.relaxed_madd (local.get $a) (local.get $b0) (local.get $c20)))
        (local.set $c21 (f32x4.relaxed_madd (local.get $a) (local.get $b1) (local.get $c21)))
        (local.set $a (v128.load32_splat offset=12 (local.get $ap)))
        (local.set $c30 (f32x4.relaxed_madd (local.get $a) (local.get $b0) (local.get $c30)))
        (local.set $c31 (f32x4.relaxed_madd (local.get $a) (local.get $b1) (local.get $c31)))
        (local.set $ap (i32.add (local.get $ap) (i32.const 16)))
        (local.set $bp (i32.add (local.get $bp) (i32.const 32)))
        (local.set $kc (i32.sub (local.get $kc) (i32.const 1)))
        (br_if $k (local.get $kc))))
    (local.set $row (local.get $cp))
    (if (local.get $accumulate)
      (then
        (v128.store offset=0 (local.get $row) (f32x4.add (v128.load offset=0 (local.get $row)) (local.get $c00)))
        (v128.store offset=16 (local.get $row) (f32x4.add (v128.load offset=16 (local.get $row)) (local.get $c01)))
        (local.set $row (i32.add (local.get $row) (local.get $ldc)))
        (v128.store offset=0 (local.get $row) (f32x4.add (v128.load offset=0 (local.get $row)) (local.get $c10)))
        (v128.store offset=16 (local.get $row) (f32x4.add (v128.load offset=16 (local.get $row)) (local.get $c11)))
        (local.set $row (i32.add (local.get $row) (local.get $ldc)))
        (v128.store offset=0 (local.get $row) (f32x4.add (v128.load offset=0 (local.get $row)) (local.get $c20)))
        (v128.store offset=16 (local.get $row) (f32x4.add (v128.load offset=16 (local.get $row)) (local.get $c21)))
        (local.set $row (i32.add (local.get $row) (local.get $ldc)))
        (v128.store offset=0 (local.get $row) (f32x4.add (v128.load offset=0 (local.get $row)) (local.get $c30)))
        (v128.store offset=16 (local.get $row) (f32x4.add (v128.load offset=16 (local.get $row)) (local.get $c31)))
      )
      (else
        (v128.store offset=0 (local.get $row) (local.get $c00))
        (v128.store offset=16 (local.get $row) (local.get $c01))
        (local.set $row (i32.add (local.get $row) (local.get $ldc)))
        (v128.store offset=0 (local.get $row) (local.get $c10))
        (v128.store offset=16 (local.get $row) (local.get $c11))
        (local.set $row (i32.add (local.get $row) (local.get $ldc)))
        (v128.store offset=0 (local.get $row) (local.get $c20))
        (v128.store offset=16 (local.get $row) (local.get $c21))
        (local.set $row (i32.add (local.get $row) (local.get $ldc)))
        (v128.store offset=0 (local.get $row) (local.get $c30))
        (v128.store offset=16 (local.get $row) (local.get $c31))
      )))

  ;; C[mp x np] = Ap[mp x k] * Bp[k x np]; mp a multiple of 4, np of 8. Byte addresses; C rows are
  ;; ldw words apart (np for a whole C, more when a thread computes a column block of a wider one).
  (func (export "gemm") (param $a i32) (param $b i32) (param $c i32) (param $mp i32) (param $np i32) (param $k i32) (param $kcMax i32) (param $ldw i32)
    (local $k0 i32) (local $kc i32) (local $q i32) (local $p i32) (local $bp i32) (local $ldc i32)
    (local.set $ldc (i32.shl (local.get $ldw) (i32.const 2)))
    (loop $kblock
      (local.set $kc (select (local.get $kcMax) (i32.sub (local.get $k) (local.get $k0))
        (i32.lt_s (local.get $kcMax) (i32.sub (local.get $k) (local.get $k0)))))
      (local.set $q (i32.const 0))
      (block $qdone (loop $qloop
        (br_if $qdone (i32.ge_s (local.get $q) (local.get $np)))
        ;; B panel q (8 columns) starting at k0: b + (q*k + k0*8)*4
        (local.set $bp (i32.add (local.get $b) (i32.shl (i32.add (i32.mul (local.get $q) (local.get $k)) (i32.shl (local.get $k0) (i32.const 3))) (i32.const 2))))
        (local.set $p (i32.const 0))
        (block $pdone (loop $ploop
          (br_if $pdone (i32.ge_s (local.get $p) (local.get $mp)))
          (call $micro
            ;; A panel p (4 rows) at k0: a + (p*k + k0*4)*4
            (i32.add (local.get $a) (i32.shl (i32.add (i32.mul (local.get $p) (local.get $k)) (i32.shl (local.get $k0) (i32.const 2))) (i32.const 2)))
            (local.get $bp)
            ;; C tile at row p, column q: c + (p*ldw + q)*4
            (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $p) (local.get $ldw)) (local.get $q)) (i32.const 2)))
            (local.get $kc) (local.get $ldc) (i32.ne (local.get $k0) (i32.const 0)))
          (local.set $p (i32.add (local.get $p) (i32.const 4)))
          (br $ploop)))
        (local.set $q (i32.add (local.get $q) (i32.const 8)))
        (br $qloop)))
      (local.set $k0 (i32.add (local.get $k0) (local.get $kc)))
      (br_if $kblock (i32.lt_s (local.get $k0) (local.get $k))))) ;; end loop, end func

;; im2col straight into gemm's B panels (conv forward). Panel q holds columns j = n0+q .. n0+q+7;
;; for every tap row r it gets 8 values input[colOff[j] + rowOff[r] + (z*H + y)*W + x] with
;; z = colZ[j] + rowZ[r] (likewise y, x), or 0 where (z, y, x) falls in the padding or j is past
;; nc. Four columns go at once: their table entries are vectors for the whole panel, the index
;; arithmetic and the bounds test are i32x4 (a lane outside gets index 0, reads the input's first
;; value and is masked to +0), and only the four loads are scalar: 1.1-1.9x the speed of the
;; scalar form on the reference machine (one vector load for four consecutive valid values, where
;; a row allows it, gained nothing measurable on top). The input is a contiguous copy in this
;; memory; the int32 tables are built in JS (reading four entries past the last column stays inside
;; this memory: the tables are followed by gemm's work area). Writes are sequential.
(func (export "im2col")
    (param $src i32) (param $dst i32) (param $K i32) (param $nc i32) (param $n0 i32)
    (param $D i32) (param $H i32) (param $W i32)
    (param $rowOff i32) (param $rowZ i32) (param $rowY i32) (param $rowX i32)
    (param $colOff i32) (param $colZ i32) (param $colY i32) (param $colX i32)
    (local $q i32) (local $r4 i32) (local $end i32) (local $j4 i32)
    (local $Dv v128) (local $Hv v128) (local $Wv v128) (local $srcv v128) (local $ncv v128)
    (local $oA v128) (local $zA v128) (local $yA v128) (local $xA v128) (local $mA v128)
    (local $oB v128) (local $zB v128) (local $yB v128) (local $xB v128) (local $mB v128)
    (local $ro v128) (local $rz v128) (local $ry v128) (local $rx v128)
    (local $z v128) (local $y v128) (local $x v128) (local $ok v128) (local $addr v128) (local $v v128)
    (local.set $end (i32.shl (local.get $K) (i32.const 2)))
    (local.set $Dv (i32x4.splat (local.get $D)))
    (local.set $Hv (i32x4.splat (local.get $H)))
    (local.set $Wv (i32x4.splat (local.get $W)))
    (local.set $srcv (i32x4.splat (local.get $src)))
    (local.set $ncv (i32x4.splat (local.get $nc)))
    (block $qdone (loop $qloop
      (br_if $qdone (i32.ge_s (local.get $q) (local.get $nc)))
      (local.set $j4 (i32.shl (i32.add (local.get $n0) (local.get $q)) (i32.const 2)))
      (local.set $oA (v128.load (i32.add (local.get $colOff) (local.get $j4))))
      (local.set $zA (v128.load (i32.add (local.get $colZ) (local.get $j4))))
      (local.set $yA (v128.load (i32.add (local.get $colY) (local.get $j4))))
      (local.set $xA (v128.load (i32.add (local.get $colX) (local.get $j4))))
      (local.set $oB (v128.load offset=16 (i32.add (local.get $colOff) (local.get $j4))))
      (local.set $zB (v128.load offset=16 (i32.add (local.get $colZ) (local.get $j4))))
      (local.set $yB (v128.load offset=16 (i32.add (local.get $colY) (local.get $j4))))
      (local.set $xB (v128.load offset=16 (i32.add (local.get $colX) (local.get $j4))))
      ;; lanes of columns before nc
      (local.set $mA (i32x4.lt_s (i32x4.add (i32x4.splat (local.get $q)) (v128.const i32x4 0 1 2 3)) (local.get $ncv)))
      (local.set $mB (i32x4.lt_s (i32x4.add (i32x4.splat (local.get $q)) (v128.const i32x4 4 5 6 7)) (local.get $ncv)))
      (local.set $r4 (i32.const 0))
      (loop $rloop
        (local.set $ro (i32x4.splat (i32.load (i32.add (local.get $rowOff) (local.get $r4)))))
        (local.set $rz (i32x4.splat (i32.load (i32.add (local.get $rowZ) (local.get $r4)))))
        (local.set $ry (i32x4.splat (i32.load (i32.add (local.get $rowY) (local.get $r4)))))
        (local.set $rx (i32x4.splat (i32.load (i32.add (local.get $rowX) (local.get $r4)))))
        ;; columns q+0..q+3
        (local.set $z (i32x4.add (local.get $zA) (local.get $rz)))
        (local.set $y (i32x4.add (local.get $yA) (local.get $ry)))
        (local.set $x (i32x4.add (local.get $xA) (local.get $rx)))
        (local.set $ok (v128.and (v128.and (local.get $mA) (i32x4.lt_u (local.get $z) (local.get $Dv)))
                                 (v128.and (i32x4.lt_u (local.get $y) (local.get $Hv)) (i32x4.lt_u (local.get $x) (local.get $Wv)))))
        (local.set $addr (i32x4.add (local.get $srcv) (i32x4.shl (v128.and (local.get $ok)
          (i32x4.add (i32x4.add (local.get $oA) (local.get $ro))
            (i32x4.add (i32x4.mul (i32x4.add (i32x4.mul (local.get $z) (local.get $Hv)) (local.get $y)) (local.get $Wv)) (local.get $x))))
          (i32.const 2))))
        (local.set $v (f32x4.splat (f32.load (i32x4.extract_lane 0 (local.get $addr)))))
        (local.set $v (f32x4.replace_lane 1 (local.get $v) (f32.load (i32x4.extract_lane 1 (local.get $addr)))))
        (local.set $v (f32x4.replace_lane 2 (local.get $v) (f32.load (i32x4.extract_lane 2 (local.get $addr)))))
        (local.set $v (f32x4.replace_lane 3 (local.get $v) (f32.load (i32x4.extract_lane 3 (local.get $addr)))))
        (v128.store offset=0 (local.get $dst) (v128.and (local.get $v) (local.get $ok)))
        ;; columns q+1..q+4
        (local.set $z (i32x4.add (local.get $zB) (local.get $rz)))
        (local.set $y (i32x4.add (local.get $yB) (local.get $ry)))
        (local.set $x (i32x4.add (local.get $xB) (local.get $rx)))
        (local.set $ok (v128.and (v128.and (local.get $mB) (i32x4.lt_u (local.get $z) (local.get $Dv)))
                                 (v128.and (i32x4.lt_u (local.get $y) (local.get $Hv)) (i32x4.lt_u (local.get $x) (local.get $Wv)))))
        (local.set $addr (i32x4.add (local.get $srcv) (i32x4.shl (v128.and (local.get $ok)
          (i32x4.add (i32x4.add (local.get $oB) (local.get $ro))
            (i32x4.add (i32x4.mul (i32x4.add (i32x4.mul (local.get $z) (local.get $Hv)) (local.get $y)) (local.get $Wv)) (local.get $x))))
          (i32.const 2))))
        (local.set $v (f32x4.splat (f32.load (i32x4.extract_lane 0 (local.get $addr)))))
        (local.set $v (f32x4.replace_lane 1 (local.get $v) (f32.load (i32x4.extract_lane 1 (local.get $addr)))))
        (local.set $v (f32x4.replace_lane 2 (local.get $v) (f32.load (i32x4.extract_lane 2 (local.get $addr)))))
        (local.set $v (f32x4.replace_lane 3 (local.get $v) (f32.load (i32x4.extract_lane 3 (local.get $addr)))))
        (v128.store offset=16 (local.get $dst) (v128.and (local.get $v) (local.get $ok)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
        (local.set $r4 (i32.add (local.get $r4) (i32.const 4)))
        (br_if $rloop (i32.lt_s (local.get $r4) (local.get $end))))
      (local.set $q (i32.add (local.get $q) (i32.const 8)))
      (br $qloop))))

;; Packing from a strided float32 matrix already copied into this memory (element (i, j) at
;; src + (i*s0 + j*s1)*4), so each thread packs the part it multiplies. Strides are in words.

;; A panels for `rows` rows (a part of A): for each 4-row panel p and each k, the 4 values
;; A[p + r][k] at dst + (p*K + k*4 + r)*4, zero past `rows`. Transposed A (s0 = 1, four rows
;; adjacent in memory) moves a whole group with one vector load.
(func (export "packA") (param $src i32) (param $dst i32) (param $rows i32) (param $K i32) (param $s0 i32) (param $s1 i32)
  (local $p i32) (local $k i32) (local $r i32) (local $row i32) (local $at i32)
  (block $pdone (loop $ploop
    (br_if $pdone (i32.ge_s (local.get $p) (local.get $rows)))
    (local.set $k (i32.const 0))
    (block $kdone (loop $kloop
      (br_if $kdone (i32.ge_s (local.get $k) (local.get $K)))
      (local.set $at (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $p) (local.get $s0)) (i32.mul (local.get $k) (local.get $s1))) (i32.const 2))))
      (if (i32.and (i32.eq (local.get $s0) (i32.const 1)) (i32.le_s (i32.add (local.get $p) (i32.const 4)) (local.get $rows)))
        (then (v128.store (local.get $dst) (v128.load (local.get $at))))
        (else
          (local.set $r (i32.const 0))
          (loop $rloop
            (local.set $row (i32.add (local.get $p) (local.get $r)))
            (f32.store (i32.add (local.get $dst) (i32.shl (local.get $r) (i32.const 2)))
              (if (result f32) (i32.lt_s (local.get $row) (local.get $rows))
                (then (f32.load (i32.add (local.get $at) (i32.shl (i32.mul (local.get $r) (local.get $s0)) (i32.const 2)))))
                (else (f32.const 0))))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br_if $rloop (i32.lt_s (local.get $r) (i32.const 4))))))
      (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $kloop)))
    (local.set $p (i32.add (local.get $p) (i32.const 4)))
    (br $ploop))))

;; B panels for columns [0, nc) of the matrix at src: for each 8-column panel q and each k, the
;; 8 values B[k][q + c] at dst + (q*K + k*8 + c)*4, zero past nc. Row-major B (s1 = 1) moves a
;; whole panel row with two vector loads.
(func (export "packB") (param $src i32) (param $dst i32) (param $nc i32) (param $K i32) (param $s0 i32) (param $s1 i32)
  (local $q i32) (local $k i32) (local $c i32) (local $col i32) (local $at i32)
  (block $qdone (loop $qloop
    (br_if $qdone (i32.ge_s (local.get $q) (local.get $nc)))
    (local.set $k (i32.const 0))
    (block $kdone (loop $kloop
      (br_if $kdone (i32.ge_s (local.get $k) (local.get $K)))
      (local.set $at (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $k) (local.get $s0)) (i32.mul (local.get $q) (local.get $s1))) (i32.const 2))))
      (if (i32.and (i32.eq (local.get $s1) (i32.const 1)) (i32.le_s (i32.add (local.get $q) (i32.const 8)) (local.get $nc)))
        (then
          (v128.store (local.get $dst) (v128.load (local.get $at)))
          (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $at))))
        (else
          (local.set $c (i32.const 0))
          (loop $cloop
            (local.set $col (i32.add (local.get $q) (local.get $c)))
            (f32.store (i32.add (local.get $dst) (i32.shl (local.get $c) (i32.const 2)))
              (if (result f32) (i32.lt_s (local.get $col) (local.get $nc))
                (then (f32.load (i32.add (local.get $at) (i32.shl (i32.mul (local.get $c) (local.get $s1)) (i32.const 2)))))
                (else (f32.const 0))))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br_if $cloop (i32.lt_s (local.get $c) (i32.const 8))))))
      (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $kloop)))
    (local.set $q (i32.add (local.get $q) (i32.const 8)))
    (br $qloop))))

;; col2im, the input gradient's scatter (the inverse of im2col, same tables): for tap rows r in
;; [r0, r1) and columns j in [n0, n0 + nc), C[r][j - n0] (rows ldc bytes apart) is added into
;; dX[colOff[j] + rowOff[r] + (z*H + y)*W + x] where (z, y, x) is inside the input. Rows of one
;; channel write one plane of dX, so calls on blocks of whole channels never write the same value,
;; and each value gets its additions in the same order (rows, then columns) whatever the split.
(func (export "col2im")
    (param $c i32) (param $ldc i32) (param $dx i32) (param $r0 i32) (param $r1 i32) (param $nc i32) (param $n0 i32)
    (param $D i32) (param $H i32) (param $W i32)
    (param $rowOff i32) (param $rowZ i32) (param $rowY i32) (param $rowX i32)
    (param $colOff i32) (param $colZ i32) (param $colY i32) (param $colX i32)
    (local $r i32) (local $j i32) (local $end i32) (local $src i32) (local $j4 i32)
    (local $ro i32) (local $rz i32) (local $ry i32) (local $rx i32) (local $z i32) (local $y i32) (local $x i32) (local $at i32)
    (local.set $end (i32.add (local.get $n0) (local.get $nc)))
    (local.set $r (local.get $r0))
    (block $rdone (loop $rloop
      (br_if $rdone (i32.ge_s (local.get $r) (local.get $r1)))
      (local.set $ro (i32.load (i32.add (local.get $rowOff) (i32.shl (local.get $r) (i32.const 2)))))
      (local.set $rz (i32.load (i32.add (local.get $rowZ) (i32.shl (local.get $r) (i32.const 2)))))
      (local.set $ry (i32.load (i32.add (local.get $rowY) (i32.shl (local.get $r) (i32.const 2)))))
      (local.set $rx (i32.load (i32.add (local.get $rowX) (i32.shl (local.get $r) (i32.const 2)))))
      (local.set $src (i32.add (local.get $c) (i32.mul (local.get $r) (local.get $ldc))))
      (local.set $j (local.get $n0))
      (block $jdone (loop $jloop
        (br_if $jdone (i32.ge_s (local.get $j) (local.get $end)))
        (local.set $j4 (i32.shl (local.get $j) (i32.const 2)))
        (local.set $z (i32.add (i32.load (i32.add (local.get $colZ) (local.get $j4))) (local.get $rz)))
        (local.set $y (i32.add (i32.load (i32.add (local.get $colY) (local.get $j4))) (local.get $ry)))
        (local.set $x (i32.add (i32.load (i32.add (local.get $colX) (local.get $j4))) (local.get $rx)))
        (if (i32.and (i32.and (i32.lt_u (local.get $z) (local.get $D)) (i32.lt_u (local.get $y) (local.get $H)))
                     (i32.lt_u (local.get $x) (local.get $W)))
          (then
            (local.set $at (i32.add (local.get $dx) (i32.shl (i32.add (i32.add (i32.load (i32.add (local.get $colOff) (local.get $j4))) (local.get $ro))
              (i32.add (i32.mul (i32.add (i32.mul (local.get $z) (local.get $H)) (local.get $y)) (local.get $W)) (local.get $x))) (i32.const 2))))
            (f32.store (local.get $at) (f32.add (f32.load (local.get $at))
              (f32.load (i32.add (local.get $src) (i32.shl (i32.sub (local.get $j) (local.get $n0)) (i32.const 2))))))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $jloop)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rloop))))

;; Threefry-2x32-20 words for counters (hi:lo) + i, i < n (n a multiple of 4; the JS version is
;; threefry2x32 in src/random.ts, the same rounds): dst gets x0, x1 of each counter in turn. Four
;; counters go at once in i32x4 lanes (32-bit adds wrap, rotations are two shifts and an or), with
;; the carry of lo + i into hi per lane.
(func (export "threefry") (param $k0 i32) (param $k1 i32) (param $lo i32) (param $hi i32) (param $n i32) (param $dst i32)
  (local $i i32) (local $ks0 v128) (local $ks1 v128) (local $ks2 v128) (local $c0 v128) (local $x0 v128) (local $x1 v128)
  (local.set $ks0 (i32x4.splat (local.get $k0)))
  (local.set $ks1 (i32x4.splat (local.get $k1)))
  (local.set $ks2 (i32x4.splat (i32.xor (i32.const 0x1bd11bda) (i32.xor (local.get $k0) (local.get $k1)))))
  (block $done (loop $l
    (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
    (local.set $c0 (i32x4.add (i32x4.splat (i32.add (local.get $lo) (local.get $i))) (v128.const i32x4 0 1 2 3)))
    (local.set $x0 (i32x4.add (local.get $c0) (local.get $ks0)))
    ;; hi, plus 1 in lanes where lo + i wrapped (the lane's low word is then below lo)
    (local.set $x1 (i32x4.add (i32x4.sub (i32x4.splat (local.get $hi)) (i32x4.lt_u (local.get $c0) (i32x4.splat (local.get $lo))))
      (local.get $ks1)))
      (local.set $x0 (i32x4.add (local.get $x0) (local.get $x1)))
      (local.set $x1 (v128.xor (v128.or (i32x4.shl (local.get $x1) (i32.const 13)) (i32x4.shr_u (local.get $x1) (i32.const 19))) (local.get $x0)))
      (local.set $x0 (i32x4.add (local.get $x0) (local.get $x1)))
      (local.set $x1 (v128.xor (v128.or (i32x4.shl (local.get $x1) (i32.const 15)) (i32x4.shr_u (local.get $x1) (i32.const 17))) (local.get $x0)))
      (local.set $x0 (i32x4.add (local.get $x0) (local.get $x1)))
      (local.set $x1 (v128.xor (v128.or (i32x4.shl (local.get $x1) (i32.const 26)) (i32x4.shr_u (local.get $x1) (i32.const 6))) (local.get $x0)))
      (local.set $x0 (i32x4.add (local.get $x0) (local.get $x1)))
      (local.set $x1 (v128.xor (v128.or (i32x4.shl (local.get $x1) (i32.const 6)) (i32x4.shr_u (local.get $x1) (i32.const 26))) (local.get $x0)))
      ;; key injection 1
      (local.set $x0 (i32x4.add (local.get $x0) (local.get $ks1)))
      (local.set $x1 (i32x4.add (local.get $x1) (i32x4.add (local.get $ks2) (v128.const i32x4 1 1 1 1))))
      (local.set $x0 (i32x4.add (local.get $x0) (local.get $x1)))
      (local.set $x1 (v128.xor (v128.or (i32x4.shl (local.get $x1) (i32.const 17)) (i32x4.shr_u (local.get $x1) (i32.const 15))) (local.get $x0)))
      (local.set $x0 (i32x4.add (local.get $x0) (local.get $x1)))
      (local.set $x1 (v128.xor (v128.or (i32x4.shl (local.get $x1) (i32.const 29)) (i32x4.shr_u (local.get $x1) (i32.const 3))) (local.get $x0)))
      (local.set $x0 (i32x4.add (local.get $x0) (local.get $x1)))
      (local.set $x1 (v128.xor (v128.or (i32x4.shl (local.get $x1) (i32.const 16)) (i32x4.shr_u (local.get $x1) (i32.const 16))) (local.get $x0)))
      (local.set $x0 (i32x4.add (local.get $x0) (local.get $x1)))
      (local.set $x1 (v128.xor (v128.or (i32x4.shl (local.get $x1) (i32.const 24)) (i32x4.shr_u (local.get $x1) (i32.const 8))) (local.get $x0)))
      ;; key injection 2
      (local.set $x0 (i32x4.add (local.get $x0) (local.get $ks2)))
      (local.set $x1 (i32x4.add (local.get $x1) (i32x4.add (local.get $ks0) (v128.const i32x4 2 2 2 2))))
      (local.set $x0 (i32x4.add (local.get $x0) (local.get $x1)))
      (local.set $x1 (v128.xor (v128.or (i32x4.shl (local.get $x1) (i32.const 13)) (i32x4.shr_u (local.get $x1) (i32.const 19))) (local.get $x0)))
      (local.set $x0 (i32x4.add (local.get $x0) (local.get $x1)))
      (local.set $x1 (v128.xor (v128.or (i32x4.shl (local.get $x1) (i32.const 15)) (i32x4.shr_u (local.get $x1) (i32.const 17))) (local.get $x0)))
      (local.set $x0 (i32x4.add (local.get $x0) (local.get $x1)))
      (local.set $x1 (v128.xor (v128.or (i32x4.shl (local.get $x1) (i32.const 26)) (i32x4.shr_u (local.get $x1) (i32.const 6))) (local.get $x0)))
      (local.set $x0 (i32x4.add (local.get $x0) (local.get $x1)))
      (local.set $x1 (v128.xor (v128.or (i32x4.shl (local.get $x1) (i32.const 6)) (i32x4.shr_u (local.get $x1) (i32.const 26))) (local.get $x0)))
      ;; key injection 3
      (local.set $x0 (i32x4.add (local.get $x0) (local.get $ks0)))
      (local.set $x1 (i32x4.add (local.get $x1) (i32x4.add (local.get $ks1) (v128.const i32x4 3 3 3 3))))
      (local.set $x0 (i32x4.add (local.get $x0) (local.get $x1)))
      (local.set $x1 (v128.xor (v128.or (i32x4.shl (local.get $x1) (i32.const 17)) (i32x4.shr_u (local.get $x1) (i32.const 15))) (local.get $x0)))
      (local.set $x0 (i32x4.add (local.get $x0) (local.get $x1)))
      (local.set $x1 (v128.xor (v128.or (i32x4.shl (local.get $x1) (i32.const 29)) (i32x4.shr_u (local.get $x1) (i32.const 3))) (local.get $x0)))
      (local.set $x0 (i32x4.add (local.get $x0) (local.get $x1)))
      (local.set $x1 (v128.xor (v128.or (i32x4.shl (local.get $x1) (i32.const 16)) (i32x4.shr_u (local.get $x1) (i32.const 16))) (local.get $x0)))
      (local.set $x0 (i32x4.add (local.get $x0) (local.get $x1)))
      (local.set $x1 (v128.xor (v128.or (i32x4.shl (local.get $x1) (i32.const 24)) (i32x4.shr_u (local.get $x1) (i32.const 8))) (local.get $x0)))
      ;; key injection 4
      (local.set $x0 (i32x4.add (local.get $x0) (local.get $ks1)))
      (local.set $x1 (i32x4.add (local.get $x1) (i32x4.add (local.get $ks2) (v128.const i32x4 4 4 4 4))))
      (local.set $x0 (i32x4.add (local.get $x0) (local.get $x1)))
      (local.set $x1 (v128.xor (v128.or (i32x4.shl (local.get $x1) (i32.const 13)) (i32x4.shr_u (local.get $x1) (i32.const 19))) (local.get $x0)))
      (local.set $x0 (i32x4.add (local.get $x0) (local.get $x1)))
      (local.set $x1 (v128.xor (v128.or (i32x4.shl (local.get $x1) (i32.const 15)) (i32x4.shr_u (local.get $x1) (i32.const 17))) (local.get $x0)))
      (local.set $x0 (i32x4.add (local.get $x0) (local.get $x1)))
      (local.set $x1 (v128.xor (v128.or (i32x4.shl (local.get $x1) (i32.const 26)) (i32x4.shr_u (local.get $x1) (i32.const 6))) (local.get $x0)))
      (local.set $x0 (i32x4.add (local.get $x0) (local.get $x1)))
      (local.set $x1 (v128.xor (v128.or (i32x4.shl (local.get $x1) (i32.const 6)) (i32x4.shr_u (local.get $x1) (i32.const 26))) (local.get $x0)))
      ;; key injection 5
      (local.set $x0 (i32x4.add (local.get $x0) (local.get $ks2)))
      (local.set $x1 (i32x4.add (local.get $x1) (i32x4.add (local.get $ks0) (v128.const i32x4 5 5 5 5))))
    (v128.store (local.get $dst) (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $x0) (local.get $x1)))
    (v128.store offset=16 (local.get $dst) (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $x0) (local.get $x1)))
    (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
    (local.set $i (i32.add (local.get $i) (i32.const 4)))
    (br $l))))

;; ---- batch norm (training mode) on [N, C, S] float32, channels [c0, c1) per call ----------------
;; The same float64 arithmetic, in the same order, as the JavaScript kernels of @softpool/layers
;; (nn/cpu/batchNorm.ts), so both give the same bits: sums over each run of S values use four
;; accumulators (lanes s0 s1 | s2 s3 of two f64x2, the remainder into s0, then s0 + s1 + s2 + s3),
;; and every stored value is rounded to float32 once. Addresses are bytes; eps is an f64 in memory.

;; s0 + s1 + s2 + s3 of the four accumulators, then plus the scalar remainder already in s0.
(func $total (param $a v128) (param $b v128) (param $s0 f64) (result f64)
  (f64.add (f64.add (f64.add (local.get $s0) (f64x2.extract_lane 1 (local.get $a)))
    (f64x2.extract_lane 0 (local.get $b))) (f64x2.extract_lane 1 (local.get $b))))

;; sum of p[0..len)
(func $sumRun (param $p i32) (param $len i32) (result f64)
  (local $a v128) (local $b v128) (local $v v128) (local $end i32) (local $s0 f64)
  (local.set $end (i32.add (local.get $p) (i32.shl (i32.and (local.get $len) (i32.const -4)) (i32.const 2))))
  (block $done (loop $l
    (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
    (local.set $v (v128.load (local.get $p)))
    (local.set $a (f64x2.add (local.get $a) (f64x2.promote_low_f32x4 (local.get $v))))
    (local.set $b (f64x2.add (local.get $b) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
    (local.set $p (i32.add (local.get $p) (i32.const 16)))
    (br $l)))
  (local.set $s0 (f64x2.extract_lane 0 (local.get $a)))
  (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $len) (i32.const 3)) (i32.const 2))))
  (block $d2 (loop $l2
    (br_if $d2 (i32.ge_u (local.get $p) (local.get $end)))
    (local.set $s0 (f64.add (local.get $s0) (f64.promote_f32 (f32.load (local.get $p)))))
    (local.set $p (i32.add (local.get $p) (i32.const 4)))
    (br $l2)))
  (call $total (local.get $a) (local.get $b) (local.get $s0)))

;; sum of (p[i] - mu)^2
(func $squaredDeviationRun (param $p i32) (param $len i32) (param $mu f64) (result f64)
  (local $a v128) (local $b v128) (local $v v128) (local $d v128) (local $m v128) (local $end i32) (local $s0 f64) (local $e f64)
  (local.set $m (f64x2.splat (local.get $mu)))
  (local.set $end (i32.add (local.get $p) (i32.shl (i32.and (local.get $len) (i32.const -4)) (i32.const 2))))
  (block $done (loop $l
    (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
    (local.set $v (v128.load (local.get $p)))
    (local.set $d (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (local.get $m)))
    (local.set $a (f64x2.add (local.get $a) (f64x2.mul (local.get $d) (local.get $d))))
    (local.set $d (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))) (local.get $m)))
    (local.set $b (f64x2.add (local.get $b) (f64x2.mul (local.get $d) (local.get $d))))
    (local.set $p (i32.add (local.get $p) (i32.const 16)))
    (br $l)))
  (local.set $s0 (f64x2.extract_lane 0 (local.get $a)))
  (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $len) (i32.const 3)) (i32.const 2))))
  (block $d2 (loop $l2
    (br_if $d2 (i32.ge_u (local.get $p) (local.get $end)))
    (local.set $e (f64.sub (f64.promote_f32 (f32.load (local.get $p))) (local.get $mu)))
    (local.set $s0 (f64.add (local.get $s0) (f64.mul (local.get $e) (local.get $e))))
    (local.set $p (i32.add (local.get $p) (i32.const 4)))
    (br $l2)))
  (call $total (local.get $a) (local.get $b) (local.get $s0)))

;; sum of g[i] * (p[i] - mu)
(func $dotDeviationRun (param $g i32) (param $p i32) (param $len i32) (param $mu f64) (result f64)
  (local $a v128) (local $b v128) (local $v v128) (local $w v128) (local $m v128) (local $end i32) (local $s0 f64)
  (local.set $m (f64x2.splat (local.get $mu)))
  (local.set $end (i32.add (local.get $p) (i32.shl (i32.and (local.get $len) (i32.const -4)) (i32.const 2))))
  (block $done (loop $l
    (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
    (local.set $v (v128.load (local.get $p)))
    (local.set $w (v128.load (local.get $g)))
    (local.set $a (f64x2.add (local.get $a) (f64x2.mul (f64x2.promote_low_f32x4 (local.get $w))
      (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (local.get $m)))))
    (local.set $b (f64x2.add (local.get $b) (f64x2.mul (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $w) (local.get $w)))
      (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))) (local.get $m)))))
    (local.set $p (i32.add (local.get $p) (i32.const 16)))
    (local.set $g (i32.add (local.get $g) (i32.const 16)))
    (br $l)))
  (local.set $s0 (f64x2.extract_lane 0 (local.get $a)))
  (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $len) (i32.const 3)) (i32.const 2))))
  (block $d2 (loop $l2
    (br_if $d2 (i32.ge_u (local.get $p) (local.get $end)))
    (local.set $s0 (f64.add (local.get $s0) (f64.mul (f64.promote_f32 (f32.load (local.get $g)))
      (f64.sub (f64.promote_f32 (f32.load (local.get $p))) (local.get $mu)))))
    (local.set $p (i32.add (local.get $p) (i32.const 4)))
    (local.set $g (i32.add (local.get $g) (i32.const 4)))
    (br $l2)))
  (call $total (local.get $a) (local.get $b) (local.get $s0)))

;; relu (0 or 1): outputs at or below 0 become +0 (NaN is kept), as relu of the stored value.
(func $relu4 (param $v v128) (param $relu i32) (result v128)
  (if (result v128) (local.get $relu)
    (then (v128.andnot (local.get $v) (f32x4.le (local.get $v) (v128.const f32x4 0 0 0 0))))
    (else (local.get $v))))

(func (export "bnForward") (param $x i32) (param $y i32) (param $N i32) (param $C i32) (param $S i32)
    (param $c0 i32) (param $c1 i32) (param $gamma i32) (param $beta i32) (param $mean i32) (param $var i32) (param $epsAt i32)
    (param $relu i32)
  (local $c i32) (local $n i32) (local $o i32) (local $M f64) (local $s f64) (local $mu f64) (local $v f64)
  (local $scale f64) (local $shift f64) (local $sc v128) (local $sh v128) (local $p i32) (local $q i32) (local $end i32) (local $w v128) (local $rmask v128)
  (local.set $rmask (i32x4.splat (i32.sub (i32.const 0) (local.get $relu))))
  (local.set $M (f64.convert_i32_s (i32.mul (local.get $N) (local.get $S))))
  (local.set $c (local.get $c0))
  (block $cdone (loop $cloop
    (br_if $cdone (i32.ge_s (local.get $c) (local.get $c1)))
    (local.set $s (f64.const 0))
    (local.set $n (i32.const 0))
    (block $d1 (loop $l1
      (br_if $d1 (i32.ge_s (local.get $n) (local.get $N)))
      (local.set $o (i32.shl (i32.mul (i32.add (i32.mul (local.get $n) (local.get $C)) (local.get $c)) (local.get $S)) (i32.const 2)))
      (local.set $s (f64.add (local.get $s) (call $sumRun (i32.add (local.get $x) (local.get $o)) (local.get $S))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l1)))
    (local.set $mu (f64.div (local.get $s) (local.get $M)))
    (local.set $v (f64.const 0))
    (local.set $n (i32.const 0))
    (block $d2 (loop $l2
      (br_if $d2 (i32.ge_s (local.get $n) (local.get $N)))
      (local.set $o (i32.shl (i32.mul (i32.add (i32.mul (local.get $n) (local.get $C)) (local.get $c)) (local.get $S)) (i32.const 2)))
      (local.set $v (f64.add (local.get $v) (call $squaredDeviationRun (i32.add (local.get $x) (local.get $o)) (local.get $S) (local.get $mu))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l2)))
    (local.set $v (f64.div (local.get $v) (local.get $M)))
    (local.set $scale (f64.div (f64.promote_f32 (f32.load (i32.add (local.get $gamma) (i32.shl (local.get $c) (i32.const 2)))))
      (f64.sqrt (f64.add (local.get $v) (f64.load (local.get $epsAt))))))
    (local.set $shift (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $beta) (i32.shl (local.get $c) (i32.const 2)))))
      (f64.mul (local.get $mu) (local.get $scale))))
    (local.set $sc (f64x2.splat (local.get $scale)))
    (local.set $sh (f64x2.splat (local.get $shift)))
    ;; y = x * scale + shift, run by run
    (local.set $n (i32.const 0))
    (block $d3 (loop $l3
      (br_if $d3 (i32.ge_s (local.get $n) (local.get $N)))
      (local.set $o (i32.shl (i32.mul (i32.add (i32.mul (local.get $n) (local.get $C)) (local.get $c)) (local.get $S)) (i32.const 2)))
      (local.set $p (i32.add (local.get $x) (local.get $o)))
      (local.set $q (i32.add (local.get $y) (local.get $o)))
      (local.set $end (i32.add (local.get $p) (i32.shl (i32.and (local.get $S) (i32.const -4)) (i32.const 2))))
      (block $d4 (loop $l4
        (br_if $d4 (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $w (v128.load (local.get $p)))
        (local.set $w (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (local.get $w)) (local.get $sc)) (local.get $sh))) (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $w) (local.get $w))) (local.get $sc)) (local.get $sh)))))
        ;; relu (when asked): clear lanes <= 0, keep NaN
        (v128.store (local.get $q) (v128.andnot (local.get $w)
          (v128.and (f32x4.le (local.get $w) (v128.const f32x4 0 0 0 0)) (local.get $rmask))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $q (i32.add (local.get $q) (i32.const 16)))
        (br $l4)))
      (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $S) (i32.const 3)) (i32.const 2))))
      (block $d5 (loop $l5
        (br_if $d5 (i32.ge_u (local.get $p) (local.get $end)))
        (f32.store (local.get $q) (f32x4.extract_lane 0 (call $relu4 (f32x4.splat
          (f32.demote_f64 (f64.add (f64.mul (f64.promote_f32 (f32.load (local.get $p))) (local.get $scale)) (local.get $shift))))
          (local.get $relu))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $q (i32.add (local.get $q) (i32.const 4)))
        (br $l5)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l3)))
    (f32.store (i32.add (local.get $mean) (i32.shl (local.get $c) (i32.const 2))) (f32.demote_f64 (local.get $mu)))
    (f32.store (i32.add (local.get $var) (i32.shl (local.get $c) (i32.const 2))) (f32.demote_f64 (local.get $v)))
    (local.set $c (i32.add (local.get $c) (i32.const 1)))
    (br $cloop))))

;; dy[i] = 0 where y[i] <= 0 (+0; NaN passes), for len values: relu's gradient, in place.
(func $reluMaskRun (param $g i32) (param $y i32) (param $len i32)
  (local $end i32)
  (local.set $end (i32.add (local.get $g) (i32.shl (i32.and (local.get $len) (i32.const -4)) (i32.const 2))))
  (block $done (loop $l
    (br_if $done (i32.ge_u (local.get $g) (local.get $end)))
    (v128.store (local.get $g) (v128.andnot (v128.load (local.get $g))
      (f32x4.le (v128.load (local.get $y)) (v128.const f32x4 0 0 0 0))))
    (local.set $g (i32.add (local.get $g) (i32.const 16)))
    (local.set $y (i32.add (local.get $y) (i32.const 16)))
    (br $l)))
  (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $len) (i32.const 3)) (i32.const 2))))
  (block $d2 (loop $l2
    (br_if $d2 (i32.ge_u (local.get $g) (local.get $end)))
    (if (f32.le (f32.load (local.get $y)) (f32.const 0)) (then (f32.store (local.get $g) (f32.const 0))))
    (local.set $g (i32.add (local.get $g) (i32.const 4)))
    (local.set $y (i32.add (local.get $y) (i32.const 4)))
    (br $l2))))

;; mask: 0, or the address of the forward's output when it was relu(batch norm): dy is first masked
;; by it (in place, this call's channels only), as relu's gradient would.
(func (export "bnBackward") (param $dy i32) (param $x i32) (param $dx i32) (param $N i32) (param $C i32) (param $S i32)
    (param $c0 i32) (param $c1 i32) (param $gamma i32) (param $mean i32) (param $var i32) (param $epsAt i32)
    (param $dgamma i32) (param $dbeta i32) (param $mask i32)
  (local $c i32) (local $n i32) (local $o i32) (local $M f64) (local $inv f64) (local $mu f64) (local $sdy f64) (local $sdyx f64)
  (local $k f64) (local $p i32) (local $g i32) (local $q i32) (local $end i32) (local $w v128) (local $u v128)
  (local $Mv v128) (local $kv v128) (local $sdyv v128) (local $muv v128) (local $invv v128) (local $sdyxv v128)
  (local.set $M (f64.convert_i32_s (i32.mul (local.get $N) (local.get $S))))
  (local.set $Mv (f64x2.splat (local.get $M)))
  (local.set $c (local.get $c0))
  (block $cdone (loop $cloop
    (br_if $cdone (i32.ge_s (local.get $c) (local.get $c1)))
    (local.set $inv (f64.div (f64.const 1) (f64.sqrt (f64.add
      (f64.promote_f32 (f32.load (i32.add (local.get $var) (i32.shl (local.get $c) (i32.const 2))))) (f64.load (local.get $epsAt))))))
    (local.set $mu (f64.promote_f32 (f32.load (i32.add (local.get $mean) (i32.shl (local.get $c) (i32.const 2))))))
    (if (local.get $mask) (then
      (local.set $n (i32.const 0))
      (block $d0 (loop $l0
        (br_if $d0 (i32.ge_s (local.get $n) (local.get $N)))
        (local.set $o (i32.shl (i32.mul (i32.add (i32.mul (local.get $n) (local.get $C)) (local.get $c)) (local.get $S)) (i32.const 2)))
        (call $reluMaskRun (i32.add (local.get $dy) (local.get $o)) (i32.add (local.get $mask) (local.get $o)) (local.get $S))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $l0)))))
    (local.set $sdy (f64.const 0))
    (local.set $sdyx (f64.const 0))
    (local.set $n (i32.const 0))
    (block $d1 (loop $l1
      (br_if $d1 (i32.ge_s (local.get $n) (local.get $N)))
      (local.set $o (i32.shl (i32.mul (i32.add (i32.mul (local.get $n) (local.get $C)) (local.get $c)) (local.get $S)) (i32.const 2)))
      (local.set $sdy (f64.add (local.get $sdy) (call $sumRun (i32.add (local.get $dy) (local.get $o)) (local.get $S))))
      (local.set $sdyx (f64.add (local.get $sdyx) (f64.mul (call $dotDeviationRun (i32.add (local.get $dy) (local.get $o))
        (i32.add (local.get $x) (local.get $o)) (local.get $S) (local.get $mu)) (local.get $inv))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l1)))
    (local.set $k (f64.div (f64.mul (f64.promote_f32 (f32.load (i32.add (local.get $gamma) (i32.shl (local.get $c) (i32.const 2)))))
      (local.get $inv)) (local.get $M)))
    (local.set $kv (f64x2.splat (local.get $k)))
    (local.set $sdyv (f64x2.splat (local.get $sdy)))
    (local.set $sdyxv (f64x2.splat (local.get $sdyx)))
    (local.set $muv (f64x2.splat (local.get $mu)))
    (local.set $invv (f64x2.splat (local.get $inv)))
    ;; dx = k * (M * dy - sdy - (x - mu) * inv * sdyx), run by run
    (local.set $n (i32.const 0))
    (block $d3 (loop $l3
      (br_if $d3 (i32.ge_s (local.get $n) (local.get $N)))
      (local.set $o (i32.shl (i32.mul (i32.add (i32.mul (local.get $n) (local.get $C)) (local.get $c)) (local.get $S)) (i32.const 2)))
      (local.set $g (i32.add (local.get $dy) (local.get $o)))
      (local.set $p (i32.add (local.get $x) (local.get $o)))
      (local.set $q (i32.add (local.get $dx) (local.get $o)))
      (local.set $end (i32.add (local.get $p) (i32.shl (i32.and (local.get $S) (i32.const -4)) (i32.const 2))))
      (block $d4 (loop $l4
        (br_if $d4 (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $w (v128.load (local.get $g)))
        (local.set $u (v128.load (local.get $p)))
        (v128.store (local.get $q) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (f64x2.mul (local.get $kv) (f64x2.sub (f64x2.sub (f64x2.mul (local.get $Mv) (f64x2.promote_low_f32x4 (local.get $w))) (local.get $sdyv))
            (f64x2.mul (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (local.get $u)) (local.get $muv)) (local.get $invv)) (local.get $sdyxv))))) (f32x4.demote_f64x2_zero (f64x2.mul (local.get $kv) (f64x2.sub (f64x2.sub (f64x2.mul (local.get $Mv) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $w) (local.get $w)))) (local.get $sdyv))
            (f64x2.mul (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $u) (local.get $u))) (local.get $muv)) (local.get $invv)) (local.get $sdyxv)))))))
        (local.set $g (i32.add (local.get $g) (i32.const 16)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $q (i32.add (local.get $q) (i32.const 16)))
        (br $l4)))
      (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $S) (i32.const 3)) (i32.const 2))))
      (block $d5 (loop $l5
        (br_if $d5 (i32.ge_u (local.get $p) (local.get $end)))
        (f32.store (local.get $q) (f32.demote_f64 (f64.mul (local.get $k) (f64.sub (f64.sub
          (f64.mul (local.get $M) (f64.promote_f32 (f32.load (local.get $g)))) (local.get $sdy))
          (f64.mul (f64.mul (f64.sub (f64.promote_f32 (f32.load (local.get $p))) (local.get $mu)) (local.get $inv)) (local.get $sdyx))))))
        (local.set $g (i32.add (local.get $g) (i32.const 4)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $q (i32.add (local.get $q) (i32.const 4)))
        (br $l5)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l3)))
    (f32.store (i32.add (local.get $dgamma) (i32.shl (local.get $c) (i32.const 2))) (f32.demote_f64 (local.get $sdyx)))
    (f32.store (i32.add (local.get $dbeta) (i32.shl (local.get $c) (i32.const 2))) (f32.demote_f64 (local.get $sdy)))
    (local.set $c (i32.add (local.get $c) (i32.const 1)))
    (br $cloop))))

;; ---- direct convolution: stride 1, no dilation, one group, 2-D (1-D as H = 1) --------------------
;; For few channels, im2col's matrix is mostly copying: each of its values feeds only Cout
;; multiply-adds. These kernels read the input rows in place instead. The input is staged by
;; padRows as [N][Cin][Hp][Wp]: its rows after padT zero rows, each after padL zeros and followed
;; by zeros up to Wp (>= 4*ceil(OW/4) + KW - 1), so four outputs of a row read consecutive values
;; per tap. Each output value is made by one call with a fixed order of additions, so any split
;; over threads gives the same bits.

;; Stores the first `left` (1..4, or more) lanes of v at p.
(func $putLanes (param $p i32) (param $v v128) (param $left i32)
  (if (i32.ge_s (local.get $left) (i32.const 4))
    (then (v128.store (local.get $p) (local.get $v)) (return)))
  (f32.store (local.get $p) (f32x4.extract_lane 0 (local.get $v)))
  (if (i32.gt_s (local.get $left) (i32.const 1))
    (then (f32.store offset=4 (local.get $p) (f32x4.extract_lane 1 (local.get $v)))))
  (if (i32.gt_s (local.get $left) (i32.const 2))
    (then (f32.store offset=8 (local.get $p) (f32x4.extract_lane 2 (local.get $v))))))

;; y[img][c][oy][ox] for images [0, images), channels c < nc (of this block of 8), all positions:
;; bias[c] + sum over ci, ky, kx of w[ci][ky][kx][c] * x[img][ci][oy + ky - padT][ox + kx]
;; (x: the first staged row of the input proper, planes xPlane bytes apart; rows outside [0, H),
;; the padding, are skipped). Addresses are bytes; y planes yPlane apart.
;; Four positions by eight channels go at once: per tap, two vectors of weights (channels 0-3 and
;; 4-7) times four broadcast inputs, eight multiply-adds for six loads. Accumulator a<q><h> holds
;; position q's channels 4h..4h+3; they are transposed to rows of positions when stored.
(func (export "convDirect")
  (param $x i32) (param $w i32) (param $bias i32) (param $y i32) (param $nc i32)
  (param $Cin i32) (param $H i32) (param $Wp i32) (param $padT i32)
  (param $OH i32) (param $OW i32) (param $KH i32) (param $KW i32)
  (param $images i32) (param $xImg i32) (param $xPlane i32) (param $yImg i32) (param $yPlane i32)
  (local $img i32) (local $oy i32) (local $ox i32) (local $ci i32) (local $ky i32) (local $kx i32)
  (local $ky0 i32) (local $ky1 i32) (local $xp i32) (local $wp i32) (local $out i32) (local $left i32)
  (local $w0 v128) (local $w1 v128) (local $s v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128) (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128) (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
  (block $idone (loop $iloop
    (br_if $idone (i32.ge_s (local.get $img) (local.get $images)))
    (local.set $oy (i32.const 0))
    (block $ydone (loop $yloop
      (br_if $ydone (i32.ge_s (local.get $oy) (local.get $OH)))
      ;; taps whose input row oy + ky - padT lies in [0, H)
      (local.set $ky0 (i32.sub (local.get $padT) (local.get $oy)))
      (if (i32.lt_s (local.get $ky0) (i32.const 0)) (then (local.set $ky0 (i32.const 0))))
      (local.set $ky1 (i32.sub (i32.add (local.get $H) (local.get $padT)) (local.get $oy)))
      (if (i32.gt_s (local.get $ky1) (local.get $KH)) (then (local.set $ky1 (local.get $KH))))
      (local.set $ox (i32.const 0))
      (block $xdone (loop $xloop
        (br_if $xdone (i32.ge_s (local.get $ox) (local.get $OW)))
        (local.set $w0 (v128.load offset=0 (local.get $bias)))
        (local.set $w1 (v128.load offset=16 (local.get $bias)))

        (local.set $a00 (local.get $w0))
        (local.set $a01 (local.get $w1))
        (local.set $a10 (local.get $w0))
        (local.set $a11 (local.get $w1))
        (local.set $a20 (local.get $w0))
        (local.set $a21 (local.get $w1))
        (local.set $a30 (local.get $w0))
        (local.set $a31 (local.get $w1))
        (local.set $ci (i32.const 0))
        (block $cdone (loop $cloop
          (br_if $cdone (i32.ge_s (local.get $ci) (local.get $Cin)))
          (local.set $ky (local.get $ky0))
          (block $kdone (loop $kloop
            (br_if $kdone (i32.ge_s (local.get $ky) (local.get $ky1)))
            (local.set $xp (i32.add (i32.add (local.get $x) (i32.mul (local.get $ci) (local.get $xPlane)))
              (i32.shl (i32.add (i32.mul (i32.sub (i32.add (local.get $oy) (local.get $ky)) (local.get $padT)) (local.get $Wp))
                (local.get $ox)) (i32.const 2))))
            (local.set $wp (i32.add (local.get $w)
              (i32.shl (i32.mul (i32.add (i32.mul (local.get $ci) (local.get $KH)) (local.get $ky)) (local.get $KW)) (i32.const 5))))
            (local.set $kx (local.get $KW))
            (loop $tap
              (local.set $w0 (v128.load offset=0 (local.get $wp)))
              (local.set $w1 (v128.load offset=16 (local.get $wp)))
              (local.set $s (v128.load32_splat offset=0 (local.get $xp)))
              (local.set $a00 (f32x4.relaxed_madd (local.get $s) (local.get $w0) (local.get $a00)))
              (local.set $a01 (f32x4.relaxed_madd (local.get $s) (local.get $w1) (local.get $a01)))
              (local.set $s (v128.load32_splat offset=4 (local.get $xp)))
              (local.set $a10 (f32x4.relaxed_madd (local.get $s) (local.get $w0) (local.get $a10)))
              (local.set $a11 (f32x4.relaxed_madd (local.get $s) (local.get $w1) (local.get $a11)))
              (local.set $s (v128.load32_splat offset=8 (local.get $xp)))
              (local.set $a20 (f32x4.relaxed_madd (local.get $s) (local.get $w0) (local.get $a20)))
              (local.set $a21 (f32x4.relaxed_madd (local.get $s) (local.get $w1) (local.get $a21)))
              (local.set $s (v128.load32_splat offset=12 (local.get $xp)))
              (local.set $a30 (f32x4.relaxed_madd (local.get $s) (local.get $w0) (local.get $a30)))
              (local.set $a31 (f32x4.relaxed_madd (local.get $s) (local.get $w1) (local.get $a31)))
              (local.set $xp (i32.add (local.get $xp) (i32.const 4)))
              (local.set $wp (i32.add (local.get $wp) (i32.const 32)))
              (local.set $kx (i32.sub (local.get $kx) (i32.const 1)))
              (br_if $tap (local.get $kx)))
            (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
            (br $kloop)))
          (local.set $ci (i32.add (local.get $ci) (i32.const 1)))
          (br $cloop)))
        (local.set $out (i32.add (local.get $y) (i32.shl (i32.add (i32.mul (local.get $oy) (local.get $OW)) (local.get $ox)) (i32.const 2))))
        (local.set $left (i32.sub (local.get $OW) (local.get $ox)))
        (block $stored
          (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a00) (local.get $a10)))
          (local.set $t1 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a20) (local.get $a30)))
          (local.set $t2 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a00) (local.get $a10)))
          (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a20) (local.get $a30)))
          (call $putLanes (local.get $out) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1)) (local.get $left))
          (br_if $stored (i32.le_s (local.get $nc) (i32.const 1)))
          (local.set $out (i32.add (local.get $out) (local.get $yPlane)))
          (call $putLanes (local.get $out) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1)) (local.get $left))
          (br_if $stored (i32.le_s (local.get $nc) (i32.const 2)))
          (local.set $out (i32.add (local.get $out) (local.get $yPlane)))
          (call $putLanes (local.get $out) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t2) (local.get $t3)) (local.get $left))
          (br_if $stored (i32.le_s (local.get $nc) (i32.const 3)))
          (local.set $out (i32.add (local.get $out) (local.get $yPlane)))
          (call $putLanes (local.get $out) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t2) (local.get $t3)) (local.get $left))
          (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a01) (local.get $a11)))
          (local.set $t1 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a21) (local.get $a31)))
          (local.set $t2 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a01) (local.get $a11)))
          (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a21) (local.get $a31)))
          (br_if $stored (i32.le_s (local.get $nc) (i32.const 4)))
          (local.set $out (i32.add (local.get $out) (local.get $yPlane)))
          (call $putLanes (local.get $out) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1)) (local.get $left))
          (br_if $stored (i32.le_s (local.get $nc) (i32.const 5)))
          (local.set $out (i32.add (local.get $out) (local.get $yPlane)))
          (call $putLanes (local.get $out) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1)) (local.get $left))
          (br_if $stored (i32.le_s (local.get $nc) (i32.const 6)))
          (local.set $out (i32.add (local.get $out) (local.get $yPlane)))
          (call $putLanes (local.get $out) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t2) (local.get $t3)) (local.get $left))
          (br_if $stored (i32.le_s (local.get $nc) (i32.const 7)))
          (local.set $out (i32.add (local.get $out) (local.get $yPlane)))
          (call $putLanes (local.get $out) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t2) (local.get $t3)) (local.get $left))

        )
        (local.set $ox (i32.add (local.get $ox) (i32.const 4)))
        (br $xloop)))
      (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
      (br $yloop)))
    (local.set $x (i32.add (local.get $x) (local.get $xImg)))
    (local.set $y (i32.add (local.get $y) (local.get $yImg)))
    (local.set $img (i32.add (local.get $img) (i32.const 1)))
    (br $iloop))))

;; Zeroes n floats at p.
(func $zero (param $p i32) (param $n i32)
  (local $end i32)
  (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
  (block $done (loop $v
    (br_if $done (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end)))
    (v128.store (local.get $p) (v128.const i32x4 0 0 0 0))
    (local.set $p (i32.add (local.get $p) (i32.const 16)))
    (br $v)))
  (block $done (loop $s
    (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
    (f32.store (local.get $p) (f32.const 0))
    (local.set $p (i32.add (local.get $p) (i32.const 4)))
    (br $s))))

;; Stages planes [p0, p1) of contiguous [planes][H][W] data at src as [planes][Hp][Wp] at dst:
;; row iy of a plane goes to row padT + iy from column padL, everything else is zero.
(func (export "padRows")
  (param $src i32) (param $dst i32) (param $p0 i32) (param $p1 i32)
  (param $H i32) (param $W i32) (param $Hp i32) (param $Wp i32) (param $padT i32) (param $padL i32)
  (local $r i32) (local $iy i32) (local $row i32) (local $from i32) (local $i i32) (local $rowBytes i32)
  (local.set $rowBytes (i32.shl (local.get $Wp) (i32.const 2)))
  (local.set $row (i32.add (local.get $dst) (i32.mul (i32.mul (local.get $p0) (local.get $Hp)) (local.get $rowBytes))))
  (block $pdone (loop $ploop
    (br_if $pdone (i32.ge_s (local.get $p0) (local.get $p1)))
    (local.set $r (i32.const 0))
    (block $rdone (loop $rloop
      (br_if $rdone (i32.ge_s (local.get $r) (local.get $Hp)))
      (local.set $iy (i32.sub (local.get $r) (local.get $padT)))
      (if (i32.lt_u (local.get $iy) (local.get $H))
        (then
          (call $zero (local.get $row) (local.get $padL))
          (local.set $from (i32.add (local.get $src)
            (i32.shl (i32.mul (i32.add (i32.mul (local.get $p0) (local.get $H)) (local.get $iy)) (local.get $W)) (i32.const 2))))
          (local.set $i (i32.const 0))
          (block $cdone (loop $copy4
            (br_if $cdone (i32.gt_s (i32.add (local.get $i) (i32.const 4)) (local.get $W)))
            (v128.store (i32.add (local.get $row) (i32.shl (i32.add (local.get $padL) (local.get $i)) (i32.const 2)))
              (v128.load (i32.add (local.get $from) (i32.shl (local.get $i) (i32.const 2)))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $copy4)))
          (block $cdone (loop $copy1
            (br_if $cdone (i32.ge_s (local.get $i) (local.get $W)))
            (f32.store (i32.add (local.get $row) (i32.shl (i32.add (local.get $padL) (local.get $i)) (i32.const 2)))
              (f32.load (i32.add (local.get $from) (i32.shl (local.get $i) (i32.const 2)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $copy1)))
          (call $zero (i32.add (local.get $row) (i32.shl (i32.add (local.get $padL) (local.get $W)) (i32.const 2)))
            (i32.sub (i32.sub (local.get $Wp) (local.get $padL)) (local.get $W))))
        (else (call $zero (local.get $row) (local.get $Wp))))
      (local.set $row (i32.add (local.get $row) (local.get $rowBytes)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rloop)))
    (local.set $p0 (i32.add (local.get $p0) (i32.const 1)))
    (br $ploop))))

;; Interleaves channels by eights for images [n0, n1) of contiguous [N][C][S] data at src:
;; dst[n][b][s][c] = src[n][8b + c][s] for the ceil(C/8) blocks b, zero where 8b + c >= C. Four
;; positions at a time: a vector from each of 8 channel rows, transposed in two 4x4 blocks.
(func (export "interleave8") (param $src i32) (param $dst i32) (param $n0 i32) (param $n1 i32) (param $C i32) (param $S i32)
  (local $blocks i32) (local $b i32) (local $s i32) (local $c i32) (local $ch i32) (local $from i32) (local $to i32) (local $plane i32)
  (local $S4 i32) (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32) (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128)
  (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128) (local $h i32)
  (local.set $blocks (i32.shr_u (i32.add (local.get $C) (i32.const 7)) (i32.const 3)))
  (local.set $plane (i32.shl (local.get $S) (i32.const 2)))
  (local.set $S4 (i32.and (local.get $S) (i32.const -4)))
  (local.set $to (i32.add (local.get $dst) (i32.shl (i32.mul (i32.mul (local.get $n0) (local.get $blocks)) (local.get $S)) (i32.const 5))))
  (block $ndone (loop $nloop
    (br_if $ndone (i32.ge_s (local.get $n0) (local.get $n1)))
    (local.set $b (i32.const 0))
    (block $bdone (loop $bloop
      (br_if $bdone (i32.ge_s (local.get $b) (local.get $blocks)))
      ;; two halves of four channels each; a channel past C reads channel 8b (a valid row) and is masked to 0
      (local.set $h (i32.const 0))
      (block $hdone (loop $hloop
        (br_if $hdone (i32.ge_s (local.get $h) (i32.const 2)))
        (local.set $ch (i32.add (i32.shl (local.get $b) (i32.const 3)) (i32.shl (local.get $h) (i32.const 2))))
        (local.set $from (i32.add (local.get $src) (i32.shl (i32.mul (i32.add (i32.mul (local.get $n0) (local.get $C)) (i32.shl (local.get $b) (i32.const 3))) (local.get $S)) (i32.const 2))))
        (local.set $p0 (select (i32.add (local.get $from) (i32.mul (i32.add (i32.shl (local.get $h) (i32.const 2)) (i32.const 0)) (local.get $plane)))
          (local.get $from) (i32.lt_s (i32.add (local.get $ch) (i32.const 0)) (local.get $C))))
        (local.set $m0 (i32x4.splat (i32.sub (i32.const 0) (i32.lt_s (i32.add (local.get $ch) (i32.const 0)) (local.get $C)))))
        (local.set $p1 (select (i32.add (local.get $from) (i32.mul (i32.add (i32.shl (local.get $h) (i32.const 2)) (i32.const 1)) (local.get $plane)))
          (local.get $from) (i32.lt_s (i32.add (local.get $ch) (i32.const 1)) (local.get $C))))
        (local.set $m1 (i32x4.splat (i32.sub (i32.const 0) (i32.lt_s (i32.add (local.get $ch) (i32.const 1)) (local.get $C)))))
        (local.set $p2 (select (i32.add (local.get $from) (i32.mul (i32.add (i32.shl (local.get $h) (i32.const 2)) (i32.const 2)) (local.get $plane)))
          (local.get $from) (i32.lt_s (i32.add (local.get $ch) (i32.const 2)) (local.get $C))))
        (local.set $m2 (i32x4.splat (i32.sub (i32.const 0) (i32.lt_s (i32.add (local.get $ch) (i32.const 2)) (local.get $C)))))
        (local.set $p3 (select (i32.add (local.get $from) (i32.mul (i32.add (i32.shl (local.get $h) (i32.const 2)) (i32.const 3)) (local.get $plane)))
          (local.get $from) (i32.lt_s (i32.add (local.get $ch) (i32.const 3)) (local.get $C))))
        (local.set $m3 (i32x4.splat (i32.sub (i32.const 0) (i32.lt_s (i32.add (local.get $ch) (i32.const 3)) (local.get $C)))))
        (local.set $c (i32.add (local.get $to) (i32.shl (local.get $h) (i32.const 4))))
        (local.set $s (i32.const 0))
        (block $sdone (loop $sloop
          (br_if $sdone (i32.ge_s (local.get $s) (local.get $S4)))
          (local.set $r0 (v128.and (v128.load (i32.add (local.get $p0) (i32.shl (local.get $s) (i32.const 2)))) (local.get $m0)))
          (local.set $r1 (v128.and (v128.load (i32.add (local.get $p1) (i32.shl (local.get $s) (i32.const 2)))) (local.get $m1)))
          (local.set $r2 (v128.and (v128.load (i32.add (local.get $p2) (i32.shl (local.get $s) (i32.const 2)))) (local.get $m2)))
          (local.set $r3 (v128.and (v128.load (i32.add (local.get $p3) (i32.shl (local.get $s) (i32.const 2)))) (local.get $m3)))
          (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
          (local.set $t1 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
          (local.set $t2 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
          (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
          (v128.store offset=0 (local.get $c) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1)))
          (v128.store offset=32 (local.get $c) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1)))
          (v128.store offset=64 (local.get $c) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t2) (local.get $t3)))
          (v128.store offset=96 (local.get $c) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t2) (local.get $t3)))
          (local.set $c (i32.add (local.get $c) (i32.const 128)))
          (local.set $s (i32.add (local.get $s) (i32.const 4)))
          (br $sloop)))
        ;; the last S % 4 positions one by one
        (block $tdone (loop $tloop
          (br_if $tdone (i32.ge_s (local.get $s) (local.get $S)))
          (f32.store offset=0 (local.get $c) (select (f32.load (i32.add (local.get $p0) (i32.shl (local.get $s) (i32.const 2)))) (f32.const 0)
            (i32.lt_s (i32.add (local.get $ch) (i32.const 0)) (local.get $C))))
          (f32.store offset=4 (local.get $c) (select (f32.load (i32.add (local.get $p1) (i32.shl (local.get $s) (i32.const 2)))) (f32.const 0)
            (i32.lt_s (i32.add (local.get $ch) (i32.const 1)) (local.get $C))))
          (f32.store offset=8 (local.get $c) (select (f32.load (i32.add (local.get $p2) (i32.shl (local.get $s) (i32.const 2)))) (f32.const 0)
            (i32.lt_s (i32.add (local.get $ch) (i32.const 2)) (local.get $C))))
          (f32.store offset=12 (local.get $c) (select (f32.load (i32.add (local.get $p3) (i32.shl (local.get $s) (i32.const 2)))) (f32.const 0)
            (i32.lt_s (i32.add (local.get $ch) (i32.const 3)) (local.get $C))))
          (local.set $c (i32.add (local.get $c) (i32.const 32)))
          (local.set $s (i32.add (local.get $s) (i32.const 1)))
          (br $tloop)))
        (local.set $h (i32.add (local.get $h) (i32.const 1)))
        (br $hloop)))
      (local.set $to (i32.add (local.get $to) (i32.shl (local.get $S) (i32.const 5))))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bloop)))
    (local.set $n0 (i32.add (local.get $n0) (i32.const 1)))
    (br $nloop))))

;; The weight gradient of convDirect for one input channel and one block of 8 output channels:
;; dw[c][t] = sum over images, oy, ox of dy[img][oy][ox][c] * x[img][oy + ky][ox + kx], for taps
;; t = ky*KW + kx in groups [g0, g1) of four (t = 4g + j; past the last tap the last one is
;; repeated and not stored). x is staged as above with the top padding rows included (no rows to
;; skip), dy interleaved by interleave8 (its images dyImg bytes apart), dw rows dwRow bytes apart.
;; Per position: eight channels (two vectors) times four taps' broadcast inputs, eight
;; multiply-adds for six loads. Each image's sums are added into float64 totals in `acc` (256
;; bytes per group, zeroed by the caller), so long sums over many images lose no more than one
;; image's worth of float32 rounding. Images go in chunks of `chunk` so a chunk of dy stays in
;; cache while every tap group visits it.
(func (export "convDirectWgrad")
  (param $x i32) (param $dy i32) (param $dw i32) (param $acc i32) (param $nc i32) (param $g0 i32) (param $g1 i32)
  (param $KW i32) (param $KV i32) (param $Wp i32) (param $OH i32) (param $OW i32)
  (param $images i32) (param $chunk i32) (param $xImg i32) (param $dyImg i32) (param $dwRow i32)
  (local $n0 i32) (local $n1 i32) (local $n i32) (local $g i32) (local $t i32) (local $oy i32)
  (local $o0 i32) (local $o1 i32) (local $o2 i32) (local $o3 i32)
  (local $xp i32) (local $dp i32) (local $end i32) (local $ap i32) (local $out i32) (local $c i32)
  (local $d0 v128) (local $d1 v128) (local $s v128) (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128) (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
  (block $chdone (loop $chloop
    (br_if $chdone (i32.ge_s (local.get $n0) (local.get $images)))
    (local.set $n1 (i32.add (local.get $n0) (local.get $chunk)))
    (if (i32.gt_s (local.get $n1) (local.get $images)) (then (local.set $n1 (local.get $images))))
    (local.set $g (local.get $g0))
    (block $gdone (loop $gloop
      (br_if $gdone (i32.ge_s (local.get $g) (local.get $g1)))
      (local.set $t (i32.add (i32.shl (local.get $g) (i32.const 2)) (i32.const 0)))
      (if (i32.ge_s (local.get $t) (local.get $KV)) (then (local.set $t (i32.sub (local.get $KV) (i32.const 1)))))
      (local.set $o0 (i32.shl (i32.add (i32.mul (i32.div_u (local.get $t) (local.get $KW)) (local.get $Wp))
        (i32.rem_u (local.get $t) (local.get $KW))) (i32.const 2)))
      (local.set $t (i32.add (i32.shl (local.get $g) (i32.const 2)) (i32.const 1)))
      (if (i32.ge_s (local.get $t) (local.get $KV)) (then (local.set $t (i32.sub (local.get $KV) (i32.const 1)))))
      (local.set $o1 (i32.shl (i32.add (i32.mul (i32.div_u (local.get $t) (local.get $KW)) (local.get $Wp))
        (i32.rem_u (local.get $t) (local.get $KW))) (i32.const 2)))
      (local.set $t (i32.add (i32.shl (local.get $g) (i32.const 2)) (i32.const 2)))
      (if (i32.ge_s (local.get $t) (local.get $KV)) (then (local.set $t (i32.sub (local.get $KV) (i32.const 1)))))
      (local.set $o2 (i32.shl (i32.add (i32.mul (i32.div_u (local.get $t) (local.get $KW)) (local.get $Wp))
        (i32.rem_u (local.get $t) (local.get $KW))) (i32.const 2)))
      (local.set $t (i32.add (i32.shl (local.get $g) (i32.const 2)) (i32.const 3)))
      (if (i32.ge_s (local.get $t) (local.get $KV)) (then (local.set $t (i32.sub (local.get $KV) (i32.const 1)))))
      (local.set $o3 (i32.shl (i32.add (i32.mul (i32.div_u (local.get $t) (local.get $KW)) (local.get $Wp))
        (i32.rem_u (local.get $t) (local.get $KW))) (i32.const 2)))
      (local.set $ap (i32.add (local.get $acc) (i32.shl (i32.sub (local.get $g) (local.get $g0)) (i32.const 8))))
      (local.set $n (local.get $n0))
      (block $ndone (loop $nloop
        (br_if $ndone (i32.ge_s (local.get $n) (local.get $n1)))
        (local.set $a00 (v128.const i32x4 0 0 0 0))
        (local.set $a01 (v128.const i32x4 0 0 0 0))
        (local.set $a10 (v128.const i32x4 0 0 0 0))
        (local.set $a11 (v128.const i32x4 0 0 0 0))
        (local.set $a20 (v128.const i32x4 0 0 0 0))
        (local.set $a21 (v128.const i32x4 0 0 0 0))
        (local.set $a30 (v128.const i32x4 0 0 0 0))
        (local.set $a31 (v128.const i32x4 0 0 0 0))
        (local.set $dp (i32.add (local.get $dy) (i32.mul (local.get $n) (local.get $dyImg))))
        (local.set $oy (i32.const 0))
        (block $ydone (loop $yloop
          (br_if $ydone (i32.ge_s (local.get $oy) (local.get $OH)))
          (local.set $xp (i32.add (i32.add (local.get $x) (i32.mul (local.get $n) (local.get $xImg)))
            (i32.shl (i32.mul (local.get $oy) (local.get $Wp)) (i32.const 2))))
          (local.set $end (i32.add (local.get $dp) (i32.shl (local.get $OW) (i32.const 5))))
          (loop $pos
            (local.set $d0 (v128.load offset=0 (local.get $dp)))
            (local.set $d1 (v128.load offset=16 (local.get $dp)))
            (local.set $s (v128.load32_splat (i32.add (local.get $xp) (local.get $o0))))
            (local.set $a00 (f32x4.relaxed_madd (local.get $s) (local.get $d0) (local.get $a00)))
            (local.set $a01 (f32x4.relaxed_madd (local.get $s) (local.get $d1) (local.get $a01)))
            (local.set $s (v128.load32_splat (i32.add (local.get $xp) (local.get $o1))))
            (local.set $a10 (f32x4.relaxed_madd (local.get $s) (local.get $d0) (local.get $a10)))
            (local.set $a11 (f32x4.relaxed_madd (local.get $s) (local.get $d1) (local.get $a11)))
            (local.set $s (v128.load32_splat (i32.add (local.get $xp) (local.get $o2))))
            (local.set $a20 (f32x4.relaxed_madd (local.get $s) (local.get $d0) (local.get $a20)))
            (local.set $a21 (f32x4.relaxed_madd (local.get $s) (local.get $d1) (local.get $a21)))
            (local.set $s (v128.load32_splat (i32.add (local.get $xp) (local.get $o3))))
            (local.set $a30 (f32x4.relaxed_madd (local.get $s) (local.get $d0) (local.get $a30)))
            (local.set $a31 (f32x4.relaxed_madd (local.get $s) (local.get $d1) (local.get $a31)))
            (local.set $xp (i32.add (local.get $xp) (i32.const 4)))
            (local.set $dp (i32.add (local.get $dp) (i32.const 32)))
            (br_if $pos (i32.lt_u (local.get $dp) (local.get $end))))
          (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
          (br $yloop)))
        ;; this image's sums into the group's float64 totals (tap j, channel c at f64 8j + c)
        (v128.store offset=0 (local.get $ap) (f64x2.add (v128.load offset=0 (local.get $ap)) (f64x2.promote_low_f32x4 (local.get $a00))))
        (v128.store offset=16 (local.get $ap) (f64x2.add (v128.load offset=16 (local.get $ap)) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $a00) (local.get $a00)))))
        (v128.store offset=32 (local.get $ap) (f64x2.add (v128.load offset=32 (local.get $ap)) (f64x2.promote_low_f32x4 (local.get $a01))))
        (v128.store offset=48 (local.get $ap) (f64x2.add (v128.load offset=48 (local.get $ap)) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $a01) (local.get $a01)))))
        (v128.store offset=64 (local.get $ap) (f64x2.add (v128.load offset=64 (local.get $ap)) (f64x2.promote_low_f32x4 (local.get $a10))))
        (v128.store offset=80 (local.get $ap) (f64x2.add (v128.load offset=80 (local.get $ap)) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $a10) (local.get $a10)))))
        (v128.store offset=96 (local.get $ap) (f64x2.add (v128.load offset=96 (local.get $ap)) (f64x2.promote_low_f32x4 (local.get $a11))))
        (v128.store offset=112 (local.get $ap) (f64x2.add (v128.load offset=112 (local.get $ap)) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $a11) (local.get $a11)))))
        (v128.store offset=128 (local.get $ap) (f64x2.add (v128.load offset=128 (local.get $ap)) (f64x2.promote_low_f32x4 (local.get $a20))))
        (v128.store offset=144 (local.get $ap) (f64x2.add (v128.load offset=144 (local.get $ap)) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $a20) (local.get $a20)))))
        (v128.store offset=160 (local.get $ap) (f64x2.add (v128.load offset=160 (local.get $ap)) (f64x2.promote_low_f32x4 (local.get $a21))))
        (v128.store offset=176 (local.get $ap) (f64x2.add (v128.load offset=176 (local.get $ap)) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $a21) (local.get $a21)))))
        (v128.store offset=192 (local.get $ap) (f64x2.add (v128.load offset=192 (local.get $ap)) (f64x2.promote_low_f32x4 (local.get $a30))))
        (v128.store offset=208 (local.get $ap) (f64x2.add (v128.load offset=208 (local.get $ap)) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $a30) (local.get $a30)))))
        (v128.store offset=224 (local.get $ap) (f64x2.add (v128.load offset=224 (local.get $ap)) (f64x2.promote_low_f32x4 (local.get $a31))))
        (v128.store offset=240 (local.get $ap) (f64x2.add (v128.load offset=240 (local.get $ap)) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $a31) (local.get $a31)))))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $nloop)))
      (local.set $g (i32.add (local.get $g) (i32.const 1)))
      (br $gloop)))
    (local.set $n0 (local.get $n1))
    (br $chloop)))
  ;; dw[c][t]: lane c % 4 of vector 2j + c / 4 of the group's accumulators, for taps t < KV
  (local.set $g (local.get $g0))
  (block $sdone (loop $sloop
    (br_if $sdone (i32.ge_s (local.get $g) (local.get $g1)))
    (local.set $ap (i32.add (local.get $acc) (i32.shl (i32.sub (local.get $g) (local.get $g0)) (i32.const 8))))
    (local.set $t (i32.shl (local.get $g) (i32.const 2)))
    (block $tdone (loop $tloop
      (br_if $tdone (i32.or (i32.ge_s (local.get $t) (local.get $KV)) (i32.ge_s (local.get $t) (i32.shl (i32.add (local.get $g) (i32.const 1)) (i32.const 2)))))
      (local.set $out (i32.add (local.get $dw) (i32.shl (local.get $t) (i32.const 2))))
      (local.set $c (i32.const 0))
      (block $cdone (loop $cloop
        (br_if $cdone (i32.ge_s (local.get $c) (local.get $nc)))
        (f32.store (local.get $out) (f32.demote_f64 (f64.load (i32.add (local.get $ap) (i32.shl (local.get $c) (i32.const 3))))))
        (local.set $out (i32.add (local.get $out) (local.get $dwRow)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $cloop)))
      (local.set $ap (i32.add (local.get $ap) (i32.const 64)))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br $tloop)))
    (local.set $g (i32.add (local.get $g) (i32.const 1)))
    (br $sloop))))

;; ---- elementwise float32 maps (contiguous, whole 4-lane vectors) -----------------------------
;; The same bits as the JavaScript kernels of src/cpu/elementwise.ts: + - * / and sqrt of float32
;; values are exact in float64 before the store's rounding, so rounding once in float32 agrees,
;; and relu and its gradient use the same integer formulas. So the size threshold that picks these
;; never changes a result. The caller pads arrays to whole vectors; threads take vector ranges.

;; out[i] = op(a[i], b[i]) for n > 0 vectors; bStep 16 walks b, 0 repeats its first vector (a
;; scalar the caller splat). op: 0 add, 1 sub, 2 mul, 3 div, 4 maximum, 5 minimum.
(func (export "mapBinary") (param $op i32) (param $a i32) (param $b i32) (param $out i32) (param $n i32) (param $bStep i32)
  (local $end i32)
  (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 4))))
  (if (i32.eq (local.get $op) (i32.const 0))
    (then
      (loop $l
        (v128.store (local.get $out) (f32x4.add (v128.load (local.get $a)) (v128.load (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (local.get $bStep)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br_if $l (i32.lt_u (local.get $out) (local.get $end))))
      (return)))
  (if (i32.eq (local.get $op) (i32.const 1))
    (then
      (loop $l
        (v128.store (local.get $out) (f32x4.sub (v128.load (local.get $a)) (v128.load (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (local.get $bStep)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br_if $l (i32.lt_u (local.get $out) (local.get $end))))
      (return)))
  (if (i32.eq (local.get $op) (i32.const 2))
    (then
      (loop $l
        (v128.store (local.get $out) (f32x4.mul (v128.load (local.get $a)) (v128.load (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (local.get $bStep)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br_if $l (i32.lt_u (local.get $out) (local.get $end))))
      (return)))
  (if (i32.eq (local.get $op) (i32.const 3))
    (then
      (loop $l
        (v128.store (local.get $out) (f32x4.div (v128.load (local.get $a)) (v128.load (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (local.get $bStep)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br_if $l (i32.lt_u (local.get $out) (local.get $end))))
      (return)))
  (if (i32.eq (local.get $op) (i32.const 4))
    (then
      (loop $l
        (v128.store (local.get $out) (f32x4.max (v128.load (local.get $a)) (v128.load (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (local.get $bStep)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br_if $l (i32.lt_u (local.get $out) (local.get $end))))
      (return)))
  (if (i32.eq (local.get $op) (i32.const 5))
    (then
      (loop $l
        (v128.store (local.get $out) (f32x4.min (v128.load (local.get $a)) (v128.load (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (local.get $bStep)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br_if $l (i32.lt_u (local.get $out) (local.get $end))))
      (return)))
  (unreachable))

;; out[i] = op(a[i]) for n > 0 vectors. op: 0 neg, 1 abs, 2 square, 3 sqrt, 4 relu (relu: the sign bit
;; clears a value unless it is a NaN).
(func (export "mapUnary") (param $op i32) (param $a i32) (param $out i32) (param $n i32)
  (local $end i32) (local $x v128)
  (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 4))))
  (if (i32.eq (local.get $op) (i32.const 0))
    (then
      (loop $l
        (local.set $x (v128.load (local.get $a)))
        (v128.store (local.get $out) (f32x4.neg (local.get $x)))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br_if $l (i32.lt_u (local.get $out) (local.get $end))))
      (return)))
  (if (i32.eq (local.get $op) (i32.const 1))
    (then
      (loop $l
        (local.set $x (v128.load (local.get $a)))
        (v128.store (local.get $out) (f32x4.abs (local.get $x)))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br_if $l (i32.lt_u (local.get $out) (local.get $end))))
      (return)))
  (if (i32.eq (local.get $op) (i32.const 2))
    (then
      (loop $l
        (local.set $x (v128.load (local.get $a)))
        (v128.store (local.get $out) (f32x4.mul (local.get $x) (local.get $x)))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br_if $l (i32.lt_u (local.get $out) (local.get $end))))
      (return)))
  (if (i32.eq (local.get $op) (i32.const 3))
    (then
      (loop $l
        (local.set $x (v128.load (local.get $a)))
        (v128.store (local.get $out) (f32x4.sqrt (local.get $x)))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br_if $l (i32.lt_u (local.get $out) (local.get $end))))
      (return)))
  (if (i32.eq (local.get $op) (i32.const 4))
    (then
      (loop $l
        (local.set $x (v128.load (local.get $a)))
        (v128.store (local.get $out) (v128.and (local.get $x) (v128.not (v128.andnot (i32x4.shr_s (local.get $x) (i32.const 31)) (i32x4.shr_s (i32x4.sub (i32x4.splat (i32.const 0x7f800000)) (v128.and (local.get $x) (i32x4.splat (i32.const 0x7fffffff)))) (i32.const 31))))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br_if $l (i32.lt_u (local.get $out) (local.get $end))))
      (return)))
  (unreachable))

;; relu's gradient: out = g where x > 0 or x is NaN, else +0 (on the bits: (-x & ~x) has its sign
;; set exactly for x > 0), for n > 0 vectors.
(func (export "mapReluBackward") (param $g i32) (param $x i32) (param $out i32) (param $n i32)
  (local $end i32) (local $v v128)
  (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 4))))
  (loop $l
    (local.set $v (v128.load (local.get $x)))
    (v128.store (local.get $out)
      (v128.and (v128.load (local.get $g))
        (v128.or (i32x4.shr_s (v128.andnot (i32x4.neg (local.get $v)) (local.get $v)) (i32.const 31))
          (i32x4.shr_s (i32x4.sub (i32x4.splat (i32.const 0x7f800000)) (v128.and (local.get $v) (i32x4.splat (i32.const 0x7fffffff)))) (i32.const 31)))))
    (local.set $g (i32.add (local.get $g) (i32.const 16)))
    (local.set $x (i32.add (local.get $x) (i32.const 16)))
    (local.set $out (i32.add (local.get $out) (i32.const 16)))
    (br_if $l (i32.lt_u (local.get $out) (local.get $end)))))

;; ---- float32 sums (float64 accumulators) --------------------------------------------------------
;; Sums of contiguous [A][C][S] data over its first and last axes, one channel c per output. A
;; channel's sum is made by one call in a fixed order (runs of S with sumRun's four accumulators,
;; then over a in turn), so any split of the channels over threads gives the same bits.

;; out[c] (an f64) for c in [c0, c1).
(func (export "sumOuterInner") (param $x i32) (param $out i32) (param $A i32) (param $C i32) (param $S i32) (param $c0 i32) (param $c1 i32)
  (local $a i32) (local $p i32) (local $acc f64) (local $stepA i32)
  (local.set $stepA (i32.shl (i32.mul (local.get $C) (local.get $S)) (i32.const 2)))
  (block $cdone (loop $cloop
    (br_if $cdone (i32.ge_s (local.get $c0) (local.get $c1)))
    (local.set $acc (f64.const 0))
    (local.set $p (i32.add (local.get $x) (i32.shl (i32.mul (local.get $c0) (local.get $S)) (i32.const 2))))
    (local.set $a (i32.const 0))
    (block $adone (loop $aloop
      (br_if $adone (i32.ge_s (local.get $a) (local.get $A)))
      (local.set $acc (f64.add (local.get $acc) (call $sumRun (local.get $p) (local.get $S))))
      (local.set $p (i32.add (local.get $p) (local.get $stepA)))
      (local.set $a (i32.add (local.get $a) (i32.const 1)))
      (br $aloop)))
    (f64.store (i32.add (local.get $out) (i32.shl (local.get $c0) (i32.const 3))) (local.get $acc))
    (local.set $c0 (i32.add (local.get $c0) (i32.const 1)))
    (br $cloop))))

;; The same with S = 1: out[c] = x[0][c] + x[1][c] + ... in this order (the JavaScript loop's),
;; four channels per step in two f64x2 lanes pairs, for c in [c0, c1). Loads past C only reach
;; lanes that are not stored.
(func (export "sumLeading") (param $x i32) (param $out i32) (param $A i32) (param $C i32) (param $c0 i32) (param $c1 i32)
  (local $a i32) (local $p i32) (local $v v128) (local $lo v128) (local $hi v128) (local $o i32) (local $row i32)
  (local.set $row (i32.shl (local.get $C) (i32.const 2)))
  (block $cdone (loop $cloop
    (br_if $cdone (i32.ge_s (local.get $c0) (local.get $c1)))
    (local.set $lo (v128.const i64x2 0 0))
    (local.set $hi (v128.const i64x2 0 0))
    (local.set $p (i32.add (local.get $x) (i32.shl (local.get $c0) (i32.const 2))))
    (local.set $a (i32.const 0))
    (block $adone (loop $aloop
      (br_if $adone (i32.ge_s (local.get $a) (local.get $A)))
      (local.set $v (v128.load (local.get $p)))
      (local.set $lo (f64x2.add (local.get $lo) (f64x2.promote_low_f32x4 (local.get $v))))
      (local.set $hi (f64x2.add (local.get $hi) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
      (local.set $p (i32.add (local.get $p) (local.get $row)))
      (local.set $a (i32.add (local.get $a) (i32.const 1)))
      (br $aloop)))
    (local.set $o (i32.add (local.get $out) (i32.shl (local.get $c0) (i32.const 3))))
    (f64.store (local.get $o) (f64x2.extract_lane 0 (local.get $lo)))
    (if (i32.lt_s (i32.add (local.get $c0) (i32.const 1)) (local.get $c1))
      (then (f64.store offset=8 (local.get $o) (f64x2.extract_lane 1 (local.get $lo)))))
    (if (i32.lt_s (i32.add (local.get $c0) (i32.const 2)) (local.get $c1))
      (then (f64.store offset=16 (local.get $o) (f64x2.extract_lane 0 (local.get $hi)))))
    (if (i32.lt_s (i32.add (local.get $c0) (i32.const 3)) (local.get $c1))
      (then (f64.store offset=24 (local.get $o) (f64x2.extract_lane 1 (local.get $hi)))))
    (local.set $c0 (i32.add (local.get $c0) (i32.const 4)))
    (br $cloop))))

;; ---- optimizer steps (float32 tensors, float64 arithmetic) -----------------------------------------
;; One in-place pass per parameter, in the order of the JavaScript kernels of @softpool/layers
;; (optim/cpu/fused.ts), two elements per f64x2: the same operations on the same float64 values,
;; rounded to float32 once per store, so the bits agree. Arrays are padded to an even length by
;; the caller (the second lane of a last odd element is scratch). Constants are f64s at $k.

;; Adam / AdamW: k = decay, coupled, b1, 1 - b1, b2, 1 - b2, sqrt(1 - b2^t), eps, lr / (1 - b1^t);
;; vmax 0: no amsgrad. n elements from the start of each array.
(func (export "adamStep") (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $vmax i32) (param $n i32) (param $k i32)
  (local $end i32) (local $w v128) (local $d v128) (local $mi v128) (local $vi v128)
  (local $decay v128) (local $coupled v128) (local $b1 v128) (local $omb1 v128) (local $b2 v128) (local $omb2 v128)
  (local $sqrtC2 v128) (local $eps v128) (local $stepSize v128)
  (local.set $decay (v128.load64_splat offset=0 (local.get $k)))
  (local.set $coupled (v128.load64_splat offset=8 (local.get $k)))
  (local.set $b1 (v128.load64_splat offset=16 (local.get $k)))
  (local.set $omb1 (v128.load64_splat offset=24 (local.get $k)))
  (local.set $b2 (v128.load64_splat offset=32 (local.get $k)))
  (local.set $omb2 (v128.load64_splat offset=40 (local.get $k)))
  (local.set $sqrtC2 (v128.load64_splat offset=48 (local.get $k)))
  (local.set $eps (v128.load64_splat offset=56 (local.get $k)))
  (local.set $stepSize (v128.load64_splat offset=64 (local.get $k)))
  (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
  (block $done (loop $l
    (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
    (local.set $w (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $p))) (local.get $decay)))
    (local.set $d (f64x2.add (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $g))) (f64x2.mul (local.get $w) (local.get $coupled))))
    (local.set $mi (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $m))) (local.get $b1))
      (f64x2.mul (local.get $d) (local.get $omb1))))
    (local.set $vi (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $v))) (local.get $b2))
      (f64x2.mul (f64x2.mul (local.get $d) (local.get $d)) (local.get $omb2))))
    (v128.store64_lane 0 (local.get $m) (f32x4.demote_f64x2_zero (local.get $mi)))
    (v128.store64_lane 0 (local.get $v) (f32x4.demote_f64x2_zero (local.get $vi)))
    (if (local.get $vmax)
      (then
        ;; amsgrad: the larger of the stored maximum and the stored (rounded) v
        (local.set $vi (f64x2.max (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $vmax)))
          (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $v)))))
        (v128.store64_lane 0 (local.get $vmax) (f32x4.demote_f64x2_zero (local.get $vi)))
        (local.set $vmax (i32.add (local.get $vmax) (i32.const 8)))))
    (v128.store64_lane 0 (local.get $p) (f32x4.demote_f64x2_zero
      (f64x2.sub (local.get $w) (f64x2.mul (f64x2.div (local.get $mi)
        (f64x2.add (f64x2.div (f64x2.sqrt (local.get $vi)) (local.get $sqrtC2)) (local.get $eps))) (local.get $stepSize)))))
    (local.set $p (i32.add (local.get $p) (i32.const 8)))
    (local.set $g (i32.add (local.get $g) (i32.const 8)))
    (local.set $m (i32.add (local.get $m) (i32.const 8)))
    (local.set $v (i32.add (local.get $v) (i32.const 8)))
    (br $l))))

;; SGD: k = lr, momentum, 1 - dampening, weight decay; flags: 1 a momentum buffer, 2 its first
;; step (the buffer becomes the direction), 4 nesterov.
(func (export "sgdStep") (param $p i32) (param $g i32) (param $buf i32) (param $n i32) (param $k i32) (param $flags i32)
  (local $end i32) (local $pv v128) (local $d v128) (local $b v128)
  (local $lr v128) (local $mom v128) (local $omd v128) (local $wd v128)
  (local.set $lr (v128.load64_splat offset=0 (local.get $k)))
  (local.set $mom (v128.load64_splat offset=8 (local.get $k)))
  (local.set $omd (v128.load64_splat offset=16 (local.get $k)))
  (local.set $wd (v128.load64_splat offset=24 (local.get $k)))
  (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
  (block $done (loop $l
    (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
    (local.set $pv (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $p))))
    (local.set $d (f64x2.add (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $g))) (f64x2.mul (local.get $pv) (local.get $wd))))
    (if (i32.and (local.get $flags) (i32.const 1))
      (then
        (local.set $b (if (result v128) (i32.and (local.get $flags) (i32.const 2))
          (then (local.get $d))
          (else (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $buf))) (local.get $mom))
            (f64x2.mul (local.get $d) (local.get $omd))))))
        (v128.store64_lane 0 (local.get $buf) (f32x4.demote_f64x2_zero (local.get $b)))
        (local.set $d (if (result v128) (i32.and (local.get $flags) (i32.const 4))
          (then (f64x2.add (local.get $d) (f64x2.mul (local.get $b) (local.get $mom))))
          (else (local.get $b))))
        (local.set $buf (i32.add (local.get $buf) (i32.const 8)))))
    (v128.store64_lane 0 (local.get $p) (f32x4.demote_f64x2_zero (f64x2.sub (local.get $pv) (f64x2.mul (local.get $d) (local.get $lr)))))
    (local.set $p (i32.add (local.get $p) (i32.const 8)))
    (local.set $g (i32.add (local.get $g) (i32.const 8)))
    (br $l))))
)
