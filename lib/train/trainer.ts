/**
 * Training with truncated backprop through time, char-rnn style.
 *
 * Step s reads chunk s mod numChunks of the batch layout. The final state of a chunk is carried
 * into the next one *detached* (no gradient crosses a chunk boundary) and reset to zero at the
 * start of every epoch. Everything a run depends on (weights, optimizer slots, step, RNG, the
 * carried state, history) is in the checkpoint, so N steps + resume + N steps = 2N steps.
 */
import { createHash } from 'crypto';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { BatchLoader } from '../data/batches';
import { loadCheckpoint, saveCheckpoint } from './checkpoint';
import { sha256 } from '../data/corpus';
import { UserError } from '../util/errors';
import { evaluateLoss } from '../generate/evaluate';
import { crossEntropy } from '../nn/loss';
import { CharModel, disposeState, ModelState } from '../nn/model';
import { onHost } from '../nn/host-values';
import { ClipMode, clipGradients, hostGradNorm, Optimizer, OptimizerName, OPTIMIZERS } from './optim';
import { Rng, RngState } from '../util/rng';
import { NamedArray } from '../io/safetensors';
import { CheckpointLock, lockCheckpointDir } from '../io/lock';
import { detachState } from '../nn/unroll';
import { ByteVocab, Ids } from '../data/vocab';

/** Models up to this many parameters clip and update on the host (see Trainer.updateOnHost). */
export const HOST_UPDATE_LIMIT = 1 << 20;

export interface TrainArgs {
  /** Streams per batch. */
  batchSize: number;
  /** Time steps per chunk (BPTT length). */
  seqLength: number;
  /** Total optimizer steps; or give `epochs`. */
  steps?: number;
  /** Passes over the training data (used when `steps` is not given). */
  epochs?: number;
  optimizer?: OptimizerName;
  learningRate?: number;
  /** RMSprop's α (char-rnn's decay_rate, 0.95). */
  decayRate?: number;
  /** Multiply the learning rate by this after every epoch from `lrDecayAfter` on (char-rnn: 0.97). */
  lrDecay?: number;
  /** Epoch after which the decay starts (char-rnn: 10). */
  lrDecayAfter?: number;
  /**
   * A faster final decay: from epoch `lrAnnealAfter` on, ×lrAnneal after every epoch instead of
   * ×lrDecay (both unset: char-rnn's one decay to the end).
   */
  lrAnneal?: number;
  /** Epoch from which `lrAnneal` replaces `lrDecay`. */
  lrAnnealAfter?: number;
  /** Clip threshold; 0 = off. */
  gradClip?: number;
  /** 'norm' = global L2 norm (PyTorch's clip_grad_norm_), 'value' = clamp each entry (char-rnn). */
  clipMode?: ClipMode;
  /** Validate every this many steps (0 = only at the end). */
  evalEvery?: number;
  /** Streams used for validation. */
  valBatchSize?: number;
  /** Validate on at most this many bytes (0 = all). */
  maxValBytes?: number;
  /** Stop after this many validations without improvement (0 = never). */
  patience?: number;
  /** Seed for dropout masks (the model's init has its own seed). */
  seed?: number;
  /** Write a resumable checkpoint here. */
  checkpointDir?: string;
  /** …every this many steps (0 = only at the end), and at every validation that improves. */
  checkpointEvery?: number;
  /**
   * Where the data came from (the CLI stores its --corpus and --val-frac): saved with the
   * checkpoint so that a resume can load the same data again; the trainer does not use it.
   */
  source?: { corpus: string; valFrac: number };
  onProgress?: (p: TrainProgress) => void;
  /** Polled every step; return true to stop (e.g. after Ctrl-C). A checkpoint is written. */
  shouldStop?: () => boolean;
  /** Stop after this much wall-clock time in run() (a time budget); progress and ETA use it too. */
  maxSeconds?: number;
  /**
   * Take checkpointDir's lock even if another live trainer holds it (the other one stops at its
   * next save). Without it, a second trainer on a directory is refused (a LockedError).
   */
  forceLock?: boolean;
  /** Progress of the work before the first step that takes time on big corpora (hashing the data). */
  onPrepare?: (p: PrepareProgress) => void;
}

