/**
 * The shipped models (models/): every card has a recipe that starts, and CI re-measures every
 * card's numbers on the held-out text (validation loss to 1e-3, best |r| per feature to 0.01).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { spawn, spawnSync } from 'child_process';
import { evaluateLoss, initBackend, sha256 } from '../lib';
import { cardRows, listPretrained, loadPretrained, modelsDir } from '../lib/pretrained/load';
import { findRecipe, Recipe, RECIPES } from '../lib/pretrained/recipes';
import { exportShipped, heldOutText, measure, refreshCard, targetNotes } from '../scripts/pretrain-export';
import { assertRunOfRecipe, readMeanRecord, trainRecipe } from '../scripts/pretrain';
import { CheckpointMeta, loadCheckpoint, modelTensors, readCheckpointMeta } from '../lib/train/checkpoint';
import { keptEvals, meanWeights } from '../lib/train/average';
import { maxAbsDiff, tmpDir } from './helpers';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'bin/unreasonable.js');
const shipped = listPretrained();

/** `scripts/pretrain.ts ARGS` as `npm run pretrain -- ARGS` runs it, with `env` added to this process's. */
function pretrain(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/pretrain.ts'), ...args], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, ...env } });
}

/** models/NAME/resume/'s checkpoint metadata (an unfinished run shipped with the project), if any. */
function runInProgress(name: string): CheckpointMeta | undefined {
  const dir = path.join(modelsDir(), name, 'resume');
  return fs.existsSync(path.join(dir, 'checkpoint.json')) ? readCheckpointMeta(dir) : undefined;
}

test('models/ ships at least a Shakespeare model and interpretability models, within the size budget', () => {
  assert.ok(shipped.includes('shakespeare'), `shipped: ${shipped.join(', ')}`);
  assert.ok(shipped.includes('moby-dick') && shipped.includes('linux'), `shipped: ${shipped.join(', ')}`);
  let bytes = 0;
  for (const name of fs.readdirSync(modelsDir())) {
    const dir = path.join(modelsDir(), name);
    if (!fs.statSync(dir).isDirectory()) continue;
    assert.ok(fs.existsSync(path.join(dir, 'card.json')), `${dir} has no card.json`);
    for (const f of fs.readdirSync(dir, { recursive: true }) as string[]) {
      const p = path.join(dir, f);
      if (fs.statSync(p).isFile()) bytes += fs.statSync(p).size;
    }
  }
  assert.ok(bytes <= 25 * 2 ** 20, `models/ holds ${bytes} bytes: over the 25 MB budget`);
});

