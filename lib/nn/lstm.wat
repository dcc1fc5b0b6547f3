;; The LSTM's per-step pointwise work, forward and backward, in WebAssembly SIMD (f32x4), on the
;; wasm backend's own memory (imported: pointers are tensors' byte offsets in its heap).
;; lib/nn/lstm-fused.ts calls these between the backend's matmuls, one call a step each way,
;; in place of ~15 elementwise kernels and the copies that stack their results.
;;
;; Rows are batch-major within a step: a [B, 4H] gate block holds the i, f, g, o blocks of H
;; each, a [B, H] state block one row per sequence. H is a multiple of 4.
(module
  ;; @memory

  ;; @include tanh4.wat

  ;; σ(x) = (1 + tanh(x/2)) / 2
  (func $sigmoid4 (param $x v128) (result v128)
    (f32x4.add (f32x4.splat (f32.const 0.5))
      (f32x4.mul (f32x4.splat (f32.const 0.5))
        (call $tanh4 (f32x4.mul (f32x4.splat (f32.const 0.5)) (local.get $x))))))

  ;; One step forward, for every sequence b and unit j:
  ;;   z = xp + hw + bias;  i, f, o = σ(z_i, z_f, z_o);  g = tanh(z_g)
  ;;   c = f⊙cPrev + i⊙g;   h = o⊙tanh(c)
  ;; xp, hw: [B, 4H] (x·Wx and h_{t−1}·Wh)   bias: [4H]   cPrev: [B, H]
  ;; writes act [B, 4H] = (i, f, g, o), c [B, H], h [B, H] and, unless h2 is 0, a copy of h in h2.
  (func (export "lstmForwardStep")
    (param $xp i32) (param $hw i32) (param $bias i32) (param $cPrev i32)
    (param $act i32) (param $c i32) (param $h i32) (param $h2 i32) (param $B i32) (param $H i32)
    (local $hb i32) (local $b i32) (local $j i32) (local $zr i32) (local $sr i32) (local $p i32) (local $q i32)
    (local $i v128) (local $f v128) (local $g v128) (local $o v128) (local $cn v128) (local $hn v128)
    (local.set $hb (i32.shl (local.get $H) (i32.const 2)))
    (local.set $b (i32.const 0))
    (block $bDone (loop $bLoop
      (br_if $bDone (i32.ge_u (local.get $b) (local.get $B)))
      (local.set $zr (i32.mul (local.get $b) (i32.shl (local.get $hb) (i32.const 2)))) ;; gate row, bytes
      (local.set $sr (i32.mul (local.get $b) (local.get $hb))) ;; state row, bytes
      (local.set $j (i32.const 0))
      (block $jDone (loop $jLoop
        (br_if $jDone (i32.ge_u (local.get $j) (local.get $hb)))
        (local.set $p (i32.add (local.get $zr) (local.get $j)))
        (local.set $i (call $sigmoid4 (f32x4.add
          (f32x4.add (v128.load (i32.add (local.get $xp) (local.get $p))) (v128.load (i32.add (local.get $hw) (local.get $p))))
          (v128.load (i32.add (local.get $bias) (local.get $j))))))
        (local.set $p (i32.add (local.get $p) (local.get $hb)))
        (local.set $q (i32.add (local.get $j) (local.get $hb)))
        (local.set $f (call $sigmoid4 (f32x4.add
          (f32x4.add (v128.load (i32.add (local.get $xp) (local.get $p))) (v128.load (i32.add (local.get $hw) (local.get $p))))
          (v128.load (i32.add (local.get $bias) (local.get $q))))))
        (local.set $p (i32.add (local.get $p) (local.get $hb)))
        (local.set $q (i32.add (local.get $q) (local.get $hb)))
        (local.set $g (call $tanh4 (f32x4.add
          (f32x4.add (v128.load (i32.add (local.get $xp) (local.get $p))) (v128.load (i32.add (local.get $hw) (local.get $p))))
          (v128.load (i32.add (local.get $bias) (local.get $q))))))
        (local.set $p (i32.add (local.get $p) (local.get $hb)))
        (local.set $q (i32.add (local.get $q) (local.get $hb)))
        (local.set $o (call $sigmoid4 (f32x4.add
          (f32x4.add (v128.load (i32.add (local.get $xp) (local.get $p))) (v128.load (i32.add (local.get $hw) (local.get $p))))
          (v128.load (i32.add (local.get $bias) (local.get $q))))))
        (local.set $p (i32.add (local.get $act) (i32.add (local.get $zr) (local.get $j))))
        (v128.store (local.get $p) (local.get $i))
        (v128.store (i32.add (local.get $p) (local.get $hb)) (local.get $f))
        (v128.store (i32.add (local.get $p) (i32.shl (local.get $hb) (i32.const 1))) (local.get $g))
        (v128.store (i32.add (local.get $p) (i32.mul (local.get $hb) (i32.const 3))) (local.get $o))
        (local.set $q (i32.add (local.get $sr) (local.get $j)))
        (local.set $cn (f32x4.add
          (f32x4.mul (local.get $f) (v128.load (i32.add (local.get $cPrev) (local.get $q))))
          (f32x4.mul (local.get $i) (local.get $g))))
        (v128.store (i32.add (local.get $c) (local.get $q)) (local.get $cn))
        (local.set $hn (f32x4.mul (local.get $o) (call $tanh4 (local.get $cn))))
        (v128.store (i32.add (local.get $h) (local.get $q)) (local.get $hn))
        (if (local.get $h2) (then (v128.store (i32.add (local.get $h2) (local.get $q)) (local.get $hn))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $jLoop)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bLoop))))

;; addr += v (four floats)
  (func $acc (param $addr i32) (param $v v128)
    (v128.store (local.get $addr) (f32x4.add (v128.load (local.get $addr)) (local.get $v))))

;; The 4 lanes of v at addr, addr + ld, addr + 2·ld, addr + 3·ld (a column of a row-major matrix).
  (func $storeT (param $addr i32) (param $ld i32) (param $v v128)
    (f32.store (local.get $addr) (f32x4.extract_lane 0 (local.get $v)))
    (local.set $addr (i32.add (local.get $addr) (local.get $ld)))
    (f32.store (local.get $addr) (f32x4.extract_lane 1 (local.get $v)))
    (local.set $addr (i32.add (local.get $addr) (local.get $ld)))
    (f32.store (local.get $addr) (f32x4.extract_lane 2 (local.get $v)))
    (local.set $addr (i32.add (local.get $addr) (local.get $ld)))
    (f32.store (local.get $addr) (f32x4.extract_lane 3 (local.get $v))))

  ;; One step backward, for every sequence b and unit j (dc holds dc_{t+1}⊙f_{t+1}, or dL/dc_T):
  ;;   dh = dy + dhNext;  tc = tanh(c);  dc ← dc + dh⊙o⊙(1 − tc²)
  ;;   dz = (dc⊙g⊙i(1−i), dc⊙cPrev⊙f(1−f), dc⊙i⊙(1−g²), dh⊙tc⊙o(1−o))
  ;;   then dc ← dc⊙f (for the step before).
  ;; dy, dhNext: [B, H]   dc: [B, H], updated in place   act: [B, 4H] (i, f, g, o)   c, cPrev: [B, H]
  ;; writes dz [B, 4H] and its copy dz2 [B, 4H] and, unless dzT is 0, dz transposed: dz[b, r] at
;; byte dzT + r·ldT + 4b (the step's B columns of a block's dZᵀ [4H, steps·B], rows ldT bytes apart),
;; and unless db is 0 adds dz's rows to db [4H] (the bias gradient).
  (func (export "lstmBackwardStep")
    (param $dy i32) (param $dhNext i32) (param $dc i32) (param $act i32) (param $c i32) (param $cPrev i32)
    (param $dz i32) (param $dz2 i32) (param $dzT i32) (param $ldT i32) (param $db i32) (param $B i32) (param $H i32)
    (local $hb i32) (local $b i32) (local $j i32) (local $zr i32) (local $q i32) (local $p i32)
    (local $t i32) (local $gT i32)
    (local $i v128) (local $f v128) (local $g v128) (local $o v128) (local $dh v128) (local $tc v128)
    (local $dcv v128) (local $one v128) (local $v v128)
    (local.set $one (f32x4.splat (f32.const 1)))
    (local.set $hb (i32.shl (local.get $H) (i32.const 2)))
    (local.set $gT (i32.mul (local.get $H) (local.get $ldT))) ;; bytes from one gate's rows of dZᵀ to the next's
    (local.set $b (i32.const 0))
    (block $bDone (loop $bLoop
      (br_if $bDone (i32.ge_u (local.get $b) (local.get $B)))
      (local.set $zr (i32.mul (local.get $b) (i32.shl (local.get $hb) (i32.const 2))))
      (local.set $j (i32.const 0))
      (block $jDone (loop $jLoop
        (br_if $jDone (i32.ge_u (local.get $j) (local.get $hb)))
        ;; dZᵀ's address of (row j/4 of gate i, column b)
        (local.set $t (i32.add (i32.add (local.get $dzT) (i32.shl (local.get $b) (i32.const 2)))
          (i32.mul (i32.shr_u (local.get $j) (i32.const 2)) (local.get $ldT))))
        (local.set $q (i32.add (i32.mul (local.get $b) (local.get $hb)) (local.get $j)))
        (local.set $p (i32.add (local.get $act) (i32.add (local.get $zr) (local.get $j))))
        (local.set $i (v128.load (local.get $p)))
        (local.set $f (v128.load (i32.add (local.get $p) (local.get $hb))))
        (local.set $g (v128.load (i32.add (local.get $p) (i32.shl (local.get $hb) (i32.const 1)))))
        (local.set $o (v128.load (i32.add (local.get $p) (i32.mul (local.get $hb) (i32.const 3)))))
        (local.set $dh (f32x4.add (v128.load (i32.add (local.get $dy) (local.get $q))) (v128.load (i32.add (local.get $dhNext) (local.get $q)))))
        (local.set $tc (call $tanh4 (v128.load (i32.add (local.get $c) (local.get $q)))))
        (local.set $dcv (f32x4.add (v128.load (i32.add (local.get $dc) (local.get $q)))
          (f32x4.mul (f32x4.mul (local.get $dh) (local.get $o))
            (f32x4.sub (local.get $one) (f32x4.mul (local.get $tc) (local.get $tc))))))
        ;; dz_i
        (local.set $v (f32x4.mul (f32x4.mul (local.get $dcv) (local.get $g))
          (f32x4.mul (local.get $i) (f32x4.sub (local.get $one) (local.get $i)))))
        (local.set $p (i32.add (local.get $zr) (local.get $j)))
        (v128.store (i32.add (local.get $dz) (local.get $p)) (local.get $v))
        (v128.store (i32.add (local.get $dz2) (local.get $p)) (local.get $v))
        (if (local.get $dzT) (then (call $storeT (local.get $t) (local.get $ldT) (local.get $v))))
        (if (local.get $db) (then (call $acc (i32.add (local.get $db) (i32.sub (local.get $p) (local.get $zr))) (local.get $v))))
        (local.set $t (i32.add (local.get $t) (local.get $gT)))
        ;; dz_f
        (local.set $v (f32x4.mul (f32x4.mul (local.get $dcv) (v128.load (i32.add (local.get $cPrev) (local.get $q))))
          (f32x4.mul (local.get $f) (f32x4.sub (local.get $one) (local.get $f)))))
        (local.set $p (i32.add (local.get $p) (local.get $hb)))
        (v128.store (i32.add (local.get $dz) (local.get $p)) (local.get $v))
        (v128.store (i32.add (local.get $dz2) (local.get $p)) (local.get $v))
        (if (local.get $dzT) (then (call $storeT (local.get $t) (local.get $ldT) (local.get $v))))
        (if (local.get $db) (then (call $acc (i32.add (local.get $db) (i32.sub (local.get $p) (local.get $zr))) (local.get $v))))
        (local.set $t (i32.add (local.get $t) (local.get $gT)))
        ;; dz_g
        (local.set $v (f32x4.mul (f32x4.mul (local.get $dcv) (local.get $i))
          (f32x4.sub (local.get $one) (f32x4.mul (local.get $g) (local.get $g)))))
        (local.set $p (i32.add (local.get $p) (local.get $hb)))
        (v128.store (i32.add (local.get $dz) (local.get $p)) (local.get $v))
        (v128.store (i32.add (local.get $dz2) (local.get $p)) (local.get $v))
        (if (local.get $dzT) (then (call $storeT (local.get $t) (local.get $ldT) (local.get $v))))
        (if (local.get $db) (then (call $acc (i32.add (local.get $db) (i32.sub (local.get $p) (local.get $zr))) (local.get $v))))
        (local.set $t (i32.add (local.get $t) (local.get $gT)))
        ;; dz_o
        (local.set $v (f32x4.mul (f32x4.mul (local.get $dh) (local.get $tc))
          (f32x4.mul (local.get $o) (f32x4.sub (local.get $one) (local.get $o)))))
        (local.set $p (i32.add (local.get $p) (local.get $hb)))
        (v128.store (i32.add (local.get $dz) (local.get $p)) (local.get $v))
        (v128.store (i32.add (local.get $dz2) (local.get $p)) (local.get $v))
        (if (local.get $dzT) (then (call $storeT (local.get $t) (local.get $ldT) (local.get $v))))
        (if (local.get $db) (then (call $acc (i32.add (local.get $db) (i32.sub (local.get $p) (local.get $zr))) (local.get $v))))
        (v128.store (i32.add (local.get $dc) (local.get $q)) (f32x4.mul (local.get $dcv) (local.get $f)))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $jLoop)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bLoop))))
)
