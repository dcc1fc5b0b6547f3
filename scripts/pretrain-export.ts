/**
 * Export a shipped model from its recipe run (runs/pretrain/NAME/best) to models/NAME/: the
 * weights (a weights-only checkpoint) and a model card measured on the held-out text.
 */
import * as fs from 'fs';
import * as path from 'path';
import { isDeepStrictEqual } from 'util';
import { describeBackend, initBackend } from '../lib/backend/select';
import { loadCheckpoint, partFile, readCheckpointMeta, saveCheckpoint } from '../lib/train/checkpoint';
import { Corpus, loadCorpus, sha256, splitCorpus } from '../lib/data/corpus';
import { evaluateLoss } from '../lib/generate/evaluate';
import { toBits } from '../lib/nn/loss';
import { CharModel } from '../lib/nn/model';
import { searchUnits } from '../lib/toolkit/neurons';
import { cardRows, FeatureUnit, listPretrained, loadPretrained, ModelCard, modelsDir, readCard } from '../lib/pretrained/load';
import { writeFileAtomic } from '../lib/io/atomic';
import { Recipe } from '../lib/pretrained/recipes';
import { record } from '../lib/toolkit/record';
import { sample } from '../lib/generate/sample';
import { ByteVocab } from '../lib/data/vocab';
import { UserError } from '../lib/util/errors';
import { WriteDtype } from '../lib/io/safetensors';
import { readMeanRecord, readSittings, workDir } from './pretrain';

/** Positions skipped at the start of the recorded held-out text (the state starts from zeros there). */
export const FEATURE_FROM = 200;

export interface HeldOut {
  corpus: Corpus;
  val: Uint8Array;
}

export async function heldOutText(recipe: Recipe): Promise<HeldOut> {
  const corpus = await loadCorpus(recipe.corpus);
  const { val } = splitCorpus(corpus.data, { train: 1 - recipe.valFrac, val: recipe.valFrac });
  return { corpus, val };
}

/** A card's best unit as the export and --remeasure log it: "layer 1 tanhc[160] r=-0.9612". */
export function unitText(u: FeatureUnit): string {
  return `layer ${u.layer} ${u.kind}[${u.unit}] r=${u.r}`;
}

/** What the card states and CI re-measures: the held-out loss and the best unit per feature. */
export function measure(model: CharModel, vocab: ByteVocab, recipe: Recipe, val: Uint8Array): { validation: { loss: number; bpc: number }; features: Record<string, FeatureUnit> } {
  const loss = evaluateLoss(model, vocab.encode(val));
  const rec = record(model, vocab, val.subarray(0, recipe.featureBytes), { topK: 0 });
  const features: Record<string, FeatureUnit> = {};
  for (const f of recipe.features) {
    const [best] = searchUnits(rec, f, { k: 1, from: FEATURE_FROM });
    features[f] = { layer: best.layer, kind: best.kind, unit: best.unit, r: Number(best.corr.toFixed(4)) };
  }
  return { validation: { loss: Number(loss.toFixed(5)), bpc: Number(toBits(loss).toFixed(5)) }, features };
}

/**
 * Shipped weights are half precision: half the bytes of the 25 MB budget, and the card's numbers
 * are measured on them (a 2×384 Shakespeare LSTM's held-out loss moved by 1e-5 or so).
 */
export const SHIPPED_DTYPE: WriteDtype = 'F16';

export const SAMPLE_PRIMES: Record<string, string> = { shakespeare: 'ROMEO:\n', 'moby-dick': 'Call me Ishmael.', linux: '#include <linux/' };

/** The epochs `steps` make of a recipe's training text (`trainBytes`), to two decimals. */
function epochsOf(steps: number, trainBytes: number, recipe: Recipe): number {
  const epochSteps = Math.floor(trainBytes / (recipe.train.batchSize * recipe.train.seqLength));
  return Number((steps / epochSteps).toFixed(2));
}

/** Does models/NAME/resume/ ship the run's resumable checkpoint (`--ship-resume`)? */
function resumeShipped(name: string): boolean {
  return fs.existsSync(path.join(modelsDir(), name, 'resume', 'checkpoint.json'));
}

/**
 * The card's notes: one per target not reached (what was reached, after how long), then one on
 * what more it needs: the recipe's `tried` once its run is done, else a guess from the run's course.
 * @param steps the steps trained so far  @param epochs the epochs they make
 * @param bestStep the step of the exported (best) weights
 * @param resumeShipped whether models/NAME/resume/ ships the run (else only its run directory continues it)
 */
