/**
 * The LSTM over a chunk on the wasm backend with each step's pointwise work as one
 * WebAssembly call (lstm.wat) on the backend's own memory, between its matmuls:
 *
 *   forward, per step:  hw = h_{t−1}·Wh (the backend's XNNPACK matmul), then one call computes
 *                       the gates, c_t and h_t and writes them straight into the chunk's
 *                       [T·B, ·] outputs (no per-gate tensors, no stacking copies);
 *   backward, per step: one call computes dz_t (into the block's dZ) and carries dc, then
 *                       dh_{t−1} = dz_t·Whᵀ (matmul).
 *
 * x·Wx for all steps and the weight gradients (dWxᵀ = dZᵀ·X, dWhᵀ = dZᵀ·H_prev from the dZᵀ the
 * backward step also writes, its rows padded: block-grads.ts paddedLd) stay one big matmul
 * each, block by block as in sequence.ts's kernel path; the backward step adds up db itself.
 * This replaces that path where it applies (wasm, threaded or not, H a multiple of 4), and
 * test/sequence.test.ts compares the two. Same math as Cell.step; σ and tanh are tanh4.wat's
 * rational approximation (within 4e-7).
 */
import * as tf from '@tensorflow/tfjs';
import { BlockGrads, blockPrevious, paddedLd, stepRows } from './block-grads';
import { stepOps } from './stepops';
import { instantiateWat, WasmMemory } from './wat';

interface Exports {
  lstmForwardStep(xp: number, hw: number, bias: number, cPrev: number, act: number, c: number, h: number, h2: number, B: number, H: number): void;
  lstmBackwardStep(dy: number, dhNext: number, dc: number, act: number, c: number, cPrev: number, dz: number, dz2: number, dzT: number, ldT: number, db: number, B: number, H: number): void;
}

/** The parts of the wasm backend used here. */
interface WasmBackend {
  /** wasmMemory: the threaded build's (shared) memory; asm.memory: the stock single-threaded build's. */
  wasm: { wasmMemory?: WasmMemory; asm?: { memory?: WasmMemory }; HEAPF32: Float32Array };
  dataIdMap: { get(id: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  disposeData(id: object): boolean;
}

let compiled: { memory: WasmMemory; k: Exports } | undefined;

/** The active wasm backend's memory, in either build (undefined on other backends). */
function backendMemory(): WasmMemory | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const wasm = (tf.backend() as unknown as WasmBackend).wasm;
  return wasm.wasmMemory ?? wasm.asm?.memory;
}

/**
 * Compile lstm.wat against the active wasm backend's memory (once per memory). Resolves to
 * whether the fused LSTM is available; false on other backends or if compiling fails.
 */
export async function loadLstmKernels(): Promise<boolean> {
  const memory = backendMemory();
  if (!memory) return false;
  if (compiled?.memory === memory) return true;
  try {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const decl = `(import "env" "memory" (memory 1${shared ? ' 65536 shared' : ''}))`;
    const k = (await instantiateWat('lstm.wat', decl, { env: { memory } })) as Exports;
    compiled = { memory, k };
    return true;
  } catch {
    return false;
  }
}

let enabled = process.env.UNREASONABLE_FUSED_LSTM !== '0';

/** Turn the fused LSTM on or off (the tests compare both paths; UNREASONABLE_FUSED_LSTM=0 turns it off); returns the old setting. */
export function setFusedLstm(on: boolean): boolean {
  const old = enabled;
  enabled = on;
  return old;
}

/** The kernels, where they apply to a layer of `H` units on the active backend. */
export function fusedLstm(H: number): Exports | undefined {
  if (!enabled || !compiled || H % 4 !== 0) return undefined;
  return backendMemory() === compiled.memory ? compiled.k : undefined;
}

/** Byte addresses of tensors in the wasm heap, and new uninitialised ones. */
class Heap {
  readonly backend = tf.backend() as unknown as WasmBackend;

  ptr(t: tf.TensorInfo): number {
    const d = this.backend.dataIdMap.get(t.dataId);
    if (!d) throw new Error('lstm-fused: a tensor without data');
    return d.memoryOffset;
  }

  alloc(shape: number[]): tf.TensorInfo {
    return this.backend.makeOutput(shape, 'float32');
  }

  /** n floats from byte address `from` to byte address `to`. */
  copy(to: number, from: number, n: number): void {
    const f = this.backend.wasm.HEAPF32;
    f.copyWithin(to >> 2, from >> 2, (from >> 2) + n);
  }