for (const name of shipped) {
  test(`${name}: the card has its recipe, training record and numbers`, () => {
    const { card, model } = loadPretrained(name);
    const recipe = findRecipe(name);
    assert.ok(recipe, `${name} has no recipe in lib/pretrained/recipes.ts`);
    const inProgress = runInProgress(name);
    if (inProgress) {
      // A new recipe's run that has not replaced the shipped weights yet: it trains the current recipe,
      // and the card describes the weights shipped (with the recipe that made them).
      assertRunOfRecipe(recipe, inProgress, `models/${name}/resume`); // what a fresh clone's `npm run pretrain` checks before continuing it
      const t = inProgress.training as { step: number; args: { totalSteps: number } };
      assert.ok(t.step < t.args.totalSteps, 'a finished run is exported, not shipped as a run in progress');
    } else {
      assert.deepEqual(card.recipe, JSON.parse(JSON.stringify(recipe)), 'the card was made from the current recipe');
    }
    assert.equal(card.command, `npm run pretrain -- ${name}`);
    assert.equal(card.parameters, model.numParams());
    assert.ok(card.steps > 0 && card.steps <= card.trainedSteps && card.trainedSteps <= card.totalSteps);
    assert.ok(card.wallClockSeconds > 0 && card.bytesPerSec > 0, 'wall-clock and speed recorded');
    assert.ok(card.commits.length > 0 && card.commits.every((c) => /^[0-9a-f]{7,40}(\+changes)?$/.test(c)), `commits: ${card.commits}`);
    assert.deepEqual(Object.keys(card.features).sort(), [...recipe.features].sort());
    assert.ok(card.sample.length > 100);
    if (card.averagedSteps) {
      // Averaged weights: the card's recipe's window of consecutive evaluations, ending at the step it states.
      const at = card.history.findIndex((h) => h.step === card.averagedSteps![0]);
      assert.equal(card.averagedSteps.length, card.recipe.averageLast);
      assert.deepEqual(card.history.slice(at, at + card.averagedSteps.length).map((h) => h.step), card.averagedSteps, 'not consecutive evaluations');
      assert.equal(card.averagedSteps.at(-1), card.steps);
    }
    const { modelType, hiddenSize, numLayers, dropout } = model.config;
    const made = card.recipe.model; // the weights are what the card's recipe says
    assert.deepEqual({ modelType, hiddenSize, numLayers, dropout }, { modelType: made.modelType, hiddenSize: made.hiddenSize, numLayers: made.numLayers, dropout: made.dropout });
    model.dispose();
  });

  test(`${name}: CI re-measures the card on the held-out text`, async (t) => {
    const recipe = findRecipe(name)!;
    if (recipe.corpus === 'tinyshakespeare' && !fs.existsSync(path.join(ROOT, 'data/cache/tinyshakespeare.txt'))) {
      t.skip('tinyshakespeare is not in data/cache (CI copies it there; `unreasonable corpora fetch tinyshakespeare`)');
      return;
    }
    await initBackend();
    const { card, model, vocab } = loadPretrained(name);
    const { corpus, val } = await heldOutText(recipe);
    assert.equal(sha256(corpus.data), card.corpus.sha256, `corpus ${corpus.name} is not the text the card was measured on`);
    assert.equal(sha256(val), card.heldOut.sha256);
    const m = measure(model, vocab, recipe, val);
    console.log(`${name}: held-out ${m.validation.loss} nats/byte (card ${card.validation.loss}); ${Object.entries(m.features).map(([f, u]) => `${f} ${u.kind}[${u.unit}]@${u.layer} r=${u.r} (card ${card.features[f].r})`).join(', ')}`);
    assert.ok(Math.abs(m.validation.loss - card.validation.loss) <= 1e-3, `validation ${m.validation.loss} vs card ${card.validation.loss}`);
    assert.ok(Math.abs(m.validation.bpc - card.validation.bpc) <= 1.5e-3);
    for (const f of recipe.features) assert.ok(Math.abs(Math.abs(m.features[f].r) - Math.abs(card.features[f].r)) <= 0.01, `${f}: |r| ${m.features[f].r} vs card ${card.features[f].r}`);
    // The default evaluation is the one-stream loss: on the first 12,000 held-out bytes it equals the batch-1 loop.
    const ids = vocab.encode(val.subarray(0, 12_000));
    const exact = evaluateLoss(model, ids, { batchSize: 1 });
    const def = evaluateLoss(model, ids);
    assert.ok(Math.abs(def - exact) < 1e-4, `default ${def} vs one stream ${exact}`);
    model.dispose();
  });
}

