/**
 * Train a shipped model from its recipe (lib/pretrained/recipes.ts), resumably, and export it to models/NAME.
 *
 *   npm run pretrain -- NAME [--minutes M] [--steps N]   train (or continue) for at most M minutes
 *                                            (default 60) or N steps this sitting
 *   npm run pretrain -- NAME --export        write models/NAME from the best checkpoint so far
 *                          [--ship-resume]   …and the resumable checkpoint (models/NAME/resume/),
 *                                            so that a fresh clone continues the run
 *   npm run pretrain -- NAME --refresh-card  rewrite the card after an edit of the recipe's purpose,
 *                                            targets or tried (weights and numbers as they are)
 *   npm run pretrain -- NAME --remeasure     measure the card's held-out loss and best units again
 *                                            on the shipped weights (after a change in how they are
 *                                            measured), with the recipe's purpose, targets and tried
 *   npm run pretrain -- NAME --ship-resume   only the resumable checkpoint: the shipped weights and
 *                                            card stay (a new recipe's run that has not beaten them
 *                                            yet; the card keeps the recipe that made its weights)
 *
 * Work files live in runs/pretrain/NAME/: train/ (the resumable checkpoint, saved every
 * validation and at the end of a sitting), best/ (weights of the best validation so far), for a
 * recipe with `averageLast` evals/ (the last evaluations' weights) and mean/ (their best mean),
 * sittings.json (one entry per sitting: commit, start, seconds, steps, bytes/s). Ctrl-C or
 * SIGTERM stops after the current step and saves; the next call continues exactly. (package.json
 * runs this with `node --import tsx`, not the tsx command: that one forwards a signal to a child
 * busy in a step and SIGKILLs it 60 ms later, losing the sitting.)
 */
import * as fs from 'fs';
import * as path from 'path';
import { execSync } from 'child_process';
import { describeBackend, initBackend } from '../lib/backend/select';
import { CheckpointMeta, loadCheckpoint, modelTensors, readCheckpointMeta, saveCheckpoint } from '../lib/train/checkpoint';
import { loadCorpus, splitCorpus } from '../lib/data/corpus';
import { UserError } from '../lib/util/errors';
import { onStopSignals } from '../lib/util/signals';
import { CharModel } from '../lib/nn/model';
import { findRecipe, Recipe, RECIPES } from '../lib/pretrained/recipes';
import { Trainer } from '../lib/train/trainer';
import { ByteVocab } from '../lib/data/vocab';

import { exportShipped, refreshCard, remeasureCard, unitText, writeModelsReadme } from './pretrain-export';
import { writeDirAtomic } from '../lib/io/atomic';
import { LockedError, lockCheckpointDir } from '../lib/io/lock';
import { modelsDir } from '../lib/pretrained/load';
import { evalStepDir, keptEvals, meanWeights, pruneEvals } from '../lib/train/average';

/** What mean/checkpoint.json records: the steps averaged and the mean's held-out loss. */
export interface MeanRecord {
  steps: number[];
  valLoss: number;
}

/** The run's best window mean so far (mean/), if any. */
export function readMeanRecord(dir: string): MeanRecord | undefined {
  const f = path.join(dir, 'mean', 'checkpoint.json');
  return fs.existsSync(f) ? ((readCheckpointMeta(path.join(dir, 'mean')).training as unknown) as MeanRecord) : undefined;
}

/**
 * A recipe's `averageLast` k: keep this evaluation's weights in evals/ (the last k), evaluate the mean
 * of the last k evaluations' weights as the trainer evaluates its own, and keep it in mean/ when it
 * reads lower than the window kept there.
 */
function averageWindow(recipe: Recipe, dir: string, trainer: Trainer, step: number, valLoss: number): void {
  const k = recipe.averageLast!;
  const evals = path.join(dir, 'evals');
  saveCheckpoint(path.join(evals, evalStepDir(step)), { model: trainer.model, vocab: trainer.vocab!, training: { step, valLoss } });
  pruneEvals(evals, k);
  const steps = keptEvals(evals);
  // The window: the run's last k evaluations, all kept (a run resumed from before one lacks it for a while).
  if (steps.join() !== trainer.history.val.slice(-k).map((v) => v.step).join() || steps.length < k) return;
  // This evaluation's weights are the trained model's; the earlier ones come from evals/.
  const sets = steps.map((s) => {
    if (s === step) return modelTensors(trainer.model);
    const c = loadCheckpoint(path.join(evals, evalStepDir(s)));
    const w = modelTensors(c.model);
    c.model.dispose();
    return w;
  });
  const mean = new CharModel(trainer.model.config);
  try {
    mean.setWeights(meanWeights(sets));
    const loss = trainer.evaluateModel(mean);
    const kept = readMeanRecord(dir);
    const better = !kept || loss < kept.valLoss;
    console.error(`${recipe.name} step ${step}: the mean of the weights at steps ${steps.join(', ')} reads ${loss.toFixed(4)}${better ? ' (the lowest window yet: kept in mean/)' : ''}`);
    if (better) saveCheckpoint(path.join(dir, 'mean'), { model: mean, vocab: trainer.vocab!, training: { steps, valLoss: loss } });
  } finally {
    mean.dispose();
  }
}

