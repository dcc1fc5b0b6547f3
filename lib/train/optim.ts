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
    let v = this.slots.get(key);
    if (!v) {
      v = tf.variable(tf.zerosLike(like), false);
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

  /** The state as named arrays ("m/layers.0.Wx", …) plus the step count. */
  getState(): { t: number; slots: Map<string, { shape: number[]; data: Float32Array }> } {
    const slots = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [k, v] of this.slots) slots.set(k, { shape: v.shape, data: v.dataSync() as Float32Array });
    return { t: this.t, slots };
  }

  setState(t: number, slots: Map<string, { shape: number[]; data: Float32Array }>): void {
    const allowed = SLOTS[this.name];
    this.dispose();
    this.t = t;
    for (const [k, { shape, data }] of slots) {
      if (!allowed.includes(k.split('/')[0])) throw new UserError(`optimizer state has "${k}", which ${this.name} does not use`);
      this.slots.set(k, tf.variable(tf.tensor(data, shape), false));
    }
  }

  dispose(): void {
    for (const v of this.slots.values()) v.dispose();
    this.slots.clear();
  }
}

export type ClipMode = 'norm' | 'value';

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
