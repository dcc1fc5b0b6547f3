/**
 * Sequence-level recurrent kernels: one op for a whole chunk, with a hand-written gradient.
 *
 * The step-by-step cells (cells.ts) are what the notebooks teach with; autograd then records
 * ~40 tensors per step and the weight gradients become T small matmuls. Here, as cuDNN does:
 *   - the input projection X·Wx + b for all T steps is one matmul,
 *   - the recurrence is the only per-step work (forward and backward),
 *   - the weight gradients are one big matmul each over all steps:
 *       dWx = Xᵀ·dZ,  dWh = H_prevᵀ·dZ,  db = Σ dZ,  dX = dZ·Wxᵀ
 * and the tape holds one node per layer instead of thousands. Same math as Cell.step:
 * test/sequence.test.ts checks values and gradients against it.
 */
import * as tf from '@tensorflow/tfjs';
import { BlockGrads, blockPrevious, stepRows } from './block-grads';
import { CellType } from './cells';
import { hostValues, onHost } from './host-values';
import { fusedLstm, lstmSeqFused } from './lstm-fused';
import { Recurrence, recurrence } from './recurrence';
import { stack, StepOps, stepOps } from './stepops';

export interface SequenceResult {
  /** h_t for every step, time-major [T·batch, hidden]. */
  outputs: tf.Tensor2D;
  /** Final state: [h_T] or [h_T, c_T] (LSTM), each [batch, hidden]. */
  state: tf.Tensor2D[];
}

/** A time-major [T·B, n] tensor as T tensors [B, n]. */
function splitSteps(x: tf.Tensor2D, T: number): tf.Tensor2D[] {
  return T === 1 ? [x] : (tf.split(x, T, 0) as tf.Tensor2D[]);
}

/** h_{t−1} for every step: [h0; Hs without its last step], time-major [T·B, H]. */
function previousStates(h0: tf.Tensor2D, Hs: tf.Tensor2D, T: number): tf.Tensor2D {
  const [B, H] = h0.shape;
  return T === 1 ? h0 : (tf.concat([h0, Hs.slice([0, 0], [(T - 1) * B, H])], 0) as tf.Tensor2D);
}

type Fn = (...args: tf.Tensor[]) => tf.Tensor;

/** tanh(x) = 2σ(2x) − 1 in a loop's step ops (`two`, `one`: scalar tensors); disposes its temporaries. */
function stepTanh(ops: StepOps, x: tf.TensorInfo, two: tf.Tensor, one: tf.Tensor): tf.TensorInfo {
  const x2 = ops.mul(x, two);
  const s = ops.sigmoid(x2);
  const s2 = ops.mul(s, two);
  const t = ops.sub(s2, one);
  ops.dispose(x2, s, s2);
  return t;
}

/** dX = dZ·Wxᵀ, or zeros where no gradient is needed with respect to the input. */
function inputGrad(needed: boolean, dZ: tf.Tensor2D, Wx: tf.Tensor2D, X: tf.Tensor2D): tf.Tensor2D {
  return needed ? tf.matMul(dZ, tf.transpose(Wx)) : tf.zerosLike(X);
}

/**
 * tanh(x) = 2σ(2x) − 1. On the wasm backend tf.tanh is scalar libm and ~30× slower than the
 * XNNPACK sigmoid; this costs two cheap elementwise ops more and is within ~1e-7 of tanh.
 */
export function tanh<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.sub(tf.mul(tf.sigmoid(tf.mul(x, 2)), 2), 1)) as T;
}

function custom(f: (...args: (tf.Tensor | tf.GradSaveFunc)[]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] }): Fn {
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as Fn;
}

/** The LSTM backward pass works in blocks of steps whose PQ ([steps·B, 4H]) has at most this many floats. */
let BLOCK_FLOATS = 1 << 22;

/** Set the LSTM backward block size (floats of PQ per block; tests use a small one); returns the old one. */
export function setBackwardBlockFloats(n: number): number {
  const old = BLOCK_FLOATS;
  BLOCK_FLOATS = n;
  return old;
}

/**
 * LSTM over T steps. Packs [outputs; c_T] into one [(T+1)·B, H] tensor because a custom
 * gradient has a single output.
 */