const ROOT = path.resolve(__dirname, '..');

/** runs/pretrain/NAME, or $UNREASONABLE_PRETRAIN_DIR/NAME. */
export function workDir(name: string): string {
  return path.join(process.env.UNREASONABLE_PRETRAIN_DIR ? path.resolve(process.env.UNREASONABLE_PRETRAIN_DIR) : path.join(ROOT, 'runs', 'pretrain'), name);
}

export interface Sitting {
  commit: string;
  start: string;
  seconds: number;
  fromStep: number;
  toStep: number;
  bytesPerSec: number;
  backend: string;
}

export function readSittings(name: string): Sitting[] {
  const f = path.join(workDir(name), 'sittings.json');
  return fs.existsSync(f) ? (JSON.parse(fs.readFileSync(f, 'utf8')) as Sitting[]) : [];
}

function writeSittings(name: string, s: Sitting[]): void {
  const f = path.join(workDir(name), 'sittings.json');
  const tmp = `${f}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(s, null, 1) + '\n');
  fs.renameSync(tmp, f);
}

export function gitCommit(): string {
  try {
    const head = execSync('git rev-parse --short=12 HEAD', { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execSync('git status --porcelain -- lib scripts', { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    return dirty ? `${head}+changes` : head;
  } catch {
    return 'unknown';
  }
}

export async function recipeData(recipe: Recipe) {
  const corpus = await loadCorpus(recipe.corpus);
  const split = splitCorpus(corpus.data, { train: 1 - recipe.valFrac, val: recipe.valFrac });
  return { corpus, split };
}

/**
 * A shipped model whose run is not finished carries its resumable checkpoint in
 * models/NAME/resume/ (with sittings.json): a fresh clone continues from there.
 */
function seedFromShipped(name: string): void {
  const dir = workDir(name);
  const resume = path.join(modelsDir(), name, 'resume');
  if (fs.existsSync(path.join(dir, 'train', 'checkpoint.json')) || !fs.existsSync(path.join(resume, 'checkpoint.json'))) return;
  fs.mkdirSync(path.join(dir, 'train'), { recursive: true });
  for (const f of fs.readdirSync(resume)) {
    fs.copyFileSync(path.join(resume, f), path.join(f === 'sittings.json' ? dir : path.join(dir, 'train'), f));
  }
  console.error(`${name}: continuing the run shipped in ${path.relative(ROOT, resume)}/`);
}

/** Copy the resumable checkpoint and the sittings into models/NAME/resume/ (for an unfinished run). */
export function shipResume(name: string): void {
  const dir = workDir(name);
  if (!fs.existsSync(path.join(dir, 'train', 'checkpoint.json'))) throw new UserError(`${name}: no run to ship in ${path.relative(ROOT, dir)}/ (train first: npm run pretrain -- ${name})`);
  // A trainer still running would change the checkpoint while it is copied, and its sitting is not recorded yet.
  let lock: ReturnType<typeof lockCheckpointDir>;
  try {
    lock = lockCheckpointDir(path.join(dir, 'train'));
  } catch (e) {
    if (!(e instanceof LockedError)) throw e;
    throw new UserError(`${name}: a trainer is still running on ${path.relative(ROOT, dir)}/ (pid ${e.owner.pid}): stop it first (Ctrl-C, or kill -TERM ${e.owner.pid}: it saves and records its sitting)`);
  }
  try {
    if (!fs.existsSync(path.join(dir, 'sittings.json'))) throw new UserError(`${name}: ${path.relative(ROOT, dir)}/sittings.json is missing: no sitting of this run finished`);
    const files = new Map<string, Uint8Array>();
    const meta = readCheckpointMeta(path.join(dir, 'train'));
    for (const f of ['checkpoint.json', ...Object.keys(meta.files)]) files.set(f, fs.readFileSync(path.join(dir, 'train', f)));
    files.set('sittings.json', fs.readFileSync(path.join(dir, 'sittings.json')));
    writeDirAtomic(path.join(modelsDir(), name, 'resume'), files);
    writeModelsReadme(); // its size line, and the run in progress
  } finally {
    lock.release();
  }
}

/**
 * A resumable run belongs to the current recipe: the same model and training arguments, bar `epochs`
 * (a recipe may grow its epochs to continue a finished run) and bar a final decay (`lrAnneal`,
 * `lrAnnealAfter`) added to a run that has not reached its first epoch yet (the steps done are the
 * new recipe's). Else a one-line UserError.
 */
export function assertRunOfRecipe(recipe: Recipe, meta: CheckpointMeta, dir: string): void {
  const t = meta.training as { step: number; args: Record<string, unknown> } | undefined;
  const differ: string[] = [];
  const saved = { weightDrop: 0, ...meta.model } as Record<string, unknown>;
  for (const [k, v] of Object.entries({ weightDrop: 0, ...recipe.model })) if (saved[k] !== v) differ.push(`model.${k}`);
  const anneal = ['lrAnneal', 'lrAnnealAfter'];
  // Steps an epoch: the run's steps for its epochs (both saved; the epochs are whole).
  const perEpoch = t && typeof t.args.epochs === 'number' ? Math.round((t.args.totalSteps as number) / t.args.epochs) : NaN;
  const annealAdded = t !== undefined && anneal.every((k) => t.args[k] === undefined) && recipe.train.lrAnnealAfter !== undefined &&
    t.step <= recipe.train.lrAnnealAfter * perEpoch;
  for (const k of new Set([...Object.keys(recipe.train), ...anneal])) {
    if (k === 'epochs' || (annealAdded && anneal.includes(k))) continue;
    if (t?.args[k] !== (recipe.train as unknown as Record<string, unknown>)[k]) differ.push(`train.${k}`);
  }
  if (t?.args.seed !== recipe.seed) differ.push('seed');
  if (differ.length) {
    throw new UserError(`${recipe.name}: the run in ${dir}/ was trained with another recipe (${differ.join(', ')} differ): move that directory away to start the current recipe afresh`);
  }
}

/**
 * Train (or continue) a recipe's run in runs/pretrain/NAME for at most `minutes` this sitting (or
 * `maxSteps` steps): what `npm run pretrain -- NAME` does; exported for a trial recipe not in RECIPES yet.
 */
export async function trainRecipe(recipe: Recipe, minutes: number, maxSteps = Infinity): Promise<void> {
  const info = await initBackend();
  console.error(describeBackend(info));
  const { corpus, split } = await recipeData(recipe);
  const dir = workDir(recipe.name);
  const trainDir = path.join(dir, 'train');
  const bestDir = path.join(dir, 'best');
  fs.mkdirSync(dir, { recursive: true });
  let stop = false;
  onStopSignals({
    onStop: () => {
      stop = true;
      console.error('stopping after this step; the checkpoint is saved (signal again to quit at once)');
    },
    onAgain: () => process.exit(130),
  });
  let trainer: Trainer;
  let fromStep = Infinity;
  let evaluatedAt = -1;
  const hooks = {
    maxSeconds: minutes * 60,
    // A resumable checkpoint every 20 steps as well (a crash loses at most that).
    checkpointEvery: 20,
    shouldStop: () => stop || trainer.step - fromStep >= maxSteps,
    onProgress: (p: import('../lib/train/trainer').TrainProgress) => {
      // An evaluation at this step, seen once (the 'done' event repeats the last one when it was at the last step).
      if (p.event !== 'step' && p.valLoss !== undefined && trainer.history.val.at(-1)?.step === p.step && p.step !== evaluatedAt) {
        evaluatedAt = p.step;
        if (p.valLoss === trainer.bestValLoss) saveCheckpoint(bestDir, { model: trainer.model, vocab: trainer.vocab!, training: { step: p.step, valLoss: p.valLoss } });
        if ((recipe.averageLast ?? 1) > 1) averageWindow(recipe, dir, trainer, p.step, p.valLoss);
      }
      if (p.event !== 'step' || p.step % 20 === 0) {
        const val = p.valLoss !== undefined ? ` val ${p.valLoss.toFixed(4)}` : '';
        console.error(`${recipe.name} step ${p.step}/${p.totalSteps} epoch ${p.epoch} loss ${p.loss.toFixed(4)}${val} lr ${p.learningRate.toExponential(2)} ${Math.round(p.bytesPerSec)} B/s`);
      }
    },
  };
  seedFromShipped(recipe.name);
  if (fs.existsSync(path.join(trainDir, 'checkpoint.json'))) {
    // The vocabulary from the metadata alone: Trainer.resume loads the tensors.
    const meta = readCheckpointMeta(trainDir);
    // The recipe's epochs govern (more epochs continue a finished run), and a final decay not begun yet; whatever else
    // it changed would alter the steps done.
    assertRunOfRecipe(recipe, meta, path.relative(ROOT, dir));
    const vocab = ByteVocab.fromJSON(meta.vocab);
    const data = { train: vocab.encode(split.train), val: vocab.encode(split.val) };
    // The recipe's training arguments govern: assertRunOfRecipe let only its epochs and a final decay differ.
    trainer = Trainer.resume(trainDir, data, { ...hooks, ...recipe.train });
    console.error(`${recipe.name}: resuming at step ${trainer.step} of ${trainer.args.totalSteps}`);
  } else {
    const vocab = ByteVocab.fromData(corpus.data);
    const m = recipe.model;
    const model = new CharModel({ ...m, vocabSize: vocab.size }, recipe.seed);
    const t = recipe.train;
    trainer = new Trainer(model, vocab, { train: vocab.encode(split.train), val: vocab.encode(split.val) }, {
      ...t,
      seed: recipe.seed,
      checkpointDir: trainDir,
      source: { corpus: recipe.corpus, valFrac: recipe.valFrac },
      ...hooks,
    });
    console.error(`${recipe.name}: ${m.modelType} ${m.numLayers}×${m.hiddenSize}, ${model.numParams()} parameters, ${trainer.args.totalSteps} steps`);
  }
  fromStep = trainer.step;
  const start = new Date().toISOString();
  const commit = gitCommit(); // the code this sitting runs (read now: the tree may change while it trains)
  const r = await trainer.run();
  const bytes = (trainer.step - fromStep) * trainer.loader.chunkBytes;
  const sittings = readSittings(recipe.name);
  sittings.push({ commit, start, seconds: Math.round(r.seconds), fromStep, toStep: trainer.step, bytesPerSec: Math.round(bytes / r.seconds), backend: describeBackend(info) });
  writeSittings(recipe.name, sittings);
  console.error(`${recipe.name}: ${r.reason} at step ${trainer.step}/${trainer.args.totalSteps} after ${r.seconds.toFixed(0)} s; best validation ${Number.isFinite(trainer.bestValLoss) ? trainer.bestValLoss.toFixed(4) : "none yet"}`);
  trainer.model.dispose();
  trainer.dispose();
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const name = argv.find((a) => !a.startsWith('--'));
  const recipe = name ? findRecipe(name) : undefined;
  if (!recipe) throw new UserError(`usage: npm run pretrain -- NAME [--minutes M] [--steps N] | NAME --export [--ship-resume] | NAME --ship-resume | NAME --refresh-card | NAME --remeasure; NAME is one of ${RECIPES.map((r) => r.name).join(', ')}`);
  if (argv.includes('--refresh-card')) {
    const card = refreshCard(recipe);
    console.error(`${recipe.name}: card rewritten for the recipe as it is now (weights and numbers unchanged): ${card.notes.length} notes`);
    return;
  }
  if (argv.includes('--remeasure')) {
    const { before, after } = await remeasureCard(recipe);
    console.error(`${recipe.name}: held-out ${after.validation.loss} nats/byte (was ${before.validation.loss}); ` +
      Object.keys(after.features).map((f) => `${f} ${unitText(after.features[f])}${before.features[f] ? ` (was ${unitText(before.features[f])})` : ''}`).join(', ') + `; ${after.notes.length} notes`);
    return;
  }
  if (argv.includes('--export')) {
    await exportShipped(recipe);
    if (argv.includes('--ship-resume')) shipResume(recipe.name);
    return;
  }
  if (argv.includes('--ship-resume')) {
    shipResume(recipe.name);
    console.error(`${recipe.name}: the run in progress is in ${path.relative(ROOT, path.join(modelsDir(), recipe.name, 'resume'))}/; the shipped weights and card are unchanged`);
    return;
  }
  const mi = argv.indexOf('--minutes');
  const minutes = mi >= 0 ? Number(argv[mi + 1]) : 60;
  if (!(minutes > 0)) throw new UserError(`--minutes must be a positive number, got ${argv[mi + 1]}`);
  const si = argv.indexOf('--steps');
  const steps = si >= 0 ? Number(argv[si + 1]) : Infinity;
  if (!(steps > 0)) throw new UserError(`--steps must be a positive integer, got ${argv[si + 1]}`);
  await trainRecipe(recipe, minutes, steps);
}

if (require.main === module) {
  main().catch((e) => {
    if (e instanceof UserError) {
      console.error(`error: ${e.message}`);
      process.exit(e.exitCode);
    }
    throw e;
  });
}

