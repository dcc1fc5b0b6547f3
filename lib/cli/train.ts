/**
 * `unreasonable train`: train a model on a corpus into a checkpoint directory, or resume one.
 *
 * Ctrl-C (SIGINT) or SIGTERM stops after the current step, writes a checkpoint and exits 130
 * (143 for SIGTERM) with the command that resumes; a second Ctrl-C exits at once (130; lib/util/signals.ts) — the
 * checkpoint on disk is always a complete one, since saves are atomic and synchronous.
 *
 * One trainer per directory: the run holds DIR/trainer.lock (lib/io/lock.ts); a second trainer is
 * refused (exit 1) unless --force-lock; a lock left by a killed trainer is taken over.
 */
import * as fs from 'fs';
import * as path from 'path';
import { initBackend, describeBackend } from '../backend/select';
import { Activation, CellType } from '../nn/cells';
import { readCheckpointMeta } from '../train/checkpoint';
import { InitName, initConfig, initOf } from '../nn/init';
import { Log, preflightCheckpointDir, shellQuote } from './util';
import { loadCorpus, splitCorpus } from '../data/corpus';
import { UsageError, UserError } from '../util/errors';
import { onStopSignals } from '../util/signals';
import { toBits } from '../nn/loss';
import { CharModel } from '../nn/model';
import { ClipMode, OptimizerName } from '../train/optim';
import { lockCheckpointDir } from '../io/lock';
import { createPhaseProgress, createProgress } from './progress';
import { Trainer, TrainArgs } from '../train/trainer';
import { ByteVocab, Ids } from '../data/vocab';

export interface TrainOptions {
  /** Required unless --resume finds it in the checkpoint. */
  corpus?: string;
  model: CellType;
  layers: number;
  hidden: number;
  batch: number;
  seq: number;
  steps?: number;
  epochs?: number;
  optimizer: OptimizerName;
  lr: number;
  dropout: number;
  /** Weight drop: fraction of the recurrent weights dropped per training chunk. */
  weightDrop: number;
  /** Weight initialisation: char-rnn (±0.08, forget bias 1) or torch (±1/√hidden, forget bias 0). */
  init: InitName;
  /** LSTM forget-gate bias at init instead of the --init's own. */
  forgetBias?: number;
  /** Vanilla RNN nonlinearity: tanh (default), relu or gelu. */
  activation: Activation;
  clip: number;
  clipMode: ClipMode;
  valFrac: number;
  seed: number;
  checkpoint: string;
  checkpointEvery: number;
  evalEvery: number;
  patience: number;
  logEvery: number;
  /** Without a terminal: also a line whenever this many seconds passed since the last one. */
  logSeconds?: number;
  resume?: boolean;
  force?: boolean;
  /** Take the directory's lock even if another trainer holds it. */
  forceLock?: boolean;
  fullVocab?: boolean;
}

export interface GlobalOptions {
  quiet?: boolean;
  backend?: string;
}

export const DEFAULT_STEPS = 1000;

/** Flags that fix the model or the batch layout: a resumed run must keep them. */
function conflictsWithCheckpoint(opts: TrainOptions, given: (k: keyof TrainOptions) => boolean, dir: string): { vocab: ByteVocab; source?: TrainArgs['source'] } {
  const meta = readCheckpointMeta(dir);
  const saved = (meta.training?.args ?? {}) as Partial<TrainArgs>;
  const checks: [keyof TrainOptions, string, unknown][] = [
    ['model', 'model', meta.model.modelType],
    ['layers', 'layers', meta.model.numLayers],
    ['hidden', 'hidden', meta.model.hiddenSize],
    ['dropout', 'dropout', meta.model.dropout],
    ['weightDrop', 'weight-drop', meta.model.weightDrop ?? 0],
    ['activation', 'activation', meta.model.activation ?? 'tanh'],
    ['batch', 'batch', saved.batchSize],
    ['seq', 'seq', saved.seqLength],
    ['optimizer', 'optimizer', saved.optimizer],
    ['seed', 'seed', saved.seed],
  ];
  const bad = checks.filter(([k, , v]) => given(k) && v !== undefined && opts[k] !== v).map(([k, flag, v]) => `--${flag} ${opts[k]} (checkpoint: ${v})`);
  const savedInit = initOf(meta.model);
  if (given('init') && savedInit.init !== opts.init) bad.push(`--init ${opts.init} (checkpoint: ${savedInit.init ?? `uniform ±${meta.model.initScale}`})`);
  if (given('forgetBias') && opts.forgetBias !== savedInit.forgetBias) {
    bad.push(`--forget-bias ${opts.forgetBias} (checkpoint: ${savedInit.forgetBias ?? `${meta.model.modelType}, no forget gate`})`);
  }
  const vocab = ByteVocab.fromJSON(meta.vocab);
  if (given('fullVocab') && opts.fullVocab && vocab.size !== 256) bad.push(`--full-vocab (checkpoint: ${vocab.size} bytes)`);
  if (bad.length) {
    throw new UsageError(`cannot resume ${dir} with ${bad.join(', ')}: a resumed run keeps the model and batch layout; drop these flags, or train into a new --checkpoint directory`);
  }
  return { vocab, source: saved.source };
}