export function targetNotes(recipe: Recipe, m: ReturnType<typeof measure>, steps: number, totalSteps: number, seconds: number, epochs: number, bestStep = steps, resumeShipped = false): string[] {
  const notes: string[] = [];
  const h = (seconds / 3600).toFixed(1);
  // When: the best weights' step, of the steps trained in all (the hours are the whole run's).
  const at = bestStep < steps ? ` (the best held-out loss, at step ${bestStep} of the ${steps} trained in ${h} h)` : ` after ${h} h`;
  const t = recipe.targets;
  if (t.valLoss !== undefined && m.validation.loss > t.valLoss) notes.push(`target: held-out loss ≤ ${t.valLoss} nats/byte; reached ${m.validation.loss.toFixed(3)}${at}`);
  for (const [f, want] of Object.entries(t.features ?? {})) {
    const got = Math.abs(m.features[f]?.r ?? 0);
    if (got < want) notes.push(`target: a unit with |r| ≥ ${want} for ${f}; best reached ${got.toFixed(3)}${at}`);
  }
  if (!notes.length) return notes;
  const more = steps < totalSteps
    ? `the recipe run is at step ${steps} of ${totalSteps} (${epochs} epochs, ${h} h of training): continue it with \`npm run pretrain -- ${recipe.name}\`` +
      (resumeShipped
        ? ` (models/${recipe.name}/resume/ ships the run)`
        : ` where its run directory, runs/pretrain/${recipe.name}/, is (its resumable checkpoint is not shipped: elsewhere the command starts the run afresh)`) +
      ` (the remaining ${totalSteps - steps} steps take about ${((seconds / Math.max(1, steps)) * (totalSteps - steps) / 3600).toFixed(1)} h more at this speed), and a larger model (more hidden units) if that is not enough`
    : recipe.tried
      ? `the recipe's ${totalSteps} steps are done; ${recipe.tried}`
      : bestStep < 0.95 * totalSteps
        ? `the recipe's ${totalSteps} steps are done and the held-out loss stopped improving after step ${bestStep} (it overfits): more regularisation (dropout between layers, weight drop on the recurrent weights) or more text would be needed`
        : `the recipe's ${totalSteps} steps are done: a larger model or more epochs would be needed`;
  notes.push(more);
  return notes;
}