test("a card's notes: one per target not reached, then where the run stands or the recipe's runs tried once it is done", () => {
  const recipe = { ...findRecipe('linux')!, tried: undefined, targets: { valLoss: 1.5, features: { column: 0.95, inComment: 0.9 } } };
  const m = { validation: { loss: 1.58, bpc: 2.28 }, features: { column: { layer: 1, kind: 'c' as const, unit: 3, r: -0.6 }, inComment: { layer: 0, kind: 'h' as const, unit: 1, r: 0.93 } } };
  // In progress: how far it is, and the command that continues it.
  const running = targetNotes({ ...recipe, tried: 'tried: x' }, m, 1000, 4000, 3600, 2.5);
  assert.deepEqual(running.slice(0, 2), ['target: held-out loss ≤ 1.5 nats/byte; reached 1.580 after 1.0 h', 'target: a unit with |r| ≥ 0.95 for column; best reached 0.600 after 1.0 h'], 'loss and column missed; inComment reached');
  assert.equal(running.length, 3);
  assert.match(running[2], /^the recipe run is at step 1000 of 4000 .*npm run pretrain -- linux.* 3.0 h more/, 'not the runs tried while the run is in progress');
  // Where it continues: only in its run directory, unless models/NAME/resume/ ships it.
  assert.match(running[2], /where its run directory, runs\/pretrain\/linux\/, is \(its resumable checkpoint is not shipped: elsewhere the command starts the run afresh\)/);
  const shipped = targetNotes({ ...recipe, tried: 'tried: x' }, m, 1000, 4000, 3600, 2.5, 1000, true);
  assert.match(shipped[2], /npm run pretrain -- linux` \(models\/linux\/resume\/ ships the run\)/);
  assert.doesNotMatch(shipped[2], /afresh/);
  // Done, best weights early: it overfits.
  const early = targetNotes(recipe, m, 4000, 4000, 3600, 10, 2000);
  assert.match(early[0], /at step 2000 of the 4000 trained in 1.0 h\)$/);
  assert.match(early[2], /^the recipe's 4000 steps are done and the held-out loss stopped improving after step 2000 \(it overfits\)/);
  // Done, with runs tried beyond the recipe: the card says those instead of a guess, once.
  const done = targetNotes({ ...recipe, tried: 'tried: a wider model (1.55); left to try: more text' }, m, 4000, 4000, 3600, 10, 2000);
  assert.equal(done.length, 3);
  assert.equal(done[2], "the recipe's 4000 steps are done; tried: a wider model (1.55); left to try: more text");
  // Every target reached: no notes.
  assert.deepEqual(targetNotes({ ...recipe, targets: { features: { inComment: 0.9 } } }, m, 4000, 4000, 3600, 10), []);
});

test('every recipe starts: one step of each into a scratch directory, then a resume', () => {
  const work = tmpDir();
  for (const r of RECIPES) {
    // An unfinished shipped run carries its resumable checkpoint: a fresh work directory continues it.
    const resume = path.join(modelsDir(), r.name, 'resume', 'checkpoint.json');
    const shippedStep = fs.existsSync(resume) ? (JSON.parse(fs.readFileSync(resume, 'utf8')).training.step as number) : 0;
    for (const pass of [1, 2]) {
      const p = pretrain([r.name, '--steps', '1'], { UNREASONABLE_PRETRAIN_DIR: work, UNREASONABLE_THREADS: '1' });
      if (r.corpus === 'tinyshakespeare' && /tinyshakespeare is not cached/.test(p.stderr)) break;
      assert.equal(p.status, 0, `${r.name}: ${p.stderr}`);
      if (pass === 1 && shippedStep) assert.match(p.stderr, new RegExp(`${r.name}: continuing the run shipped in models/${r.name}/resume/\n[^]*resuming at step ${shippedStep} of`));
      else assert.match(p.stderr, pass === 1 ? new RegExp(`${r.name}: lstm`) : new RegExp(`${r.name}: resuming at step ${shippedStep + 1} of`));
      assert.match(p.stderr, new RegExp(`interrupted at step ${shippedStep + pass}/`));
    }
  }
  // A run made by another recipe (here: its saved learning rate edited) is refused, in one line, untouched.
  const r = RECIPES.find((x) => x.corpus !== 'tinyshakespeare')!;
  const ckFile = path.join(work, r.name, 'train', 'checkpoint.json');
  const ck = JSON.parse(fs.readFileSync(ckFile, 'utf8'));
  ck.training.args.learningRate *= 2;
  fs.writeFileSync(ckFile, JSON.stringify(ck));
  const other = pretrain([r.name, '--steps', '1'], { UNREASONABLE_PRETRAIN_DIR: work, UNREASONABLE_THREADS: '1' });
  assert.equal(other.status, 1);
  assert.match(other.stderr, new RegExp(`^error: ${r.name}: the run in .*/${r.name}/ was trained with another recipe \\(train\\.learningRate differ\\): move that directory away`, 'm'));
  assert.equal(other.stderr.split('\n').filter((l) => l.startsWith('error:') || /^\s+at /.test(l)).length, 1, other.stderr);
  assert.equal(JSON.parse(fs.readFileSync(ckFile, 'utf8')).training.step, ck.training.step);
  const bad = pretrain(['no-such-model']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^error: usage: npm run pretrain -- NAME .*shakespeare/);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
});

test("a run resumes under its recipe: more epochs or a final decay not begun continue it, any other change is refused in one line", () => {
  const recipe = findRecipe('linux')!;
  const meta = (model: object, train: object, seed = recipe.seed) =>
    ({ format: 'unreasonable-charrnn', version: 2, model: { ...recipe.model, vocabSize: 97, ...model }, vocab: { idToByte: [] }, files: {}, training: { step: 10, args: { ...recipe.train, seed, clipMode: 'norm', ...train } } }) as unknown as CheckpointMeta;
  assertRunOfRecipe(recipe, meta({}, {}), 'runs/pretrain/linux');
  assertRunOfRecipe(recipe, meta({}, { epochs: recipe.train.epochs - 3 }), 'runs/pretrain/linux'); // a finished shorter run continues
  assertRunOfRecipe(recipe, meta({ weightDrop: 0 }, {}), 'runs/pretrain/linux'); // absent and 0 are the same weight drop
  assert.throws(
    () => assertRunOfRecipe(recipe, meta({ dropout: 0 }, { learningRate: 1e-3 }, 7), 'runs/pretrain/linux'),
    { message: 'linux: the run in runs/pretrain/linux/ was trained with another recipe (model.dropout, train.learningRate, seed differ): move that directory away to start the current recipe afresh' },
  );
  assert.throws(() => assertRunOfRecipe(recipe, meta({ hiddenSize: 128 }, {}), 'd'), /\(model\.hiddenSize differ\)/);
  // A final decay added to the recipe: a run that has not reached its first epoch continues, one past it is refused.
  const annealed = { ...recipe, train: { ...recipe.train, lrAnneal: 0.6, lrAnnealAfter: 4 } };
  const at = (step: number, train: object = {}) => {
    const m = meta({}, { totalSteps: 694 * recipe.train.epochs, ...train });
    (m.training as { step: number }).step = step;
    return m;
  };
  assertRunOfRecipe(annealed, at(4 * 694), 'd'); // steps 0..2775 ran in epochs 0-3: the same under the new recipe
  assert.throws(() => assertRunOfRecipe(annealed, at(4 * 694 + 1), 'd'), /\(train\.lrAnneal, train\.lrAnnealAfter differ\)/);
  assertRunOfRecipe(annealed, at(5000, { lrAnneal: 0.6, lrAnnealAfter: 4 }), 'd'); // begun under it
  assert.throws(() => assertRunOfRecipe(annealed, at(100, { lrAnneal: 0.5, lrAnnealAfter: 4 }), 'd'), /\(train\.lrAnneal differ\)/);
  assert.throws(() => assertRunOfRecipe(recipe, at(100, { lrAnneal: 0.6, lrAnnealAfter: 4 }), 'd'), /\(train\.lrAnneal, train\.lrAnnealAfter differ\)/, 'a run with a final decay its recipe lacks');
});

test('Ctrl-C on `npm run pretrain` (the terminal and npm both deliver it) stops after the step, saves and records the sitting', async () => {
  const work = tmpDir();
  const name = RECIPES.find((x) => x.corpus !== 'tinyshakespeare')!.name;
  // detached: its own process group, which a terminal's Ctrl-C signals as a whole (npm, and npm forwards it too).
  const child = spawn('npm', ['run', '-s', 'pretrain', '--', name, '--minutes', '10'], { cwd: ROOT, detached: true, env: { ...process.env, UNREASONABLE_PRETRAIN_DIR: work, UNREASONABLE_THREADS: '1' } });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stdout.resume();
  const closed = new Promise<void>((res) => child.on('close', () => res()));
  const started = new Promise<void>((res) => child.stderr.on('data', (d: string) => { stderr += d; if (/: lstm \d+×\d+/.test(stderr)) res(); }));
  await Promise.race([started, closed]);
  await new Promise((r) => setTimeout(r, 1500)); // inside a training step
  process.kill(-child.pid!, 'SIGINT');
  await closed;
  const m = new RegExp(`^${name}: interrupted at step (\\d+)/`, 'm').exec(stderr);
  assert.ok(m, stderr);
  const step = Number(m[1]);
  assert.equal((readCheckpointMeta(path.join(work, name, 'train')).training as { step: number }).step, step);
  const sittings = JSON.parse(fs.readFileSync(path.join(work, name, 'sittings.json'), 'utf8')) as { fromStep: number; toStep: number }[];
  assert.deepEqual(sittings.map((x) => [x.fromStep, x.toStep]), [[0, step]]);
});

test("--refresh-card rewrites a card for an edit of its recipe's tried or targets, and refuses an edit that changes the weights", () => {
  const models = tmpDir();
  const saved = process.env.UNREASONABLE_MODELS;
  process.env.UNREASONABLE_MODELS = models;
  try {
    for (const name of shipped.filter((n) => !runInProgress(n))) {
      fs.cpSync(path.join(ROOT, 'models', name), path.join(models, name), { recursive: true });
      // Every card is its recipe's as the recipe is now: refreshing it changes nothing.
      const before = fs.readFileSync(path.join(models, name, 'card.json'), 'utf8');
      refreshCard(findRecipe(name)!);
      assert.equal(fs.readFileSync(path.join(models, name, 'card.json'), 'utf8'), before, `${name}'s card is not that of its recipe as it is now`);
    }
    const r = findRecipe('linux')!;
    const card = refreshCard({ ...r, tried: 'tried: a wider model; left to try: more text', targets: { features: { column: 0.5, inComment: 0.99 } } });
    assert.equal(card.recipe.tried, 'tried: a wider model; left to try: more text');
    assert.equal(card.notes.length, 2, card.notes.join('\n')); // column's 0.5 is reached: no note for it
    assert.match(card.notes[0], /^target: a unit with \|r\| ≥ 0\.99 for inComment; best reached /);
    assert.match(card.notes[1], /^the recipe's \d+ steps are done; tried: a wider model; left to try: more text$/);
    assert.deepEqual(card.validation, JSON.parse(fs.readFileSync(path.join(ROOT, 'models/linux/card.json'), 'utf8')).validation);
    assert.match(fs.readFileSync(path.join(models, 'README.md'), 'utf8'), /\| note \| the recipe's \d+ steps are done; tried: a wider model; left to try: more text \|/);
    assert.throws(() => refreshCard({ ...r, model: { ...r.model, hiddenSize: 512 }, featureBytes: 1 }), {
      message: "linux: the recipe's model, featureBytes changed since models/linux/ was exported: train it (npm run pretrain -- linux) and export it",
    });
    const cli = pretrain(['linux', '--refresh-card'], { UNREASONABLE_MODELS: models });
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stderr, /^linux: card rewritten for the recipe as it is now \(weights and numbers unchanged\)/m);
    assert.equal(JSON.parse(fs.readFileSync(path.join(models, 'linux', 'card.json'), 'utf8')).recipe.tried, r.tried);
  } finally {
    if (saved === undefined) delete process.env.UNREASONABLE_MODELS;
    else process.env.UNREASONABLE_MODELS = saved;
  }
});