export async function runTrain(opts: TrainOptions, given: (k: keyof TrainOptions) => boolean, global: GlobalOptions): Promise<number> {
  const log = new Log(Boolean(global.quiet));
  const dir = path.resolve(opts.checkpoint);
  if (opts.steps !== undefined && opts.epochs !== undefined) throw new UsageError('give --steps or --epochs, not both');
  if (opts.resume && opts.force) throw new UsageError('--resume and --force exclude each other');
  if (given('forgetBias') && !opts.resume && opts.model !== 'lstm') throw new UsageError(`--forget-bias applies to an LSTM only (--model ${opts.model} has no forget gate)`);
  const hasCheckpoint = preflightCheckpointDir(dir);
  if (opts.resume && !hasCheckpoint) throw new UserError(`nothing to resume: ${dir} holds no checkpoint`);
  if (!opts.resume && hasCheckpoint && !opts.force) {
    throw new UsageError(`${dir} already holds a checkpoint: add --resume to continue it, or --force to start afresh (it is replaced at the first save)`);
  }
  const lock = lockCheckpointDir(dir, { force: opts.forceLock, forceHint: '--force-lock', onNote: (line) => log.info(line) });
  try {
    return await trainLocked(opts, given, global, dir, log);
  } finally {
    lock.release();
  }
}