export async function exportShipped(recipe: Recipe): Promise<ModelCard> {
  const info = await initBackend();
  const dir = workDir(recipe.name);
  const from = fs.existsSync(path.join(dir, 'best', 'checkpoint.json')) ? path.join(dir, 'best') : path.join(dir, 'train');
  if (!fs.existsSync(path.join(from, 'checkpoint.json'))) throw new UserError(`nothing to export: run \`npm run pretrain -- ${recipe.name}\` first`);
  const trainMeta = readCheckpointMeta(path.join(dir, 'train'));
  const training = trainMeta.training as { step: number; args: { totalSteps: number }; history: { val: { step: number; loss: number }[] } };
  // The best checkpoint records the step it was taken at and its loss (weights only: not resumable).
  const bestMeta = readCheckpointMeta(from).training as { step?: number; valLoss?: number } | undefined;
  const bestStep = bestMeta?.step ?? training.step;
  const bestLoss = bestMeta?.valLoss ?? Infinity;
  // A recipe with averageLast: the run's best window mean (mean/), when it reads lower than the best single evaluation.
  const mean = (recipe.averageLast ?? 1) > 1 ? readMeanRecord(dir) : undefined;
  const averaged = mean && mean.valLoss < bestLoss ? mean.steps : undefined;
  const best = loadCheckpoint(averaged ? path.join(dir, 'mean') : from);
  if (mean) console.error(`${recipe.name}: the best window mean (steps ${mean.steps.join(', ')}) read ${mean.valLoss.toFixed(4)}, the best evaluation (step ${bestStep}) ${bestLoss.toFixed(4)}: exporting ${averaged ? 'the mean' : 'the best evaluation'}`);
  const shippedStep = averaged ? averaged.at(-1)! : bestStep;
  const { corpus, val } = await heldOutText(recipe);
  const sittings = readSittings(recipe.name);
  const seconds = sittings.reduce((s, x) => s + x.seconds, 0);
  const bytes = sittings.reduce((s, x) => s + (x.toStep - x.fromStep), 0) * recipe.train.batchSize * recipe.train.seqLength;
  const out = path.join(modelsDir(), recipe.name);
  // A clean directory (a re-export must not keep the previous weights next to the new ones); resume/ stays.
  if (fs.existsSync(out)) for (const f of fs.readdirSync(out)) if (f !== 'resume') fs.rmSync(path.join(out, f), { recursive: true, force: true });
  saveCheckpoint(out, { model: best.model, vocab: best.vocab, modelDtype: SHIPPED_DTYPE });
  best.model.dispose();
  // The card measures the weights as shipped (rounded to half precision).
  const { model, vocab } = loadCheckpoint(out);
  const m = measure(model, vocab, recipe, val);
  const prime = SAMPLE_PRIMES[recipe.name] ?? '\n';
  const text = sample(model, vocab, { length: 600, temperature: 0.8, seed: 0, prime }).toString('latin1');
  const weightsFile = partFile(readCheckpointMeta(out), 'model')!;
  const trainBytes = corpus.data.length - val.length;
  const card: ModelCard = {
    name: recipe.name,
    purpose: recipe.purpose,
    corpus: { name: corpus.name, sha256: sha256(corpus.data), bytes: corpus.data.length, source: recipe.corpus === 'linux' ? corpus.source : corpus.name },
    heldOut: { valFrac: recipe.valFrac, bytes: val.length, sha256: sha256(val) },
    recipe,
    command: `npm run pretrain -- ${recipe.name}`,
    parameters: model.numParams(),
    steps: shippedStep,
    ...(averaged ? { averagedSteps: averaged } : {}),
    trainedSteps: training.step,
    totalSteps: training.args.totalSteps,
    epochs: epochsOf(shippedStep, trainBytes, recipe),
    wallClockSeconds: seconds,
    bytesPerSec: seconds > 0 ? Math.round(bytes / seconds) : 0,
    backend: sittings.at(-1)?.backend ?? describeBackend(info),
    commits: [...new Set(sittings.map((s) => s.commit))],
    validation: m.validation,
    features: m.features,
    featureBytes: recipe.featureBytes,
    featureFrom: FEATURE_FROM,
    samplePrime: prime,
    sample: text,
    notes: targetNotes(recipe, m, training.step, training.args.totalSteps, seconds, epochsOf(training.step, trainBytes, recipe), shippedStep, resumeShipped(recipe.name)),
    history: training.history.val.map((v) => ({ step: v.step, loss: Number(v.loss.toFixed(4)) })),
    weights: { file: weightsFile, bytes: fs.statSync(path.join(out, weightsFile)).size, dtype: SHIPPED_DTYPE },
  };
  fs.writeFileSync(path.join(out, 'card.json'), JSON.stringify(card, null, 1) + '\n');
  writeModelsReadme();
  model.dispose();
  console.error(`${recipe.name}: validation ${card.validation.loss} nats/byte (${card.validation.bpc} bits/byte) at step ${card.steps}/${card.totalSteps}; ${Object.entries(card.features).map(([f, u]) => `${f} ${unitText(u)}`).join(', ')} → ${out}`);
  return card;
}

/**
 * The recipe as it is now, checked against the one models/NAME/ was exported with: only its
 * `purpose`, `targets` and `tried` may differ (a one-line UserError names the others: they need a new run).
 */
function recipeOfCard(recipe: Recipe, card: ModelCard): Recipe {
  const notWeights = new Set(['purpose', 'targets', 'tried']);
  const now = JSON.parse(JSON.stringify(recipe)) as Record<string, unknown>;
  const made = card.recipe as unknown as Record<string, unknown>;
  const differ = [...new Set([...Object.keys(now), ...Object.keys(made)])].filter((k) => !notWeights.has(k) && !isDeepStrictEqual(now[k], made[k]));
  if (differ.length) throw new UserError(`${recipe.name}: the recipe's ${differ.join(', ')} changed since models/${recipe.name}/ was exported: train it (npm run pretrain -- ${recipe.name}) and export it`);
  return now as unknown as Recipe;
}