test('--remeasure measures a card again on its shipped weights: stale numbers, units and notes are replaced by the true ones', () => {
  // moby-dick: the smallest held-out text. Its card as an older unit search (h and c only) wrote it,
  // with a loss off by 0.01 and a target it then missed.
  const models = tmpDir();
  fs.cpSync(path.join(ROOT, 'models', 'moby-dick'), path.join(models, 'moby-dick'), { recursive: true });
  const file = path.join(models, 'moby-dick', 'card.json');
  const truth = fs.readFileSync(file, 'utf8');
  const stale = JSON.parse(truth);
  stale.validation.loss += 0.01;
  stale.features.inQuotesLine = { layer: 1, kind: 'h', unit: 37, r: -0.5 };
  stale.notes = ['target: a unit with |r| ≥ 0.8 for inQuotesLine; best reached 0.500 after 1.2 h'];
  fs.writeFileSync(file, JSON.stringify(stale, null, 1) + '\n');
  const r = pretrain(['moby-dick', '--remeasure'], { UNREASONABLE_MODELS: models });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^moby-dick: held-out 1\.\d+ nats\/byte \(was 1\.\d+\); inQuotesLine layer 1 tanhc\[37\] r=-0\.\d+ \(was layer 1 h\[37\] r=-0\.5\), .*; 0 notes$/m);
  // What it wrote is the committed card (which CI re-measures above), byte for byte.
  assert.equal(fs.readFileSync(file, 'utf8'), truth);
  assert.match(fs.readFileSync(path.join(models, 'README.md'), 'utf8'), /\| best unit: inQuotesLine \| layer 1 tanh\(c\)\[37\], r = -0\.9\d\d \|/);
  // A model that is not there: one line, no stack trace.
  const bad = pretrain(['linux', '--remeasure'], { UNREASONABLE_MODELS: models });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr.trim(), /^error: [^\n]*linux[^\n]*$/);
});

