/**
 * Optimizers with their state in plain named tensors, so a checkpoint can hold it and
 * resume exactly. The update rules follow Torch7 optim (char-rnn) and PyTorch:
 *
 *   rmsprop: m = α·m + (1−α)·g²;  p −= lr·g / (√m + ε)        α = decayRate 0.95, ε 1e-8 (char-rnn)
 *   adam:    m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²;
 *            p −= lr·m̂ / (√v̂ + ε),  m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ)   β1 .9, β2 .999, ε 1e-8
 *   adagrad: s += g²;  p −= lr·g / (√s + ε)                      ε 1e-10
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../util/errors';
import { hostValues, writableValues } from '../nn/host-values';

export type OptimizerName = 'rmsprop' | 'adam' | 'adagrad';
export const OPTIMIZERS: OptimizerName[] = ['rmsprop', 'adam', 'adagrad'];

export interface OptimizerArgs {
  name: OptimizerName;
  /** RMSprop's moving-average decay α (char-rnn's decay_rate). */
  decayRate?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

const SLOTS: Record<OptimizerName, string[]> = { rmsprop: ['ms'], adam: ['m', 'v'], adagrad: ['sum'] };

export class Optimizer {
  readonly name: OptimizerName;
  readonly decayRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** Updates applied so far (Adam's t). */
  t = 0;
  /** slot name → param name → tensor */
  private slots = new Map<string, tf.Variable>();
  /** Slots of the host path (applyOnHost) as plain arrays: updated in place, no tensors. */
  private hostSlots = new Map<string, { shape: number[]; data: Float32Array }>();

  constructor(args: OptimizerArgs) {
    if (!OPTIMIZERS.includes(args.name)) throw new UserError(`unknown optimizer "${args.name}": use ${OPTIMIZERS.join(', ')}`);
    this.name = args.name;
    this.decayRate = args.decayRate ?? 0.95;
    this.beta1 = args.beta1 ?? 0.9;
    this.beta2 = args.beta2 ?? 0.999;
    this.epsilon = args.epsilon ?? (args.name === 'adagrad' ? 1e-10 : 1e-8);
  }

  private slot(kind: string, param: string, like: tf.Tensor): tf.Variable {
    const key = `${kind}/${param}`;
    const host = this.hostSlots.get(key);
    if (host) {
      // Back from the host path: the array becomes a variable again.
      this.slots.set(key, tf.tidy(() => tf.variable(tf.tensor(host.data, host.shape), false)));
      this.hostSlots.delete(key);
    }
    let v = this.slots.get(key);
    if (!v) {
      v = tf.tidy(() => tf.variable(tf.zerosLike(like), false)); // the variable owns its buffer alone
      this.slots.set(key, v);
    }
    return v;
  }

  /** p −= update(g) for every named gradient. */
  apply(params: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, learningRate: number): void {
    this.t++;
    const t = this.t;
    tf.tidy(() => {
      for (const [name, p] of params) {
        const g = grads.get(name);
        if (!g) continue;
        switch (this.name) {
          case 'rmsprop': {
            const ms = this.slot('ms', name, p);
            ms.assign(tf.add(tf.mul(ms, this.decayRate), tf.mul(tf.square(g), 1 - this.decayRate)));
            p.assign(tf.sub(p, tf.div(tf.mul(g, learningRate), tf.add(tf.sqrt(ms), this.epsilon))));
            break;
          }
          case 'adam': {
            const m = this.slot('m', name, p);
            const v = this.slot('v', name, p);
            m.assign(tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1)));
            v.assign(tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2)));
            const bc1 = 1 - Math.pow(this.beta1, t);
            const bc2 = 1 - Math.pow(this.beta2, t);
            const denom = tf.add(tf.sqrt(tf.div(v, bc2)), this.epsilon);
            p.assign(tf.sub(p, tf.div(tf.mul(m, learningRate / bc1), denom)));
            break;
          }
          case 'adagrad': {
            const s = this.slot('sum', name, p);
            s.assign(tf.add(s, tf.square(g)));
            p.assign(tf.sub(p, tf.div(tf.mul(g, learningRate), tf.add(tf.sqrt(s), this.epsilon))));
            break;
          }
        }
      }
    });
  }

  /**
   * Clip the gradients and apply the update in one pass over the values, in JavaScript (the
   * wasm and cpu backends; see host-values.ts). Same rules as `clipGradients` + `apply`; for a
   * small model this replaces ~12 kernels per parameter. `norm` is the gradients' global norm
   * (`hostGradNorm`), used by norm clipping.
   */
  applyOnHost(params: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, learningRate: number, gradClip: number, clipMode: ClipMode, norm: number): void {
    this.t++;
    const clipValue = gradClip > 0 && clipMode === 'value' ? gradClip : Infinity;
    const scale = gradClip > 0 && clipMode === 'norm' ? Math.min(1, gradClip / (norm + 1e-6)) : 1;
    const { decayRate: a, beta1: b1, beta2: b2, epsilon: eps } = this;
    const lrBc1 = learningRate / (1 - Math.pow(b1, this.t));
    const bc2 = 1 - Math.pow(b2, this.t);
    for (const [name, p] of params) {
      const gt = grads.get(name);
      if (!gt) continue;
      const sb = SLOTS[this.name].map((kind) => this.hostSlot(kind, name, p));
      const pb = writableValues(p);
      const g = hostValues(gt); // a view: taken after the last allocation before its use
      hostUpdate(this.name, pb.data, g, sb[0], sb[1], { lr: learningRate, lrBc1, bc2, a, b1, b2, eps, scale, clipValue });
      pb.commit();
    }
  }

  /** A slot of the host path (zeros at first, or taken over from a variable). */
  private hostSlot(kind: string, param: string, like: tf.Tensor): Float32Array {
    const key = `${kind}/${param}`;
    let h = this.hostSlots.get(key);
    if (!h) {
      const v = this.slots.get(key);
      h = { shape: like.shape.slice(), data: v ? (v.dataSync() as Float32Array).slice() : new Float32Array(like.size) };
      if (v) {
        v.dispose();
        this.slots.delete(key);
      }
      this.hostSlots.set(key, h);
    }
    return h.data;
  }

  /** The state as named arrays ("m/layers.0.Wx", …) plus the step count. */
  getState(): { t: number; slots: Map<string, { shape: number[]; data: Float32Array }> } {
    const slots = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [k, v] of this.slots) slots.set(k, { shape: v.shape, data: v.dataSync() as Float32Array });
    for (const [k, h] of this.hostSlots) slots.set(k, { shape: h.shape.slice(), data: h.data.slice() });
    return { t: this.t, slots };
  }

  setState(t: number, slots: Map<string, { shape: number[]; data: Float32Array }>): void {
    const allowed = SLOTS[this.name];
    this.dispose();
    this.t = t;
    for (const [k, { shape, data }] of slots) {
      if (!allowed.includes(k.split('/')[0])) throw new UserError(`optimizer state has "${k}", which ${this.name} does not use`);
      this.slots.set(k, tf.tidy(() => tf.variable(tf.tensor(data, shape), false)));
    }
  }

  dispose(): void {
    for (const v of this.slots.values()) v.dispose();
    this.slots.clear();
    this.hostSlots.clear();
  }
}