export interface PrepareProgress {
  phase: 'hashing';
  /** Bytes done of total. */
  done: number;
  total: number;
}

export interface TrainProgress {
  event: 'step' | 'eval' | 'done';
  step: number;
  totalSteps: number;
  epoch: number;
  /** Training loss of this step (nats/byte). */
  loss: number;
  /** Latest validation loss, if any. */
  valLoss?: number;
  learningRate: number;
  /** Training throughput over the recent steps. */
  bytesPerSec: number;
  etaSec: number;
}

export interface History {
  /** Training loss per step (nats/byte), step 1 first. */
  loss: number[];
  /** Validation points. */
  val: { step: number; loss: number }[];
}

export type StopReason = 'done' | 'early-stopping' | 'interrupted' | 'time-budget';

export interface TrainResult {
  reason: StopReason;
  steps: number;
  history: History;
  bestValLoss?: number;
  seconds: number;
}

const DEFAULTS = {
  optimizer: 'rmsprop' as OptimizerName,
  learningRate: 2e-3,
  decayRate: 0.95,
  lrDecay: 0.97,
  lrDecayAfter: 10,
  gradClip: 5,
  clipMode: 'norm' as ClipMode,
  evalEvery: 0,
  maxValBytes: 0,
  patience: 0,
  seed: 0,
  checkpointEvery: 0,
};

type Optional = 'checkpointDir' | 'onProgress' | 'shouldStop' | 'valBatchSize' | 'maxSeconds' | 'forceLock' | 'onPrepare' | 'lrAnneal' | 'lrAnnealAfter';
type Resolved = Required<Omit<TrainArgs, 'steps' | 'epochs' | Optional>> & Pick<TrainArgs, Optional> & { totalSteps: number };

/** A non-finite loss or gradient: training stopped, the last checkpoint is kept. */
export class NonFiniteLossError extends UserError {
  constructor(step: number, loss: number, norm: number, hasCheckpoint = true) {
    const kept = hasCheckpoint ? 'the last good checkpoint is kept' : 'the weights are those of the previous step';
    super(`loss became ${Number.isFinite(loss) ? loss : String(loss)} (gradient norm ${norm}) at step ${step}: training stopped, ${kept}; lower the learning rate or enable gradient clipping`);
  }
}

/** Prefix of a training-data hash over one byte per id (the form for ids < 256). */
const IDS8 = 'ids8:';

function fitsInBytes(ids: Ids): boolean {
  if (ids instanceof Uint8Array) return true;
  for (let i = 0; i < ids.length; i++) if (ids[i] < 0 || ids[i] > 255) return false;
  return true;
}

/**
 * The training data's fingerprint, by the ids' values whatever their array type: "ids8:" +
 * sha256 of one byte per id when every id is < 256, else sha256 of the ids as int32
 * little-endian (also the form of version-1 checkpoints, which `form: 'int32'` reproduces).
 * Hashed in 16 MB pieces, with no full copy.
 */
export function dataHash(ids: Ids, form?: 'ids8' | 'int32', onProgress?: (done: number, total: number) => void): string {
  const f = form ?? (fitsInBytes(ids) ? 'ids8' : 'int32');
  const same = (f === 'ids8') === (ids instanceof Uint8Array);
  if (same) return (f === 'ids8' ? IDS8 : '') + sha256(new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength), onProgress);
  // Convert piece by piece into the other width.
  const h = createHash('sha256');
  const PIECE = 1 << 22;
  const buf = f === 'ids8' ? new Uint8Array(PIECE) : new Int32Array(PIECE);
  for (let from = 0; from < ids.length; from += PIECE) {
    const to = Math.min(ids.length, from + PIECE);
    const piece = buf.subarray(0, to - from);
    piece.set(ids.subarray(from, to));
    h.update(new Uint8Array(piece.buffer, 0, piece.byteLength));
    onProgress?.(to, ids.length);
  }
  return (f === 'ids8' ? IDS8 : '') + h.digest('hex');
}