const lstmPacked = (needDX: boolean) => custom((...args) => {
  const [X, h0, c0, Wx, Wh, b] = args.slice(0, 6) as tf.Tensor2D[];
  const save = args[6] as tf.GradSaveFunc;
  const B = h0.shape[0];
  const H = h0.shape[1];
  const T = X.shape[0] / B;
  // One sigmoid per step for all four gates: the g block of the weights is doubled
  // (gScale), so that σ gives σ(2·z_g) and g = tanh(z_g) = 2σ(2·z_g) − 1 (the wasm backend's
  // tanh is scalar libm, ~30× slower than its vectorised sigmoid).
  const gScale = tf.concat([tf.ones([1, 2 * H]), tf.fill([1, H], 2), tf.ones([1, H])], 1); // [1, 4H]
  const XP = tf.tidy(() => tf.mul(tf.add(tf.matMul(X, Wx), b), gScale) as tf.Tensor2D); // [T·B, 4H]
  const Wh2 = tf.mul(Wh, gScale) as tf.Tensor2D;
  const xs = splitSteps(XP, T);
  if (T > 1) XP.dispose(); // the steps are copies
  // The loop runs on raw kernels (stepops.ts): every intermediate is disposed right away, and
  // only h, c and the gate activations of each step live on (bounded memory).
  const ops = stepOps();
  const two = tf.scalar(2);
  const one = tf.scalar(1);
  let h: tf.TensorInfo = h0;
  let c: tf.TensorInfo = c0;
  const hs: tf.TensorInfo[] = [];
  const cs: tf.TensorInfo[] = [];
  const gs: tf.TensorInfo[][] = [[], [], [], []]; // i, f, g, o of every step
  for (let t = 0; t < T; t++) {
    const hw = ops.matMul(h, Wh2);
    const z = ops.add(xs[t], hw);
    const s = ops.sigmoid(z);
    const [i, f, sg, o] = ops.split(s, 4, 1);
    const sg2 = ops.mul(sg, two);
    const g = ops.sub(sg2, one); // tanh(z_g) = 2σ(2z_g) − 1
    const fc = ops.mul(f, c);
    const ig = ops.mul(i, g);
    c = ops.add(fc, ig); // c' = f⊙c + i⊙g
    const tc = stepTanh(ops, c, two, one);
    h = ops.mul(o, tc); // h' = o⊙tanh(c')
    ops.dispose(hw, z, s, sg, sg2, fc, ig, tc);
    [i, f, g, o].forEach((a, k) => gs[k].push(a));
    hs.push(h);
    cs.push(c);
  }
  tf.dispose([gScale, Wh2, two, one, ...(T > 1 ? xs : [XP])]);
  const cT = ops.tensor<tf.Tensor2D>(ops.concat([c], 0)); // a copy: c itself goes with cs
  const Hs = stack<tf.Tensor2D>(ops, hs, 0); // [T·B, H]
  const C = stack<tf.Tensor2D>(ops, cs, 0); // [T·B, H] cell states
  const [I, F, G, O] = gs.map((list) => stack<tf.Tensor2D>(ops, list, 0)); // each [T·B, H]
  save([X, h0, c0, Wx, Wh, Hs, C, I, F, G, O]);
  return {
    value: tf.concat([Hs, cT], 0),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sX, sh0, sc0, sWx, sWh, sHs, sC, sI, sF, sG, sO] = saved as tf.Tensor2D[];
      const dHs = dy.slice([0, 0], [T * B, H]) as tf.Tensor2D;
      const dcT = dy.slice([T * B, 0], [B, H]) as tf.Tensor2D;
      // Everything that does not depend on the recurrence, for a block of steps at once:
      //   dc_t = dc_{t+1}⊙f_{t+1} + dh_t⊙K,   K = o⊙(1 − tanh²c)
      //   dz_t = [dc_t, dc_t, dc_t, dh_t] ⊙ PQ, PQ = [g⊙i(1−i), c_{t−1}⊙f(1−f), i⊙(1−g²), tanh(c)⊙o(1−o)]
      // and the weight gradients accumulate block by block (dWx += Xᵀ·dZ, …). Blocks bound the
      // memory: a block's PQ is at most BLOCK_FLOATS floats, so a small model has one block and
      // the bench's M model (100 × 100 × 2048 floats of PQ) five, not 80 MB of PQ and dZ at once.
      const dhsAll = splitSteps(dHs, T);
      const WhT = tf.transpose(sWh);
      const WxT = needDX ? tf.transpose(sWx) : undefined;
      const ops = stepOps();
      const Tb = Math.max(1, Math.floor(BLOCK_FLOATS / (B * 4 * H)));
      let dhNext: tf.TensorInfo = tf.zerosLike(sh0);
      let dcNext: tf.TensorInfo = dcT;
      let first = true;
      const grads = new BlockGrads(WxT);
      for (let t1 = T; t1 > 0; t1 -= Tb) {
        const t0 = Math.max(0, t1 - Tb);
        const n = t1 - t0;
        const [Ks, PQs, Fs] = tf.tidy(() => {
          const [cB, iB, fB, gB, oB] = [sC, sI, sF, sG, sO].map((x) => stepRows(x, B, t0, n));
          const cPrev = blockPrevious(sc0, sC, t0, n);
          const tc = tf.tidy(() => tanh(cB));
          const dsig = (x: tf.Tensor2D) => tf.mul(x, tf.sub(1, x));
          const K = tf.tidy(() => tf.mul(oB, tf.sub(1, tf.square(tc))) as tf.Tensor2D);
          const Ks = splitSteps(K, n);
          const parts = [
            tf.tidy(() => tf.mul(gB, dsig(iB))),
            tf.tidy(() => tf.mul(cPrev, dsig(fB))),
            tf.tidy(() => tf.mul(iB, tf.sub(1, tf.square(gB)))),
            tf.tidy(() => tf.mul(tc, dsig(oB))),
          ];
          tc.dispose();
          const PQ = tf.concat(parts, 1) as tf.Tensor2D;
          tf.dispose(parts);
          return [Ks, splitSteps(PQ, n), splitSteps(fB, n)];
        });
        const dzs: tf.TensorInfo[] = new Array(n);
        for (let t = t1 - 1; t >= t0; t--) {
          const k = t - t0;
          const dh = ops.add(dhsAll[t], dhNext);
          const dhK = ops.mul(dh, Ks[k]);
          const dc = ops.add(dcNext, dhK);
          const dcs = ops.concat([dc, dc, dc, dh], 1);
          dzs[k] = ops.mul(dcs, PQs[k]);
          const dcPrev = ops.mul(dc, Fs[k]);
          const dhPrev = ops.matMul(dzs[k], WhT);
          ops.dispose(dh, dhK, dc, dcs);
          if (!first) ops.dispose(dhNext, dcNext); // the first ones are tensors of this scope
          first = false;
          [dhNext, dcNext] = [dhPrev, dcPrev];
        }
        tf.dispose([...Ks, ...PQs, ...Fs]);
        grads.add(
          stack<tf.Tensor2D>(ops, dzs, 0), // [n·B, 4H]
          {
            x: (dZ) => tf.matMul(tf.transpose(stepRows(sX, B, t0, n)), dZ) as tf.Tensor2D,
            hPrev: () => blockPrevious(sh0, sHs, t0, n),
          },
        );
      }
      const dh0 = ops.tensor<tf.Tensor2D>(dhNext);
      const dc0 = ops.tensor<tf.Tensor2D>(dcNext);
      const [dX, dWx, dWh, db] = grads.result(sX);
      return [dX, dh0, dc0, dWx, dWh, db!]; // BlockGrads summed db
    },
  };
});