test('the CLI takes a shipped model by name', () => {
  const name = shipped[0];
  const ok = spawnSync(process.execPath, [CLI, '-q', 'sample', '--pretrained', name, '--length', '40', '--seed', '3'], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.ok(ok.stdout.length >= 40);
  const list = spawnSync(process.execPath, [CLI, 'models'], { encoding: 'utf8' });
  assert.equal(list.status, 0);
  for (const n of shipped) assert.match(list.stdout, new RegExp(`^${n} `, 'm'));
  const bad = spawnSync(process.execPath, [CLI, 'sample', '--pretrained', 'nope'], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^error: no shipped model "nope": use one of /);
  const both = spawnSync(process.execPath, [CLI, 'eval', '--pretrained', name, '--checkpoint', 'x', '--text', 'README.md'], { encoding: 'utf8' });
  assert.equal(both.status, 2);
  assert.match(both.stderr, /^error: give --checkpoint or --pretrained, not both$/m);
});

test('--ship-resume alone ships the run in progress and leaves the shipped weights and card as they are', () => {
  const work = tmpDir();
  const models = tmpDir();
  // An offline corpus's model without a shipped run in progress (models/NAME/resume/ would be continued from).
  const name = RECIPES.filter((r) => r.corpus !== 'tinyshakespeare').map((r) => r.name).find((n) => !fs.existsSync(path.join(modelsDir(), n, 'resume')));
  assert.ok(name, 'a shipped model without a resume/ to test with');
  fs.cpSync(path.join(modelsDir(), name), path.join(models, name), { recursive: true });
  fs.copyFileSync(path.join(modelsDir(), 'README.md'), path.join(models, 'README.md'));
  const before = new Map(fs.readdirSync(path.join(models, name)).map((f) => [f, fs.readFileSync(path.join(models, name, f))]));
  const run = (...args: string[]) => pretrain([name, ...args], { UNREASONABLE_PRETRAIN_DIR: work, UNREASONABLE_MODELS: models, UNREASONABLE_THREADS: '1' });
  const none = run('--ship-resume');
  assert.equal(none.status, 1);
  assert.equal(none.stderr.trim(), `error: ${name}: no run to ship in ${path.relative(ROOT, path.join(work, name))}/ (train first: npm run pretrain -- ${name})`);
  assert.equal(run('--steps', '2').status, 0);
  const ship = run('--ship-resume');
  assert.equal(ship.status, 0, ship.stderr);
  const resume = path.join(models, name, 'resume');
  const meta = JSON.parse(fs.readFileSync(path.join(resume, 'checkpoint.json'), 'utf8'));
  assert.equal(meta.training.step, 2);
  for (const f of Object.keys(meta.files)) assert.ok(fs.existsSync(path.join(resume, f)), `resume/ lacks ${f}`);
  assert.equal(JSON.parse(fs.readFileSync(path.join(resume, 'sittings.json'), 'utf8')).length, 1);
  for (const [f, bytes] of before) assert.ok(fs.readFileSync(path.join(models, name, f)).equals(bytes), `${f} changed`);
  assert.match(fs.readFileSync(path.join(models, 'README.md'), 'utf8'), new RegExp(`A run of the current recipe is in progress: step 2 of [0-9,]+, shipped in \`models/${name}/resume/\``));
});

test('a recipe with averageLast keeps its best window mean as it trains, and ships it when it reads lower than the best evaluation', async () => {
  const work = tmpDir();
  const models = tmpDir();
  const saved = { work: process.env.UNREASONABLE_PRETRAIN_DIR, models: process.env.UNREASONABLE_MODELS };
  process.env.UNREASONABLE_PRETRAIN_DIR = work;
  process.env.UNREASONABLE_MODELS = models;
  try {
    await initBackend();
    // A tiny model on an offline corpus, evaluated every step.
    const base = RECIPES.find((r) => r.corpus === 'moby-dick')!;
    const recipe: Recipe = {
      ...base,
      name: 'tiny-averaged',
      averageLast: 2,
      model: { ...base.model, hiddenSize: 16, numLayers: 1, dropout: 0 },
      train: { ...base.train, batchSize: 4, seqLength: 16, learningRate: 1e-2, evalEvery: 1 },
      features: ['inQuotes'],
      featureBytes: 2000,
      targets: {},
    };
    await trainRecipe(recipe, 5, 5);
    const dir = path.join(work, recipe.name);
    const history = () => (readCheckpointMeta(path.join(dir, 'train')).training as { history: { val: { step: number; loss: number }[] } }).history.val;
    assert.deepEqual(history().map((v) => v.step), [1, 2, 3, 4, 5]);
    // evals/ keeps the last 2 evaluations' weights; mean/ the window whose mean read lowest, with that reading.
    assert.deepEqual(keptEvals(path.join(dir, 'evals')), [4, 5]);
    const load = (d: string) => loadCheckpoint(path.join(dir, d));
    const { val: text } = await heldOutText(recipe);
    const streams = { batchSize: recipe.train.batchSize, seqLength: recipe.train.seqLength };
    const mean = readMeanRecord(dir)!;
    assert.equal(mean.steps.length, 2);
    assert.equal(mean.steps[1] - mean.steps[0], 1, `not consecutive evaluations: ${mean.steps}`);
    const m = load('mean');
    assert.ok(Math.abs(evaluateLoss(m.model, m.vocab.encode(text), streams) - mean.valLoss) < 1e-6);
    m.model.dispose();
    // The last window is one of those compared: its mean reads no lower than the one kept.
    const [e4, e5] = [load('evals/step-00000004'), load('evals/step-00000005')];
    e4.model.setWeights(meanWeights([modelTensors(e4.model), modelTensors(e5.model)]));
    const last = evaluateLoss(e4.model, e4.vocab.encode(text), streams);
    assert.ok(last >= mean.valLoss - 1e-6, `the last window reads ${last}, mean/ ${mean.valLoss}`);
    // A second sitting continues the windows across the resume.
    await trainRecipe(recipe, 5, 2);
    assert.deepEqual(keptEvals(path.join(dir, 'evals')), [6, 7]);
    assert.ok(readMeanRecord(dir)!.valLoss <= mean.valLoss);
    // (Seeded, its loss still falling: the last window is the lowest.) mean/ holds the element-wise mean of those evaluations' weights.
    assert.deepEqual(readMeanRecord(dir)!.steps, [6, 7]);
    const [e6, e7, mw] = [load('evals/step-00000006'), load('evals/step-00000007'), load('mean')];
    const want = meanWeights([modelTensors(e6.model), modelTensors(e7.model)]);
    for (const [name, got] of modelTensors(mw.model)) assert.ok(maxAbsDiff(got.data, want.get(name)!.data) < 1e-7, name);
    for (const c of [e6, e7, mw]) c.model.dispose();
    // The export ships the mean when it reads lower than the best evaluation (pretended here), else the best evaluation.
    const meanMeta = path.join(dir, 'mean', 'checkpoint.json');
    const ck = JSON.parse(fs.readFileSync(meanMeta, 'utf8'));
    const asMean = async (valLoss: number) => {
      fs.writeFileSync(meanMeta, JSON.stringify({ ...ck, training: { ...ck.training, valLoss } }));
      return exportShipped(recipe);
    };
    const one = await asMean(0);
    assert.deepEqual(one.averagedSteps, ck.training.steps);
    assert.equal(one.steps, ck.training.steps[1]);
    const w = load('mean');
    assert.ok(Math.abs(evaluateLoss(w.model, w.vocab.encode(text)) - one.validation.loss) < 1e-3, 'the card measures the mean weights');
    w.model.dispose();
    assert.match(cardRows(one).find((r) => r.field === 'weights')!.value, new RegExp(`^the mean of the weights at steps ${ck.training.steps.join(', ')} \\(2 consecutive evaluations: `));
    const other = await asMean(99);
    assert.equal(other.averagedSteps, undefined);
    assert.equal(other.steps, (readCheckpointMeta(path.join(dir, 'best')).training as { step: number }).step);
    assert.equal(cardRows(other).find((r) => r.field === 'weights'), undefined);
    const b = load('best');
    assert.ok(Math.abs(evaluateLoss(b.model, b.vocab.encode(text)) - other.validation.loss) < 1e-3, 'the card measures the best weights');
    assert.ok(Math.abs(one.validation.loss - other.validation.loss) > 1e-3, 'the test cannot tell the mean from the best weights');
    b.model.dispose();
    for (const c of [e4, e5]) c.model.dispose();
  } finally {
    for (const [k, v] of [['UNREASONABLE_PRETRAIN_DIR', saved.work], ['UNREASONABLE_MODELS', saved.models]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});