/** The card with `recipe`, the numbers `m` and the notes they make; written to models/NAME/ with models/README.md. */
function rewriteCard(recipe: Recipe, card: ModelCard, m: ReturnType<typeof measure>): ModelCard {
  const epochs = epochsOf(card.trainedSteps, card.corpus.bytes - card.heldOut.bytes, recipe);
  const next: ModelCard = {
    ...card, purpose: recipe.purpose, recipe, validation: m.validation, features: m.features,
    notes: targetNotes(recipe, m, card.trainedSteps, card.totalSteps, card.wallClockSeconds, epochs, card.steps, resumeShipped(recipe.name)),
  };
  writeFileAtomic(path.join(modelsDir(), recipe.name, 'card.json'), JSON.stringify(next, null, 1) + '\n');
  writeModelsReadme();
  return next;
}

/**
 * Rewrite models/NAME/card.json (and models/README.md) after an edit of the recipe that leaves the
 * weights and their numbers as they are: its `purpose`, `targets` or `tried` (the card's recipe and
 * notes). Any other edit needs a new run: a one-line UserError names the fields.
 */
export function refreshCard(recipe: Recipe): ModelCard {
  const card = readCard(recipe.name);
  return rewriteCard(recipeOfCard(recipe, card), card, card);
}

/**
 * Measure models/NAME/ again on its shipped weights with the current `measure` — after a change in how
 * a card's numbers are measured (the unit search read cells as c before it also read them as tanh(c)) —
 * and rewrite the card's held-out loss, best units and notes (the weights and the training record stay),
 * with the recipe's `purpose`, `targets` and `tried` as they are now. Returns the card before and after.
 */
export async function remeasureCard(recipe: Recipe): Promise<{ before: ModelCard; after: ModelCard }> {
  const before = readCard(recipe.name);
  const now = recipeOfCard(recipe, before);
  await initBackend();
  const { val } = await heldOutText(recipe);
  if (sha256(val) !== before.heldOut.sha256) throw new UserError(`${recipe.name}: the held-out text is not the one models/${recipe.name}/ was measured on (sha256 ${sha256(val).slice(0, 12)}…, card ${before.heldOut.sha256.slice(0, 12)}…)`);
  const { model, vocab } = loadPretrained(recipe.name);
  try {
    return { before, after: rewriteCard(now, before, measure(model, vocab, recipe, val)) };
  } finally {
    model.dispose();
  }
}

/** models/README.md: the cards of every shipped model, in prose (made from the card.json files). */
export function writeModelsReadme(): void {
  const names = listPretrained();
  const total = names.reduce((s, n) => s + fs.readdirSync(path.join(modelsDir(), n), { recursive: true }).map((f) => path.join(modelsDir(), n, String(f))).filter((f) => fs.statSync(f).isFile()).reduce((a, f) => a + fs.statSync(f).size, 0), 0);
  const out: string[] = [
    '# Shipped models',
    '',
    'Trained by this library\'s own trainer on the 2-core development machine, from the recipes in',
    '`lib/pretrained/recipes.ts`: `npm run pretrain -- NAME` trains (or continues) one, `npm run pretrain -- NAME --export`',
    'writes it here with its card. Load one with `loadPretrained(NAME)` (lib/pretrained/load.ts), or',
    '`unreasonable sample --pretrained NAME`. The test suite re-measures every card on its held-out text.',
    '',
    `Size budget: 25 MB for everything under models/ (now ${(total / 2 ** 20).toFixed(1)} MB). This file is generated from the cards.`,
    '',
  ];
  for (const n of names) {
    const c = readCard(n);
    out.push(`## ${n}: ${c.purpose}`, '', '| | |', '|---|---|');
    for (const r of cardRows(c)) out.push(`| ${r.field} | ${r.value.replace(/\|/g, '\\|')} |`);
    const resume = path.join(modelsDir(), n, 'resume');
    if (resumeShipped(n)) {
      const t = readCheckpointMeta(resume).training as { step: number; args: { totalSteps: number } };
      out.push('', `A run of the current recipe is in progress: step ${t.step.toLocaleString('en-US')} of ${t.args.totalSteps.toLocaleString('en-US')}, shipped in \`models/${n}/resume/\`; \`npm run pretrain -- ${n}\` continues it. The weights and card above are the previous recipe's until that run is exported.`);
    }
    out.push('', `Sample (temperature 0.8, seed 0, primed with ${JSON.stringify(c.samplePrime)}):`, '', '```', (c.samplePrime + c.sample).slice(0, 500), '```', '');
  }
  fs.writeFileSync(path.join(modelsDir(), 'README.md'), out.join('\n'));
}