/**
 * Small recurrences (batch · hidden² multiply-adds a step, up to this many) run as one
 * WebAssembly call each way (recurrence.ts) instead of ~6 backend kernels a step: at
 * min-char-rnn's size (batch 1, hidden 100) a kernel call costs more than its work.
 * 0 turns it off (the tests compare both paths); UNREASONABLE_FUSED_RNN sets it.
 */
let fusedLimit = Number(process.env.UNREASONABLE_FUSED_RNN ?? 1 << 16);

/** Set the fused-recurrence limit (batch · hidden² multiply-adds a step); returns the old one. */
export function setFusedRecurrenceLimit(limit: number): number {
  const old = fusedLimit;
  fusedLimit = limit;
  return old;
}

function fused(B: number, H: number): Recurrence | undefined {
  return onHost() && B * H * H <= fusedLimit ? recurrence() : undefined;
}

/**
 * The vanilla RNN with its recurrence as one WebAssembly call each way (see fusedLimit); the
 * backward call also accumulates dWh = Σ_t h_{t−1}ᵀ·dz_t. With `ids` the input is their one-hot
 * rows, so x·Wx is a row lookup and dWx a scatter-add (X is not read, and gets no gradient).
 */
const rnnSeqFused = (k: Recurrence, needDX: boolean, ids?: Int32Array) => custom((...args) => {
  const [X, h0, Wx, Wh, b] = args.slice(0, 5) as tf.Tensor2D[];
  const save = args[5] as tf.GradSaveFunc;
  const [B, H] = h0.shape;
  const T = X.shape[0] / B;
  const bias = b.dataSync() as Float32Array;
  let xp: Float32Array; // [T·B, H] = x·Wx + b
  if (ids) {
    const wx = hostValues(Wx);
    xp = new Float32Array(T * B * H);
    for (let r = 0; r < T * B; r++) {
      const w = ids[r] * H;
      for (let j = 0; j < H; j++) xp[r * H + j] = wx[w + j] + bias[j];
    }
  } else xp = tf.tidy(() => tf.add(tf.matMul(X, Wx), b).dataSync() as Float32Array);
  const Hs = tf.tensor2d(k.rnnForward(xp, Wh.dataSync() as Float32Array, h0.dataSync() as Float32Array, T, B, H), [T * B, H]);
  save([X, h0, Wx, Wh, Hs]);
  return {
    value: Hs,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sX, sh0, sWx, sWh, sHs] = saved as tf.Tensor2D[];
      const r = k.rnnBackward(dy.dataSync() as Float32Array, sHs.dataSync() as Float32Array, sh0.dataSync() as Float32Array, sWh.dataSync() as Float32Array, T, B, H);
      const db = new Float32Array(H);
      for (let i = 0; i < T * B; i++) for (let j = 0; j < H; j++) db[j] += r.dZ[i * H + j];
      let dX: tf.Tensor2D, dWx: tf.Tensor2D;
      if (ids) {
        const dwx = new Float32Array(Wx.shape[0] * H);
        for (let i = 0; i < T * B; i++) {
          const w = ids[i] * H;
          for (let j = 0; j < H; j++) dwx[w + j] += r.dZ[i * H + j];
        }
        dX = tf.zerosLike(sX);
        dWx = tf.tensor2d(dwx, Wx.shape);
      } else {
        const dZ = tf.tensor2d(r.dZ, [T * B, H]);
        dX = inputGrad(needDX, dZ, sWx, sX);
        dWx = tf.matMul(tf.transpose(sX), dZ);
      }
      return [dX, tf.tensor2d(r.dh0, [B, H]), dWx, tf.tensor2d(r.dWh, [H, H]), tf.tensor1d(db)];
    },
  };
});

