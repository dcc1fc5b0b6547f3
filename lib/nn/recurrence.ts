/**
 * The vanilla RNN's recurrence as two WebAssembly SIMD functions (recurrence.wat), for small
 * models on the wasm and cpu backends.
 *
 * At min-char-rnn's size (batch 1, hidden 100, seq 25) a step's work, a [1, 100]·[100, 100]
 * product and a tanh, is ~10 k multiply-adds, and each of the ~6 backend kernels a step costs
 * more in bookkeeping than in arithmetic. Here the whole chunk's recurrence is one call each
 * way; the big products around it (x·Wx for all steps, the weight gradients) stay one
 * backend matmul each (sequence.ts). Compiled from the text at start-up with wabt
 * (`loadRecurrence`, which initBackend awaits); until then `recurrence()` is undefined and the
 * kernels path runs.
 */
import { instantiateWat } from './wat';

interface Exports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  rnnForward(xp: number, wh: number, h0: number, hs: number, T: number, B: number, H: number, hp: number): void;
  rnnBackward(dy: number, hs: number, h0: number, wh: number, dz: number, dh: number, dwh: number, T: number, B: number, H: number, hp: number): void;
}

export interface Recurrence {
  /**
   * h_t = tanh(xp_t + h_{t−1}·Wh) for t = 0 … T−1.
   * @param xp time-major [T·B, H] (x·Wx + b)  @param wh [H, H]  @param h0 [B, H]
   * @returns Hs, time-major [T·B, H]
   */
  rnnForward(xp: Float32Array, wh: Float32Array, h0: Float32Array, T: number, B: number, H: number): Float32Array;
  /**
   * dz_t = (dy_t + dz_{t+1}·Whᵀ) ⊙ (1 − h_t²), from t = T−1 down.
   * @param dy dL/dHs [T·B, H]  @param hs Hs [T·B, H]  @param h0 [B, H]  @param wh [H, H]
   * @returns dZ [T·B, H] (the gradient at the pre-activations), dL/dh0 [B, H] and
   *   dWh = Σ_t h_{t−1}ᵀ·dz_t [H, H]
   */
  rnnBackward(dy: Float32Array, hs: Float32Array, h0: Float32Array, wh: Float32Array, T: number, B: number, H: number): { dZ: Float32Array; dh0: Float32Array; dWh: Float32Array };
}

let loaded: Recurrence | undefined;
let loading: Promise<Recurrence | undefined> | undefined;

/** The compiled recurrence, once `loadRecurrence` has finished (undefined before or if it failed). */
export function recurrence(): Recurrence | undefined {
  return loaded;
}

/** Compile recurrence.wat (once). Resolves to undefined where wabt or SIMD is unavailable. */
export function loadRecurrence(): Promise<Recurrence | undefined> {
  loading ??= (async () => {
    try {
      loaded = wrap((await instantiateWat('recurrence.wat', '', {})) as Exports);
    } catch {
      loaded = undefined;
    }
    return loaded;
  })();
  return loading;
}

function wrap(e: Exports): Recurrence {
  /** Regions of `count` floats each, back to back from byte 0, growing the memory as needed. */
  const layout = (counts: number[]): { offsets: number[]; heap: Float32Array } => {
    const offsets: number[] = [];
    let bytes = 0;
    for (const c of counts) {
      offsets.push(bytes);
      bytes += c * 4;
    }
    const have = e.memory.buffer.byteLength;
    if (bytes > have) e.memory.grow(Math.ceil((bytes - have) / 65536));
    return { offsets, heap: new Float32Array(e.memory.buffer) };
  };
  /** rows × H values into rows × hp at a float offset (zero padding). */
  const put = (heap: Float32Array, at: number, src: Float32Array, rows: number, H: number, hp: number) => {
    if (hp === H) heap.set(src, at);
    else {
      heap.fill(0, at, at + rows * hp);
      for (let r = 0; r < rows; r++) heap.set(src.subarray(r * H, r * H + H), at + r * hp);
    }
  };
  const get = (heap: Float32Array, at: number, rows: number, H: number, hp: number): Float32Array => {
    if (hp === H) return heap.slice(at, at + rows * H);
    const out = new Float32Array(rows * H);
    for (let r = 0; r < rows; r++) out.set(heap.subarray(at + r * hp, at + r * hp + H), r * H);
    return out;
  };
  return {
    rnnForward(xp, wh, h0, T, B, H) {
      const hp = (H + 3) & ~3;
      const { offsets: [oxp, owh, oh0, ohs], heap } = layout([T * B * hp, H * hp, B * hp, T * B * hp]);
      put(heap, oxp / 4, xp, T * B, H, hp);
      put(heap, owh / 4, wh, H, H, hp);
      put(heap, oh0 / 4, h0, B, H, hp);
      e.rnnForward(oxp, owh, oh0, ohs, T, B, H, hp);
      return get(heap, ohs / 4, T * B, H, hp);
    },
    rnnBackward(dy, hs, h0, wh, T, B, H) {
      const hp = (H + 3) & ~3;
      const { offsets: [ody, ohs, oh0, owh, odz, odh, odwh], heap } = layout([T * B * hp, T * B * hp, B * hp, H * hp, T * B * hp, B * hp, H * hp]);
      put(heap, ody / 4, dy, T * B, H, hp);
      put(heap, ohs / 4, hs, T * B, H, hp);
      put(heap, oh0 / 4, h0, B, H, hp);
      put(heap, owh / 4, wh, H, H, hp);
      heap.fill(0, odh / 4, odh / 4 + B * hp);
      heap.fill(0, odwh / 4, odwh / 4 + H * hp);
      e.rnnBackward(ody, ohs, oh0, owh, odz, odh, odwh, T, B, H, hp);
      return { dZ: get(heap, odz / 4, T * B, H, hp), dh0: get(heap, odh / 4, B, H, hp), dWh: get(heap, odwh / 4, H, H, hp) };
    },
  };
}