  fill(at: number, n: number, v: number): void {
    this.backend.wasm.HEAPF32.fill(v, at >> 2, (at >> 2) + n);
  }
}

type Fn = (...args: tf.Tensor[]) => tf.Tensor;

/**
 * The fused LSTM as a custom op: (X [T·B, In], h0, c0 [B, H], Wx [In, 4H], Wh [H, 4H], b [4H])
 * → [h_1 … h_T; c_T], [(T+1)·B, H] (one output, as the kernel path's). `blockFloats` bounds the
 * backward's dZ block ([steps·B, 4H]); `needDX` false returns zeros for dX. With `ids` (time-major)
 * X is their one-hot rows: x·Wx is a row lookup and dWx a scatter-add of dZ's rows (X is not read).
 */
export function lstmSeqFused(k: Exports, needDX: boolean, blockFloats: number, ids?: Int32Array): Fn {
  return tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [X, h0, c0, Wx, Wh, b] = args.slice(0, 6) as tf.Tensor2D[];
    const save = args[6] as tf.GradSaveFunc;
    const [B, H] = h0.shape;
    const T = X.shape[0] / B;
    const G = 4 * H;
    const heap = new Heap();
    const ops = stepOps();
    // [T·B, 4H], without the bias (the step adds it)
    const XP = ids ? tf.tidy(() => tf.gather(Wx, tf.tensor1d(ids, 'int32'))) : tf.matMul(X, Wx);
    const act = heap.alloc([T * B, G]); // i, f, g, o of every step
    const C = heap.alloc([T * B, H]); // c_t of every step
    const out = heap.alloc([(T + 1) * B, H]); // h_1 … h_T, then c_T
    const hBuf = [heap.alloc([B, H]), heap.alloc([B, H])]; // h_t for the next step's matmul
    const pXP = heap.ptr(XP), pb = heap.ptr(b), pAct = heap.ptr(act), pC = heap.ptr(C), pOut = heap.ptr(out), pc0 = heap.ptr(c0);
    let h: tf.TensorInfo = h0;
    for (let t = 0; t < T; t++) {
      const hw = ops.matMul(h, Wh); // [B, 4H]
      const next = hBuf[t % 2];
      k.lstmForwardStep(pXP + t * B * G * 4, heap.ptr(hw), pb, t === 0 ? pc0 : pC + (t - 1) * B * H * 4, pAct + t * B * G * 4, pC + t * B * H * 4, pOut + t * B * H * 4, t < T - 1 ? heap.ptr(next) : 0, B, H);
      ops.dispose(hw);
      h = next;
    }
    heap.copy(pOut + T * B * H * 4, pC + (T - 1) * B * H * 4, B * H); // c_T
    ops.dispose(...hBuf);
    XP.dispose();
    const value = ops.tensor<tf.Tensor2D>(out);
    const Act = ops.tensor<tf.Tensor2D>(act);
    const Cs = ops.tensor<tf.Tensor2D>(C);
    save([X, h0, c0, Wx, Wh, value, Cs, Act]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sX, sh0, sc0, sWx, sWh, sOut, sC, sAct] = saved as tf.Tensor2D[];
        const heap = new Heap();
        const ops = stepOps();
        const WhT = tf.transpose(sWh); // [4H, H]
        const WxT = needDX ? tf.transpose(sWx) : undefined;
        const pdy = heap.ptr(dy), // dy [(T+1)·B, H]: dL/dh_t, then dL/dc_T
          pAct = heap.ptr(sAct), pC = heap.ptr(sC), pc0 = heap.ptr(sc0);
        const dc = heap.alloc([B, H]); // carried dc, in place
        heap.copy(heap.ptr(dc), pdy + T * B * H * 4, B * H);
        let dhNext = heap.alloc([B, H]);
        heap.fill(heap.ptr(dhNext), B * H, 0);
        const dzStep = heap.alloc([B, G]); // dz_t for the matmul
        const db = heap.alloc([G]); // Σ of every dz_t's rows, added by the backward step
        heap.fill(heap.ptr(db), G, 0);
        const Tb = Math.max(1, Math.floor(blockFloats / (B * G)));
        const grads = new BlockGrads(WxT, false);
        for (let t1 = T; t1 > 0; t1 -= Tb) {
          const t0 = Math.max(0, t1 - Tb);
          const n = t1 - t0;
          const dZi = heap.alloc([n * B, G]);
          const ld = paddedLd(n * B);
          const dZTi = heap.alloc([G, ld]); // dZᵀ, for the weight gradients (block-grads.ts), its last ld − n·B columns zeros
          const pdZ = heap.ptr(dZi), pdZT = heap.ptr(dZTi);
          if (ld > n * B) for (let r = 0; r < G; r++) heap.fill(pdZT + (r * ld + n * B) * 4, ld - n * B, 0);
          for (let t = t1 - 1; t >= t0; t--) {
            k.lstmBackwardStep(pdy + t * B * H * 4, heap.ptr(dhNext), heap.ptr(dc), pAct + t * B * G * 4, pC + t * B * H * 4, t === 0 ? pc0 : pC + (t - 1) * B * H * 4, pdZ + (t - t0) * B * G * 4, heap.ptr(dzStep), pdZT + (t - t0) * B * 4, ld * 4, heap.ptr(db), B, H);
            const dhPrev = ops.matMul(dzStep, WhT); // [B, H]
            ops.dispose(dhNext);
            dhNext = dhPrev;
          }
          grads.add(
            ops.tensor<tf.Tensor2D>(dZi), // [n·B, 4H]
            {
              ...(ids
                ? { x: (dZ: tf.Tensor2D) => tf.scatterND(tf.tensor2d(ids.subarray(t0 * B, t1 * B), [n * B, 1], 'int32'), dZ, sWx.shape) as tf.Tensor2D } // Σ of dZ's rows per id
                : { xRows: () => stepRows(sX, B, t0, n) }), // [n·B, In]
              hPrev: () => blockPrevious(sh0, sOut, t0, n), // h_{t−1}: h0, then the outputs' rows
            },
            ops.tensor<tf.Tensor2D>(dZTi), // [4H, ld]
          );
        }
        ops.dispose(dzStep);
        tf.dispose([WhT, ...(WxT ? [WxT] : [])]);
        const dh0 = ops.tensor<tf.Tensor2D>(dhNext);
        const dc0 = ops.tensor<tf.Tensor2D>(dc);
        const [dX, dWx, dWh] = grads.result(sX);
        return [dX, dh0, dc0, dWx, dWh, ops.tensor<tf.Tensor1D>(db)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as Fn;
}