/** Vanilla RNN over T steps: h_t = tanh(x_t·Wx + h_{t−1}·Wh + b). */
const rnnSeq = (needDX: boolean) => custom((...args) => {
  const [X, h0, Wx, Wh, b] = args.slice(0, 5) as tf.Tensor2D[];
  const save = args[5] as tf.GradSaveFunc;
  const B = h0.shape[0];
  const T = X.shape[0] / B;
  const XP = tf.add(tf.matMul(X, Wx), b) as tf.Tensor2D;
  const xs = splitSteps(XP, T);
  const ops = stepOps();
  const two = tf.scalar(2);
  const one = tf.scalar(1);
  let h: tf.TensorInfo = h0;
  const hs: tf.TensorInfo[] = [];
  for (let t = 0; t < T; t++) {
    const hw = ops.matMul(h, Wh);
    const z = ops.add(xs[t], hw);
    h = stepTanh(ops, z, two, one);
    ops.dispose(hw, z);
    hs.push(h);
  }
  tf.dispose([XP, two, one, ...(T > 1 ? xs : [])]);
  const Hs = stack<tf.Tensor2D>(ops, hs, 0);
  save([X, h0, Wx, Wh, Hs]);
  return {
    value: Hs,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sX, sh0, sWx, sWh, sHs] = saved as tf.Tensor2D[];
      const dhs = splitSteps(dy as tf.Tensor2D, T);
      const hsS = splitSteps(sHs, T);
      const WhT = tf.transpose(sWh);
      const ops = stepOps();
      const one = tf.scalar(1);
      let dhNext: tf.TensorInfo = tf.zerosLike(sh0);
      const dzs: tf.TensorInfo[] = new Array(T);
      for (let t = T - 1; t >= 0; t--) {
        const dh = ops.add(dhs[t], dhNext);
        const h2 = ops.mul(hsS[t], hsS[t]);
        const dtanh = ops.sub(one, h2);
        dzs[t] = ops.mul(dh, dtanh);
        const dhPrev = ops.matMul(dzs[t], WhT);
        ops.dispose(dh, h2, dtanh);
        if (t < T - 1) ops.dispose(dhNext); // the first is a tensor of this scope
        dhNext = dhPrev;
      }
      const dZ = stack<tf.Tensor2D>(ops, dzs, 0);
      const dh0 = ops.tensor<tf.Tensor2D>(dhNext);
      const Hprev = previousStates(sh0, sHs, T);
      return [inputGrad(needDX, dZ, sWx, sX), dh0, tf.matMul(tf.transpose(sX), dZ), tf.matMul(tf.transpose(Hprev), dZ), tf.sum(dZ, 0)];
    },
  };
});

