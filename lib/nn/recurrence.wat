;; The vanilla RNN's recurrence, forward and backward, in WebAssembly SIMD (f32x4).
;; Compiled at start-up by wabt (lib/nn/recurrence.ts), which also lays out the memory.
;;
;; Every row (a step of one sequence, a row of Wh, a state) is hp floats, hp = H rounded up to a
;; multiple of 4, and its padding is zero; pointers are byte offsets into this memory.
;; Time-major rows: row (t, b) of a [T·B, ·] block is at ((t·B + b)·hp) floats.
(module
  (memory (export "memory") 1)

  ;; @include tanh4.wat

  ;; hs[t, b] = tanh(xp[t, b] + h_{t−1}[b]·Wh),  h_{−1} = h0.
  ;; xp, hs: [T·B, hp]   wh: [H, hp]   h0: [B, hp]
  (func (export "rnnForward")
    (param $xp i32) (param $wh i32) (param $h0 i32) (param $hs i32)
    (param $T i32) (param $B i32) (param $H i32) (param $hp i32)
    (local $rowBytes i32) (local $stepBytes i32) (local $t i32) (local $b i32) (local $k i32) (local $j i32)
    (local $out i32) (local $in i32) (local $prev i32) (local $w i32) (local $hk f32) (local $hv v128)
    (local.set $rowBytes (i32.shl (local.get $hp) (i32.const 2)))
    (local.set $stepBytes (i32.mul (local.get $B) (local.get $rowBytes)))
    (local.set $t (i32.const 0))
    (block $tDone (loop $tLoop
      (br_if $tDone (i32.ge_u (local.get $t) (local.get $T)))
      (local.set $b (i32.const 0))
      (block $bDone (loop $bLoop
        (br_if $bDone (i32.ge_u (local.get $b) (local.get $B)))
        ;; out = this row of hs, in = this row of xp, prev = h_{t−1}[b]
        (local.set $out (i32.add (local.get $hs)
          (i32.mul (i32.add (i32.mul (local.get $t) (local.get $B)) (local.get $b)) (local.get $rowBytes))))
        (local.set $in (i32.add (local.get $xp) (i32.sub (local.get $out) (local.get $hs))))
        (local.set $prev (if (result i32) (i32.eqz (local.get $t))
          (then (i32.add (local.get $h0) (i32.mul (local.get $b) (local.get $rowBytes))))
          (else (i32.sub (local.get $out) (local.get $stepBytes)))))
        ;; out = xp row
        (local.set $j (i32.const 0))
        (block $cDone (loop $cLoop
          (br_if $cDone (i32.ge_u (local.get $j) (local.get $rowBytes)))
          (v128.store (i32.add (local.get $out) (local.get $j)) (v128.load (i32.add (local.get $in) (local.get $j))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $cLoop)))
        ;; out += Σ_k prev[k] · Wh[k, :]
        (local.set $k (i32.const 0))
        (block $kDone (loop $kLoop
          (br_if $kDone (i32.ge_u (local.get $k) (local.get $H)))
          (local.set $hk (f32.load (i32.add (local.get $prev) (i32.shl (local.get $k) (i32.const 2)))))
          (if (f32.ne (local.get $hk) (f32.const 0))
            (then
              (local.set $hv (f32x4.splat (local.get $hk)))
              (local.set $w (i32.add (local.get $wh) (i32.mul (local.get $k) (local.get $rowBytes))))
              (local.set $j (i32.const 0))
              (block $aDone (loop $aLoop
                (br_if $aDone (i32.ge_u (local.get $j) (local.get $rowBytes)))
                (v128.store (i32.add (local.get $out) (local.get $j))
                  (f32x4.add (v128.load (i32.add (local.get $out) (local.get $j)))
                             (f32x4.mul (local.get $hv) (v128.load (i32.add (local.get $w) (local.get $j))))))
                (local.set $j (i32.add (local.get $j) (i32.const 16)))
                (br $aLoop)))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $kLoop)))
        ;; out = tanh(out), four at a time (tanh(0) = 0 keeps the padding 0)
        (local.set $j (i32.const 0))
        (block $hDone (loop $hLoop
          (br_if $hDone (i32.ge_u (local.get $j) (local.get $rowBytes)))
          (local.set $w (i32.add (local.get $out) (local.get $j)))
          (v128.store (local.get $w) (call $tanh4 (v128.load (local.get $w))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $hLoop)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $bLoop)))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br $tLoop))))

  ;; Backward through the recurrence, t = T−1 … 0:
  ;;   dz[t, b] = (dy[t, b] + dh[b]) ⊙ (1 − hs[t, b]²),   dWh += h_{t−1}[b]ᵀ·dz[t, b],
  ;;   then dh[b] = dz[t, b]·Whᵀ.
  ;; dy, hs, dz: [T·B, hp]   h0: [B, hp]   wh, dwh: [H, hp]   dh: [B, hp]
  ;; dh and dwh are zero on entry; on return dh is dL/dh0.
  (func (export "rnnBackward")
    (param $dy i32) (param $hs i32) (param $h0 i32) (param $wh i32) (param $dz i32) (param $dh i32) (param $dwh i32)
    (param $T i32) (param $B i32) (param $H i32) (param $hp i32)
    (local $rowBytes i32) (local $t i32) (local $b i32) (local $k i32) (local $j i32)
    (local $off i32) (local $n i32) (local $w i32) (local $h v128) (local $acc v128)
    (local $prev i32) (local $zrow i32) (local $hk f32) (local $hv v128)
    (local.set $rowBytes (i32.shl (local.get $hp) (i32.const 2)))
    (local.set $t (local.get $T))
    (block $tDone (loop $tLoop
      (br_if $tDone (i32.eqz (local.get $t)))
      (local.set $t (i32.sub (local.get $t) (i32.const 1)))
      (local.set $b (i32.const 0))
      (block $bDone (loop $bLoop
        (br_if $bDone (i32.ge_u (local.get $b) (local.get $B)))
        (local.set $off (i32.mul (i32.add (i32.mul (local.get $t) (local.get $B)) (local.get $b)) (local.get $rowBytes)))
        (local.set $n (i32.add (local.get $dh) (i32.mul (local.get $b) (local.get $rowBytes))))
        ;; dz row = (dy row + dh[b]) ⊙ (1 − h²)
        (local.set $j (i32.const 0))
        (block $zDone (loop $zLoop
          (br_if $zDone (i32.ge_u (local.get $j) (local.get $rowBytes)))
          (local.set $h (v128.load (i32.add (i32.add (local.get $hs) (local.get $off)) (local.get $j))))
          (v128.store (i32.add (i32.add (local.get $dz) (local.get $off)) (local.get $j))
            (f32x4.mul
              (f32x4.add (v128.load (i32.add (i32.add (local.get $dy) (local.get $off)) (local.get $j)))
                         (v128.load (i32.add (local.get $n) (local.get $j))))
              (f32x4.sub (f32x4.splat (f32.const 1)) (f32x4.mul (local.get $h) (local.get $h)))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $zLoop)))
        ;; dWh[k, :] += h_{t−1}[b][k] · dz row
        (local.set $zrow (i32.add (local.get $dz) (local.get $off)))
        (local.set $prev (if (result i32) (i32.eqz (local.get $t))
          (then (i32.add (local.get $h0) (i32.mul (local.get $b) (local.get $rowBytes))))
          (else (i32.add (local.get $hs) (i32.sub (local.get $off) (i32.mul (local.get $B) (local.get $rowBytes)))))))
        (local.set $k (i32.const 0))
        (block $gDone (loop $gLoop
          (br_if $gDone (i32.ge_u (local.get $k) (local.get $H)))
          (local.set $hk (f32.load (i32.add (local.get $prev) (i32.shl (local.get $k) (i32.const 2)))))
          (if (f32.ne (local.get $hk) (f32.const 0))
            (then
              (local.set $hv (f32x4.splat (local.get $hk)))
              (local.set $w (i32.add (local.get $dwh) (i32.mul (local.get $k) (local.get $rowBytes))))
              (local.set $j (i32.const 0))
              (block $uDone (loop $uLoop
                (br_if $uDone (i32.ge_u (local.get $j) (local.get $rowBytes)))
                (v128.store (i32.add (local.get $w) (local.get $j))
                  (f32x4.add (v128.load (i32.add (local.get $w) (local.get $j)))
                             (f32x4.mul (local.get $hv) (v128.load (i32.add (local.get $zrow) (local.get $j))))))
                (local.set $j (i32.add (local.get $j) (i32.const 16)))
                (br $uLoop)))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $gLoop)))
        ;; dh[b][k] = dz row · Wh[k, :]
        (local.set $k (i32.const 0))
        (block $kDone (loop $kLoop
          (br_if $kDone (i32.ge_u (local.get $k) (local.get $H)))
          (local.set $w (i32.add (local.get $wh) (i32.mul (local.get $k) (local.get $rowBytes))))
          (local.set $acc (f32x4.splat (f32.const 0)))
          (local.set $j (i32.const 0))
          (block $dDone (loop $dLoop
            (br_if $dDone (i32.ge_u (local.get $j) (local.get $rowBytes)))
            (local.set $acc (f32x4.add (local.get $acc)
              (f32x4.mul (v128.load (i32.add (i32.add (local.get $dz) (local.get $off)) (local.get $j)))
                         (v128.load (i32.add (local.get $w) (local.get $j))))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $dLoop)))
          (f32.store (i32.add (local.get $n) (i32.shl (local.get $k) (i32.const 2)))
            (f32.add (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
                     (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $kLoop)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $bLoop)))
      (br $tLoop))))
)