export class Trainer {
  readonly model: CharModel;
  /** The byte vocabulary (undefined for models over other ids, e.g. GPT-2 tokens: no checkpoints then). */
  readonly vocab?: ByteVocab;
  readonly args: Resolved;
  readonly loader: BatchLoader;
  readonly optimizer: Optimizer;
  private readonly valIds?: Ids;
  private readonly trainIds: Ids;
  private trainHashValue?: string;
  private lock?: CheckpointLock;
  rng: Rng;
  /** Optimizer steps done. */
  step = 0;
  history: History = { loss: [], val: [] };
  bestValLoss = Infinity;
  private badEvals = 0;
  /** The state carried into the next chunk (detached), or undefined at an epoch start. */
  private carry?: ModelState;
  private recent: { t: number; step: number }[] = [];

  constructor(model: CharModel, vocab: ByteVocab | undefined, data: { train: Ids; val?: Ids }, args: TrainArgs) {
    if (vocab && vocab.size !== model.config.vocabSize) throw new UserError(`vocabulary has ${vocab.size} bytes, the model ${model.config.vocabSize}`);
    this.model = model;
    this.vocab = vocab;
    this.loader = new BatchLoader(data.train, args.batchSize, args.seqLength);
    const opt = args.optimizer ?? DEFAULTS.optimizer;
    if (!OPTIMIZERS.includes(opt)) throw new UserError(`unknown optimizer "${opt}": use ${OPTIMIZERS.join(', ')}`);
    let totalSteps: number;
    if (args.steps !== undefined) totalSteps = args.steps;
    else if (args.epochs !== undefined) totalSteps = Math.round(args.epochs * this.loader.numChunks);
    else throw new UserError('give steps or epochs');
    if (!Number.isInteger(totalSteps) || totalSteps < 0) throw new UserError(`steps must be a non-negative integer, got ${totalSteps}`);
    const defined = Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined));
    this.args = { ...DEFAULTS, ...defined, optimizer: opt, totalSteps } as Resolved;
    if (!(this.args.learningRate > 0)) throw new UserError(`learningRate must be positive, got ${this.args.learningRate}`);
    if ((this.args.lrAnneal === undefined) !== (this.args.lrAnnealAfter === undefined)) throw new UserError('lrAnneal and lrAnnealAfter go together: give both or neither');
    if (!['norm', 'value'].includes(this.args.clipMode)) throw new UserError(`clipMode must be norm or value, got ${this.args.clipMode}`);
    this.optimizer = new Optimizer({ name: opt, decayRate: this.args.decayRate });
    this.rng = new Rng(this.args.seed);
    this.valIds = data.val && data.val.length >= 2 ? (this.args.maxValBytes > 0 ? data.val.subarray(0, this.args.maxValBytes) : data.val) : undefined;
    this.trainIds = data.train;
  }

  /** The training data's fingerprint (saved in checkpoints; a resume checks it). */
  get trainHash(): string {
    if (this.trainHashValue === undefined) {
      const onPrepare = this.args.onPrepare;
      this.trainHashValue = dataHash(this.trainIds, undefined, onPrepare && ((done, total) => onPrepare({ phase: 'hashing', done, total })));
    }
    return this.trainHashValue;
  }

  /**
   * Take the lock of checkpoint directory `dir` (run() holds it while it runs, save() while it
   * saves): throws a LockedError if another live trainer holds it, unless args.forceLock.
   */
  private lockDir(dir: string): CheckpointLock {
    return lockCheckpointDir(dir, { force: this.args.forceLock, forceHint: 'forceLock: true (CLI: --force-lock)' });
  }

  get epoch(): number {
    return Math.floor(this.step / this.loader.numChunks);
  }

  /**
   * char-rnn's schedule: ×lrDecay at the end of every epoch ≥ lrDecayAfter; from epoch
   * lrAnnealAfter on (if set), ×lrAnneal instead.
   */
  learningRateAt(step: number): number {
    const e = Math.floor(step / this.loader.numChunks);
    const { learningRate, lrDecay, lrDecayAfter, lrAnneal, lrAnnealAfter } = this.args;
    const annealFrom = lrAnneal !== undefined && lrAnnealAfter !== undefined ? Math.max(lrAnnealAfter, lrDecayAfter) : Infinity;
    // Decays at the ends of epochs lrDecayAfter..e: those before annealFrom by lrDecay, the rest by lrAnneal.
    const slow = Math.max(0, Math.min(e + 1, annealFrom) - lrDecayAfter);
    const fast = Math.max(0, e + 1 - annealFrom);
    return learningRate * Math.pow(lrDecay, slow) * (fast > 0 ? Math.pow(lrAnneal!, fast) : 1);
  }

  /**
   * Whether this step clips and updates on the host (optim.ts `applyOnHost`): on the wasm and
   * cpu backends, for models up to HOST_UPDATE_LIMIT parameters (a JavaScript loop beats ~12
   * kernels per parameter there); UNREASONABLE_HOST_UPDATE=0 turns it off.
   */
  private updateOnHost(params: Map<string, tf.Variable>): boolean {
    if (process.env.UNREASONABLE_HOST_UPDATE === '0' || !onHost()) return false;
    let n = 0;
    for (const v of params.values()) n += v.size;
    return n <= HOST_UPDATE_LIMIT;
  }

  /** One optimizer step on the next chunk. Returns the training loss (nats/byte). */
  trainStep(): number {
    const { model, loader } = this;
    const c = this.step % loader.numChunks;
    if (c === 0) {
      disposeState(this.carry);
      this.carry = undefined;
    }
    const chunk = loader.chunk(c);
    const B = loader.batchSize;
    const start = this.carry ?? model.zeroState(B);
    const params = model.namedParams();
    const lr = this.learningRateAt(this.step);
    let next: ModelState | undefined;
    const stats = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const r = model.forward(chunk.x, B, loader.seqLength, start, { training: true, rng: this.rng });
        next = detachState(r.state).map((l) => l.map((t) => tf.keep(t)));
        return crossEntropy(r.logits, chunk.y);
      }, [...params.values()]);
      const named = new Map<string, tf.Tensor>();
      for (const [name, v] of params) named.set(name, grads[v.name]);
      if (this.updateOnHost(params)) {
        // Small model on wasm/cpu: clip and update in one pass over the values (optim.ts).
        const loss = value.dataSync()[0];
        const norm = hostGradNorm(named.values());
        if (!Number.isFinite(loss) || !Number.isFinite(norm)) return { loss, norm, ok: false };
        this.optimizer.applyOnHost(params, named, lr, this.args.gradClip, this.args.clipMode, norm);
        return { loss, norm, ok: true };
      }
      const clipped = clipGradients(named, this.args.gradClip, this.args.clipMode);
      const both = tf.stack([value, clipped.norm]);
      const [loss, norm] = both.dataSync();
      if (!Number.isFinite(loss) || !Number.isFinite(norm)) return { loss, norm, ok: false };
      this.optimizer.apply(params, clipped.grads, lr);
      return { loss, norm, ok: true };
    });
    disposeState(start);
    if (!stats.ok) {
      disposeState(next);
      this.carry = undefined;
      throw new NonFiniteLossError(this.step + 1, stats.loss, stats.norm, this.args.checkpointDir !== undefined);
    }
    this.carry = next;
    this.step++;
    this.history.loss.push(stats.loss);
    return stats.loss;
  }

  /** Validation loss (nats/byte) on the validation ids; NaN without them. */
  evaluate(): number {
    return this.evaluateModel(this.model);
  }

  /** Validation loss of another model (e.g. averaged weights), measured as `evaluate` measures the trained one. */
  evaluateModel(model: CharModel): number {
    if (!this.valIds) return NaN;
    return evaluateLoss(model, this.valIds, { batchSize: this.args.valBatchSize ?? this.args.batchSize, seqLength: this.args.seqLength });
  }

  private throughput(): { bytesPerSec: number; etaSec: number } {
    const now = performance.now();
    this.recent.push({ t: now, step: this.step });
    if (this.recent.length > 20) this.recent.shift();
    const first = this.recent[0];
    const dt = (now - first.t) / 1000;
    const steps = this.step - first.step;
    const stepsPerSec = dt > 0 && steps > 0 ? steps / dt : 0;
    return {
      bytesPerSec: stepsPerSec * this.loader.chunkBytes,
      etaSec: stepsPerSec > 0 ? (this.args.totalSteps - this.step) / stepsPerSec : NaN,
    };
  }

  private validate(): number {
    const v = this.evaluate();
    if (Number.isNaN(v)) return v;
    this.history.val.push({ step: this.step, loss: v });
    if (v < this.bestValLoss - 1e-9) {
      this.bestValLoss = v;
      this.badEvals = 0;
    } else this.badEvals++;
    return v;
  }

  /** Train until totalSteps, early stopping or shouldStop(); checkpoints as configured. */
  async run(): Promise<TrainResult> {
    const a = this.args;
    const t0 = performance.now();
    const valLoss = this.history.val.at(-1)?.loss;
    if (a.checkpointDir) {
      this.lock = this.lockDir(a.checkpointDir);
      void this.trainHash; // before the first step, not inside its save
    }
    try {
      return await this.runLocked(t0, valLoss);
    } finally {
      this.lock?.release();
      this.lock = undefined;
    }
  }

  private async runLocked(t0: number, lastVal: number | undefined): Promise<TrainResult> {
    const a = this.args;
    let valLoss = lastVal;
    let reason: StopReason = 'done';
    this.recent = [];
    this.throughput();
    while (this.step < a.totalSteps) {
      if (a.shouldStop?.()) {
        reason = 'interrupted';
        break;
      }
      if (a.maxSeconds !== undefined && (performance.now() - t0) / 1000 >= a.maxSeconds) {
        reason = 'time-budget';
        break;
      }
      const loss = this.trainStep();
      const last = this.step === a.totalSteps;
      let event: TrainProgress['event'] = 'step';
      let improved = false;
      if (this.valIds && ((a.evalEvery > 0 && this.step % a.evalEvery === 0) || last)) {
        const before = this.bestValLoss;
        valLoss = this.validate();
        improved = this.bestValLoss < before;
        event = 'eval';
      }
      const tp = this.throughput();
      if (a.maxSeconds !== undefined) tp.etaSec = Math.max(0, Math.min(tp.etaSec, a.maxSeconds - (performance.now() - t0) / 1000));
      a.onProgress?.({ event, step: this.step, totalSteps: a.totalSteps, epoch: this.epoch, loss, valLoss, learningRate: this.learningRateAt(this.step - 1), ...tp });
      if (a.checkpointDir && (improved || last || (a.checkpointEvery > 0 && this.step % a.checkpointEvery === 0))) this.save(a.checkpointDir);
      if (event === 'eval' && a.patience > 0 && this.badEvals >= a.patience) {
        reason = 'early-stopping';
        break;
      }
      // Let the event loop run (Ctrl-C handlers, display updates): costs microseconds a step.
      await new Promise((r) => setImmediate(r));
    }
    if (reason === 'time-budget' && this.valIds && this.history.val.at(-1)?.step !== this.step) {
      valLoss = this.validate();
    }
    if (a.checkpointDir && reason !== 'done') this.save(a.checkpointDir);
    const seconds = (performance.now() - t0) / 1000;
    const tp = this.throughput();
    a.onProgress?.({ event: 'done', step: this.step, totalSteps: a.totalSteps, epoch: this.epoch, loss: this.history.loss.at(-1) ?? NaN, valLoss, learningRate: this.learningRateAt(Math.max(0, this.step - 1)), ...tp });
    return { reason, steps: this.step, history: this.history, bestValLoss: Number.isFinite(this.bestValLoss) ? this.bestValLoss : undefined, seconds };
  }

  /** What resume needs, as JSON (tensors go to trainer.safetensors). */
  private trainingState(): Record<string, unknown> {
    const { onProgress, shouldStop, checkpointDir, maxSeconds, forceLock, onPrepare, ...args } = this.args;
    void onProgress, shouldStop, checkpointDir, maxSeconds, forceLock, onPrepare;
    return {
      step: this.step,
      args,
      rng: this.rng.getState(),
      optimizerStep: this.optimizer.t,
      history: this.history,
      bestValLoss: Number.isFinite(this.bestValLoss) ? this.bestValLoss : null,
      badEvals: this.badEvals,
      trainHash: this.trainHash,
      hasCarry: this.carry !== undefined,
    };
  }

  private trainerTensors(): Map<string, NamedArray> {
    const out = new Map<string, NamedArray>();
    for (const [k, v] of this.optimizer.getState().slots) out.set(`opt/${k}`, v);
    this.carry?.forEach((layer, l) => layer.forEach((t, k) => out.set(`carry/${l}/${k}`, { shape: t.shape, data: t.dataSync() as Float32Array })));
    return out;
  }

  /** Write a resumable checkpoint (atomically), holding the directory's lock (see lockCheckpoint). */
  save(dir: string): void {
    if (!this.vocab) throw new UserError('checkpoints need a byte vocabulary: this trainer was created without one');
    const held = this.lock && this.lock.dir === path.resolve(dir) ? this.lock : undefined;
    const lock = held ?? this.lockDir(dir);
    try {
      lock.assertHeld();
      saveCheckpoint(dir, { model: this.model, vocab: this.vocab, training: this.trainingState(), trainerTensors: this.trainerTensors() });
    } finally {
      if (!held) lock.release();
    }
  }

  /**
   * Continue a run from a checkpoint written by `save`. The data must be the same bytes;
   * `overrides` may change what does not alter the math so far (steps/epochs, eval, checkpointing, callbacks).
   */
  static resume(dir: string, data: { train: Ids; val?: Ids }, overrides: Partial<TrainArgs> = {}): Trainer {
    const ck = loadCheckpoint(dir);
    const ts = ck.meta.training as
      | { step: number; args: TrainArgs & { totalSteps: number }; rng: RngState; optimizerStep: number; history: History; bestValLoss: number | null; badEvals: number; trainHash: string; hasCarry: boolean }
      | undefined;
    if (!ts || !ck.trainerTensors) {
      ck.model.dispose();
      throw new UserError(`checkpoint ${dir} has no training state: it can be sampled but not resumed`);
    }
    const onPrepare = overrides.onPrepare;
    const form = typeof ts.trainHash === 'string' && ts.trainHash.startsWith(IDS8) ? 'ids8' : 'int32';
    if (dataHash(data.train, form, onPrepare && ((done, total) => onPrepare({ phase: 'hashing', done, total }))) !== ts.trainHash) {
      ck.model.dispose();
      throw new UserError(`cannot resume from ${dir}: the training data differs from the data it was trained on`);
    }
    const { totalSteps, ...saved } = ts.args;
    const args: TrainArgs = { ...saved, steps: totalSteps, ...overrides, checkpointDir: overrides.checkpointDir ?? dir };
    if (overrides.epochs !== undefined && overrides.steps === undefined) delete args.steps;
    const tr = new Trainer(ck.model, ck.vocab, data, args);
    tr.trainHashValue = ts.trainHash; // checked above
    tr.step = ts.step;
    tr.rng = Rng.fromState(ts.rng);
    tr.history = ts.history;
    tr.bestValLoss = ts.bestValLoss ?? Infinity;
    tr.badEvals = ts.badEvals;
    const slots = new Map<string, NamedArray>();
    for (const [k, v] of ck.trainerTensors) if (k.startsWith('opt/')) slots.set(k.slice(4), v);
    tr.optimizer.setState(ts.optimizerStep, slots);
    if (ts.hasCarry) {
      tr.carry = ck.model.cells.map((cell, l) =>
        Array.from({ length: cell.stateCount }, (_, k) => {
          const t = ck.trainerTensors!.get(`carry/${l}/${k}`);
          if (!t) throw new UserError(`checkpoint ${dir} is missing the carried state carry/${l}/${k}`);
          return tf.tensor2d(t.data, t.shape as [number, number]);
        }),
      );
    }
    return tr;
  }

  dispose(): void {
    disposeState(this.carry);
    this.carry = undefined;
    this.optimizer.dispose();
  }
}