/**
 * GRU over T steps (PyTorch's nn.GRU): r, z = σ(x·W + b + h·U + bh), n = tanh(x·Wn + bn + r⊙(h·Un + bhn)),
 * h' = (1−z)⊙n + z⊙h.
 */
const gruSeq = (needDX: boolean) => custom((...args) => {
  const [X, h0, Wx, Wh, b, bh] = args.slice(0, 6) as tf.Tensor2D[];
  const save = args[6] as tf.GradSaveFunc;
  const B = h0.shape[0];
  const T = X.shape[0] / B;
  const XP = tf.add(tf.matMul(X, Wx), b) as tf.Tensor2D; // [T·B, 3H]
  const xs = splitSteps(XP, T);
  const ops = stepOps();
  const two = tf.scalar(2);
  const one = tf.scalar(1);
  let h: tf.TensorInfo = h0;
  const hs: tf.TensorInfo[] = [];
  const acts: tf.TensorInfo[] = [];
  for (let t = 0; t < T; t++) {
    const [xr, xz, xn] = ops.split(xs[t], 3, 1);
    const hw = ops.matMul(h, Wh);
    const hb = ops.add(hw, bh);
    const [hr, hz, hn] = ops.split(hb, 3, 1);
    const ar = ops.add(xr, hr);
    const r = ops.sigmoid(ar);
    const az = ops.add(xz, hz);
    const z = ops.sigmoid(az);
    const rhn = ops.mul(r, hn);
    const an = ops.add(xn, rhn);
    const n = stepTanh(ops, an, two, one);
    const omz = ops.sub(one, z);
    const a1 = ops.mul(omz, n);
    const a2 = ops.mul(z, h);
    acts.push(ops.concat([r, z, n, hn], 1));
    h = ops.add(a1, a2); // h' = (1−z)⊙n + z⊙h
    ops.dispose(xr, xz, xn, hw, hb, hr, hz, hn, ar, r, az, z, rhn, an, n, omz, a1, a2);
    hs.push(h);
  }
  tf.dispose([XP, two, one, ...(T > 1 ? xs : [])]);
  const Hs = stack<tf.Tensor2D>(ops, hs, 0);
  const A = stack<tf.Tensor2D>(ops, acts, 0); // [T·B, 4H]: r, z, n and h·Un + bhn
  save([X, h0, Wx, Wh, Hs, A]);
  return {
    value: Hs,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sX, sh0, sWx, sWh, sHs, sA] = saved as tf.Tensor2D[];
      const dhs = splitSteps(dy as tf.Tensor2D, T);
      const as = splitSteps(sA, T);
      const hsS = splitSteps(sHs, T);
      const WhT = tf.transpose(sWh);
      const ops = stepOps();
      const one = tf.scalar(1);
      let dhNext: tf.TensorInfo = tf.zerosLike(sh0);
      const dxps: tf.TensorInfo[] = new Array(T);
      const dhhs: tf.TensorInfo[] = new Array(T);
      for (let t = T - 1; t >= 0; t--) {
        const [r, z, n, hn] = ops.split(as[t], 4, 1);
        const hPrev = t === 0 ? sh0 : hsS[t - 1];
        const dh = ops.add(dhs[t], dhNext);
        const omz = ops.sub(one, z);
        const dhOmz = ops.mul(dh, omz);
        const n2 = ops.mul(n, n);
        const omn2 = ops.sub(one, n2);
        const dn = ops.mul(dhOmz, omn2); // through tanh
        const hmn = ops.sub(hPrev, n);
        const dhHmn = ops.mul(dh, hmn);
        const zOmz = ops.mul(z, omz);
        const dzp = ops.mul(dhHmn, zOmz);
        const omr = ops.sub(one, r);
        const rOmr = ops.mul(r, omr);
        const dnHn = ops.mul(dn, hn);
        const drp = ops.mul(dnHn, rOmr);
        const dnR = ops.mul(dn, r);
        dhhs[t] = ops.concat([drp, dzp, dnR], 1);
        dxps[t] = ops.concat([drp, dzp, dn], 1);
        const dhZ = ops.mul(dh, z);
        const back = ops.matMul(dhhs[t], WhT);
        const dhPrev = ops.add(dhZ, back);
        ops.dispose(r, z, n, hn, dh, omz, dhOmz, n2, omn2, dn, hmn, dhHmn, zOmz, dzp, omr, rOmr, dnHn, drp, dnR, dhZ, back);
        if (t < T - 1) ops.dispose(dhNext); // the first is a tensor of this scope
        dhNext = dhPrev;
      }
      const dXP = stack<tf.Tensor2D>(ops, dxps, 0);
      const dHH = stack<tf.Tensor2D>(ops, dhhs, 0);
      const dh0 = ops.tensor<tf.Tensor2D>(dhNext);
      const Hprev = previousStates(sh0, sHs, T);
      return [inputGrad(needDX, dXP, sWx, sX), dh0, tf.matMul(tf.transpose(sX), dXP), tf.matMul(tf.transpose(Hprev), dHH), tf.sum(dXP, 0), tf.sum(dHH, 0)];
    },
  };
});