async function trainLocked(opts: TrainOptions, given: (k: keyof TrainOptions) => boolean, global: GlobalOptions, dir: string, log: Log): Promise<number> {
  const resumeInfo = opts.resume ? conflictsWithCheckpoint(opts, given, dir) : undefined;
  // A resume reads --corpus and --val-frac from the checkpoint unless they are given.
  const corpusSpec = opts.corpus ?? resumeInfo?.source?.corpus;
  if (!corpusSpec) {
    throw new UsageError(resumeInfo ? `--corpus is needed: ${dir} does not record the corpus it was trained on` : "required option '--corpus <name|path>' not specified");
  }
  if (resumeInfo?.source && !given('valFrac')) opts.valFrac = resumeInfo.source.valFrac;

  const phase = createPhaseProgress({ quiet: Boolean(global.quiet) });
  const corpus = await loadCorpus(corpusSpec, undefined, phase(`reading ${corpusSpec}`));
  const info = await initBackend(global.backend);
  log.info(describeBackend(info));
  const split = splitCorpus(corpus.data, { train: 1 - opts.valFrac, val: opts.valFrac });
  const vocab = resumeInfo?.vocab ?? (opts.fullVocab ? ByteVocab.full() : ByteVocab.fromData(corpus.data));
  const corpusBytes = corpus.data.length;
  let data: { train: Ids; val: Ids };
  try {
    // One byte per id, written over the corpus' own buffer: memory stays ~1 byte per corpus byte.
    const encoding = phase('encoding');
    const onProgress = (done: number) => encoding(done, corpusBytes);
    data = { train: vocab.encodeBytes(split.train, { inPlace: true, onProgress }), val: vocab.encodeBytes(split.val, { inPlace: true, onProgress: (d) => onProgress(split.train.length + d) }) };
  } catch (e) {
    if (!resumeInfo) throw e;
    throw new UserError(`cannot resume ${dir}: the corpus has bytes its vocabulary lacks, so it is not the corpus it was trained on (${(e as Error).message})`);
  }

  let signal: NodeJS.Signals | undefined;
  const progress = createProgress({ quiet: Boolean(global.quiet), every: opts.logEvery, seconds: opts.logSeconds });
  // What a later --resume needs to load the same data (saved in the checkpoint): a file by its
  // absolute path, else the corpus name.
  const source = { corpus: fs.existsSync(corpusSpec) ? path.resolve(corpusSpec) : corpusSpec, valFrac: opts.valFrac };
  const hashing = phase('hashing the training data');
  const common: Partial<TrainArgs> = {
    source,
    onProgress: (p) => progress.update(p),
    shouldStop: () => signal !== undefined,
    forceLock: opts.forceLock,
    onPrepare: (p) => hashing(p.done, p.total),
  };
  let trainer: Trainer;
  if (resumeInfo) {
    const overrides: Partial<TrainArgs> = { ...common, checkpointDir: dir };
    if (given('steps')) overrides.steps = opts.steps;
    if (given('epochs')) overrides.epochs = opts.epochs;
    if (given('lr')) overrides.learningRate = opts.lr;
    if (given('clip')) overrides.gradClip = opts.clip;
    if (given('clipMode')) overrides.clipMode = opts.clipMode;
    if (given('evalEvery')) overrides.evalEvery = opts.evalEvery;
    if (given('patience')) overrides.patience = opts.patience;
    if (given('checkpointEvery')) overrides.checkpointEvery = opts.checkpointEvery;
    try {
      trainer = Trainer.resume(dir, data, overrides);
    } catch (e) {
      if (e instanceof UserError && /training data differs/.test(e.message)) {
        throw new UserError(`${e.message} (use the same --corpus and --val-frac as the run that wrote it)`);
      }
      throw e;
    }
    log.info(`resuming from step ${trainer.step} of ${trainer.args.totalSteps} (${dir})`);
  } else {
    if (opts.activation !== 'tanh' && opts.model !== 'rnn') throw new UsageError(`--activation ${opts.activation} is for --model rnn only (the ${opts.model} keeps its tanh)`);
    const init = initConfig({ init: opts.init, hiddenSize: opts.hidden, modelType: opts.model, forgetBias: opts.forgetBias });
    const model = new CharModel({ modelType: opts.model, vocabSize: vocab.size, hiddenSize: opts.hidden, numLayers: opts.layers, dropout: opts.dropout, ...(opts.weightDrop > 0 ? { weightDrop: opts.weightDrop } : {}), ...(opts.activation !== 'tanh' ? { activation: opts.activation } : {}), ...init }, opts.seed);
    try {
      trainer = new Trainer(model, vocab, data, {
        ...common,
        batchSize: opts.batch,
        seqLength: opts.seq,
        steps: opts.steps ?? (opts.epochs === undefined ? DEFAULT_STEPS : undefined),
        epochs: opts.epochs,
        optimizer: opts.optimizer,
        learningRate: opts.lr,
        gradClip: opts.clip,
        clipMode: opts.clipMode,
        evalEvery: opts.evalEvery,
        patience: opts.patience,
        seed: opts.seed,
        checkpointDir: dir,
        checkpointEvery: opts.checkpointEvery,
      });
    } catch (e) {
      model.dispose();
      throw e;
    }
    if (trainer.args.totalSteps === 0) {
      trainer.model.dispose();
      trainer.dispose();
      throw new UsageError(`--epochs ${opts.epochs} is less than one step (an epoch is ${trainer.loader.numChunks} steps of ${opts.batch}×${opts.seq})`);
    }
    const initLine = `init ${opts.init} (uniform ±${+init.initScale.toPrecision(4)}${init.forgetBias === undefined ? '' : `, forget-gate bias ${init.forgetBias}`})`;
    log.info(`${opts.model} ${opts.layers}×${opts.hidden}, ${model.numParams()} parameters, ${initLine}, vocabulary ${vocab.size} bytes; corpus ${corpus.name} (${corpusBytes} bytes, ${data.train.length} for training); ${trainer.args.totalSteps} steps of ${opts.batch}×${opts.seq}`);
  }

  const removeSignals = onStopSignals({
    onStop: (sig) => {
      signal = sig;
      progress.note(`${sig}: stopping after the current step and saving a checkpoint (Ctrl-C again quits at once; the last checkpoint stays intact)`);
    },
    onAgain: () => {
      progress.stop();
      process.stderr.write(`error: interrupted again: exiting without saving; ${dir} holds the last checkpoint written\n`);
      process.exit(130);
    },
  });
  try {
    if (trainer.step >= trainer.args.totalSteps) {
      log.info(`nothing to do: the checkpoint is at step ${trainer.step} of ${trainer.args.totalSteps}; pass --steps N (or --epochs N) to train longer`);
      return 0;
    }
    const r = await trainer.run();
    progress.stop();
    if (r.reason === 'interrupted') {
      process.stderr.write(`interrupted at step ${r.steps}/${trainer.args.totalSteps}: checkpoint saved to ${dir}; resume with: unreasonable train --checkpoint ${shellQuote(dir)} --resume\n`);
      return signal === 'SIGTERM' ? 143 : 130;
    }
    const last = r.history.loss.at(-1);
    const best = r.bestValLoss !== undefined ? `, best validation loss ${r.bestValLoss.toFixed(4)} nats/byte (${toBits(r.bestValLoss).toFixed(3)} bpc)` : '';
    const why = r.reason === 'early-stopping' ? ' (early stopping: validation loss stopped improving)' : '';
    log.info(`done${why}: step ${r.steps}/${trainer.args.totalSteps} in ${r.seconds.toFixed(1)} s, training loss ${last?.toFixed(4) ?? '-'}${best}; checkpoint ${dir}`);
    return 0;
  } finally {
    progress.stop();
    removeSignals();
    trainer.model.dispose();
    trainer.dispose();
  }
}