export type ClipMode = 'norm' | 'value';

interface HostUpdateArgs {
  lr: number;
  /** Adam's lr/(1−β1ᵗ) and 1−β2ᵗ. */
  lrBc1: number;
  bc2: number;
  a: number;
  b1: number;
  b2: number;
  eps: number;
  /** Norm clipping's factor (1: none) and value clipping's bound (Infinity: none). */
  scale: number;
  clipValue: number;
}

/** One parameter's clip + update over its values; a loop per rule, so each stays tight. */
function hostUpdate(name: OptimizerName, P: Float32Array, G: Float32Array, S0: Float32Array, S1: Float32Array | undefined, o: HostUpdateArgs): void {
  const n = P.length;
  const { lr, scale, clipValue: c, eps } = o;
  if (name === 'adagrad') {
    for (let i = 0; i < n; i++) {
      const gi = Math.min(c, Math.max(-c, G[i] * scale));
      const s = (S0[i] += gi * gi);
      P[i] -= (lr * gi) / (Math.sqrt(s) + eps);
    }
  } else if (name === 'rmsprop') {
    const a = o.a;
    for (let i = 0; i < n; i++) {
      const gi = Math.min(c, Math.max(-c, G[i] * scale));
      const ms = (S0[i] = a * S0[i] + (1 - a) * gi * gi);
      P[i] -= (lr * gi) / (Math.sqrt(ms) + eps);
    }
  } else {
    const { b1, b2, lrBc1, bc2 } = o;
    const V = S1!;
    for (let i = 0; i < n; i++) {
      const gi = Math.min(c, Math.max(-c, G[i] * scale));
      const m = (S0[i] = b1 * S0[i] + (1 - b1) * gi);
      const v = (V[i] = b2 * V[i] + (1 - b2) * gi * gi);
      P[i] -= (lrBc1 * m) / (Math.sqrt(v / bc2) + eps);
    }
  }
}

/** The global L2 norm of the gradients, computed over their values in JavaScript (float64). */
export function hostGradNorm(grads: Iterable<tf.Tensor>): number {
  let sum = 0;
  for (const t of grads) {
    const g = hostValues(t);
    for (let i = 0; i < g.length; i++) sum += g[i] * g[i];
  }
  return Math.sqrt(sum);
}

/**
 * Clip gradients: by global L2 norm (scale all by min(1, clip/(‖g‖+1e-6)), PyTorch's
 * clip_grad_norm_) or by value (clamp each entry to [−clip, clip], char-rnn's grad_clip).
 * Returns the clipped gradients and the global norm before clipping (a scalar tensor).
 */
export function clipGradients(grads: Map<string, tf.Tensor>, gradClip: number, mode: ClipMode): { grads: Map<string, tf.Tensor>; norm: tf.Scalar } {
  const norm = tf.sqrt(tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g))))) as tf.Scalar;
  const out = new Map<string, tf.Tensor>();
  if (!(gradClip > 0)) {
    for (const [k, g] of grads) out.set(k, g);
  } else if (mode === 'value') {
    for (const [k, g] of grads) out.set(k, tf.clipByValue(g, -gradClip, gradClip));
  } else {
    const scale = tf.minimum(1, tf.div(gradClip, tf.add(norm, 1e-6)));
    for (const [k, g] of grads) out.set(k, tf.mul(g, scale));
  }
  return { grads: out, norm };
}