/** Whether a sequence kernel exists for this cell type. */
export function hasSequenceKernel(type: CellType): boolean {
  return type === 'lstm' || type === 'rnn' || type === 'gru';
}

/**
 * Run one layer over a chunk with the sequence kernel.
 * @param X inputs, time-major [T·batch, input]
 * @param state [h0] or [h0, c0]
 * @param bh the GRU's recurrent bias
 * @param needDX false skips the gradient with respect to X (the one-hot input of layer 0, which
 *   no parameter produced): it is returned as zeros.
 * @param oneHotIds the ids (time-major) when X is their one-hot encoding: kernels that can use
 *   them look rows up instead of multiplying.
 */
export function runSequence(type: CellType, X: tf.Tensor2D, state: tf.Tensor2D[], Wx: tf.Tensor2D, Wh: tf.Tensor2D, b: tf.Tensor1D, bh?: tf.Tensor1D, needDX = true, oneHotIds?: Int32Array): SequenceResult {
  const B = state[0].shape[0];
  const H = state[0].shape[1];
  const TB = X.shape[0];
  if (type === 'lstm') {
    const k = fusedLstm(H);
    const packed = (k ? lstmSeqFused(k, needDX, BLOCK_FLOATS, needDX ? undefined : oneHotIds) : lstmPacked(needDX))(X, state[0], state[1], Wx, Wh, b);
    const outputs = packed.slice([0, 0], [TB, H]) as tf.Tensor2D;
    return { outputs, state: [packed.slice([TB - B, 0], [B, H]) as tf.Tensor2D, packed.slice([TB, 0], [B, H]) as tf.Tensor2D] };
  }
  if (type === 'rnn') {
    const k = fused(B, H);
    const outputs = (k ? rnnSeqFused(k, needDX, needDX ? undefined : oneHotIds) : rnnSeq(needDX))(X, state[0], Wx, Wh, b) as tf.Tensor2D;
    return { outputs, state: [outputs.slice([TB - B, 0], [B, H]) as tf.Tensor2D] };
  }
  if (type === 'gru') {
    if (!bh) throw new Error('runSequence: the GRU needs its recurrent bias bh');
    const outputs = gruSeq(needDX)(X, state[0], Wx, Wh, b, bh) as tf.Tensor2D;
    return { outputs, state: [outputs.slice([TB - B, 0], [B, H]) as tf.Tensor2D] };
  }
  throw new Error(`no sequence kernel for ${type}`);
}
