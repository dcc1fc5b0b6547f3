/**
 * The shipped models (models/<name>/): weights-only checkpoints trained by this library's own
 * trainer from a recipe (lib/pretrained/recipes.ts, `npm run pretrain -- NAME`), each with a model card
 * (card.json) that says how it was trained and what it measures on its held-out text.
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadCheckpoint } from '../train/checkpoint';
import { UserError } from '../util/errors';
import { CharModel } from '../nn/model';
import { Recipe } from './recipes';
import { ByteVocab } from '../data/vocab';

/** The best single unit for one text feature, on the held-out text. */
export interface FeatureUnit {
  layer: number;
  /** h, c, tanhc (tanh(c)) or a gate (lib/toolkit/record.ts UnitKind). */
  kind: string;
  unit: number;
  /** Pearson r (signed). */
  r: number;
}

export interface ModelCard {
  name: string;
  purpose: string;
  corpus: { name: string; sha256: string; bytes: number; source: string };
  /** The held-out text: the last valFrac of the corpus (`splitCorpus`). */
  heldOut: { valFrac: number; bytes: number; sha256: string };
  recipe: Recipe;
  /** The command that trains it (and continues it: the recipe trainer resumes). */
  command: string;
  parameters: number;
  /** Step of the shipped weights (the best validation so far). */
  steps: number;
  /** Present when the shipped weights are a mean (the recipe's `averageLast`): the consecutive evaluations averaged; `steps` is the last. */
  averagedSteps?: number[];
  /** Steps the recipe run has done (it may be past `steps`, or still going). */
  trainedSteps: number;
  totalSteps: number;
  epochs: number;
  /** Training wall-clock over all sittings, seconds. */
  wallClockSeconds: number;
  /** Mean training speed, bytes/s, and what it ran on. */
  bytesPerSec: number;
  backend: string;
  /** Commits of the code that trained it (one per sitting, deduplicated). */
  commits: string[];
  /** Loss of the held-out text as one stream (evaluateLoss), nats/byte and bits/byte. */
  validation: { loss: number; bpc: number };
  /** Feature name → best unit by |r| over the first `featureBytes` of the held-out text (after `featureFrom`). */
  features: Record<string, FeatureUnit>;
  featureBytes: number;
  featureFrom: number;
  /** A sample at temperature 0.8, seed 0, primed with `samplePrime`. */
  samplePrime: string;
  sample: string;
  /** Validation losses during training (the trainer's, on the held-out text). */
  history: { step: number; loss: number }[];
  /** Targets not reached yet, and what more would be needed (empty when done). */
  notes: string[];
  /** The weights' file and its size. */
  weights: { file: string; bytes: number; dtype: string };
}

/** Where the shipped models live: $UNREASONABLE_MODELS, else models/ of this project. */
export function modelsDir(): string {
  if (process.env.UNREASONABLE_MODELS) return path.resolve(process.env.UNREASONABLE_MODELS);
  // lib/pretrained/ is reached directly or through notebooks/lib (a symlink): its real path first, then the cwd.
  const candidates = [path.resolve(fs.realpathSync(__dirname), '..', '..', 'models'), path.resolve(process.cwd(), 'models'), path.resolve(process.cwd(), '..', 'models')];
  return candidates.find((d) => fs.existsSync(path.join(d, 'README.md'))) ?? candidates[0];
}

/** Names of the shipped models (those with a card). */
export function listPretrained(): string[] {
  const dir = modelsDir();
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((n) => fs.existsSync(path.join(dir, n, 'card.json'))).sort();
}

/** The checkpoint directory of a shipped model; a clear error for an unknown name. */
export function pretrainedDir(name: string): string {
  const names = listPretrained();
  if (!names.includes(name)) {
    throw new UserError(`no shipped model "${name}": use one of ${names.length ? names.join(', ') : '(none found in ' + modelsDir() + ')'}`);
  }
  return path.join(modelsDir(), name);
}

export function readCard(name: string): ModelCard {
  const file = path.join(pretrainedDir(name), 'card.json');
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as ModelCard;
  } catch {
    throw new UserError(`${file} is not valid JSON`);
  }
}

/** Load a shipped model: ready to sample, evaluate or record. Dispose `model` when done. */
export function loadPretrained(name: string): { model: CharModel; vocab: ByteVocab; card: ModelCard } {
  const card = readCard(name);
  const { model, vocab } = loadCheckpoint(pretrainedDir(name));
  return { model, vocab, card };
}

/** One-line summaries of a card, for notebooks and the CLI. */
export function cardRows(card: ModelCard): { field: string; value: string }[] {
  const m = card.recipe.model;
  const t = card.recipe.train;
  const h = (s: number) => (s >= 3600 ? `${(s / 3600).toFixed(1)} h` : `${Math.round(s / 60)} min`);
  return [
    { field: 'model', value: `${m.modelType.toUpperCase()} ${m.numLayers}×${m.hiddenSize}, ${card.parameters.toLocaleString('en-US')} parameters, dropout ${m.dropout}${m.weightDrop ? `, weight drop ${m.weightDrop}` : ''}` },
    { field: 'corpus', value: `${card.corpus.name}, ${card.corpus.bytes.toLocaleString('en-US')} bytes (sha256 ${card.corpus.sha256.slice(0, 12)}…); held out: the last ${card.heldOut.bytes.toLocaleString('en-US')} bytes` },
    { field: 'training', value: `${t.optimizer} lr ${t.learningRate}, batch ${t.batchSize} × seq ${t.seqLength}; step ${card.steps.toLocaleString('en-US')} of ${card.totalSteps.toLocaleString('en-US')} (${card.epochs} epochs), ${h(card.wallClockSeconds)} on ${card.backend.replace(/^backend: /, '')} at ${card.bytesPerSec.toLocaleString('en-US')} bytes/s` },
    ...(card.averagedSteps ? [{ field: 'weights', value: `the mean of the weights at steps ${card.averagedSteps.map((s) => s.toLocaleString('en-US')).join(', ')} (${card.averagedSteps.length} consecutive evaluations: the window whose mean read the lowest held-out loss, lower than any single evaluation)` }] : []),
    { field: 'held-out loss', value: `${card.validation.loss.toFixed(4)} nats/byte = ${card.validation.bpc.toFixed(3)} bits/byte (the text as one stream)` },
    ...Object.entries(card.features).map(([f, u]) => ({ field: `best unit: ${f}`, value: `layer ${u.layer} ${u.kind === 'tanhc' ? 'tanh(c)' : u.kind}[${u.unit}], r = ${u.r.toFixed(3)}` })),
    { field: 'recipe', value: `${card.command} (lib/pretrained/recipes.ts); commits ${card.commits.join(', ')}` },
    ...card.notes.map((n) => ({ field: 'note', value: n })),
  ];
}
