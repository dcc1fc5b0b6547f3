/**
 * lib/toolkit/neurons.ts: the built-in text features, and the unit search finding units that were built
 * by hand to track a feature (a quote latch and a line-position counter) among random ones.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteVocab, CharModel, NamedArray, Rng } from '../lib/index';
import { bracketDepth, column, featureSeries, formatScore, inBrackets, inComment, inQuotes, inQuotesLine, isByte, pearson, searchUnits, wordStart } from '../lib/toolkit/neurons';
import { kindArray, kindLabel, record, Recording, unitSeries } from '../lib/toolkit/record';
import { quoteText, useCpu } from './helpers';

const series = (f: Parameters<typeof featureSeries>[0], s: string) => Array.from(featureSeries(f, new Uint8Array(Buffer.from(s))));

test('built-in features: quotes, column, brackets, C comments, word starts', () => {
  assert.deepEqual(series(inQuotes, 'a"bc"d"e'), [0, 1, 1, 1, 0, 0, 1, 1]);
  // A speech over two paragraphs: no closing quote before the newline, a new opening one after it.
  assert.deepEqual(series(inQuotesLine, 'a"b\n"c"d'), [0, 1, 1, 0, 1, 1, 0, 0]);
  assert.deepEqual(series(inQuotes, 'a"b\n"c"d'), [0, 1, 1, 1, 0, 0, 1, 1], 'the plain toggle goes out of step there');
  assert.deepEqual(series(column, 'ab\ncde\n\nf'), [1, 2, 0, 1, 2, 3, 0, 0, 1]);
  assert.deepEqual(series(bracketDepth, 'f(a[1]) ) x{'), [0, 1, 1, 2, 2, 1, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual(series(inBrackets, 'f(a[1])x'), [0, 1, 1, 1, 1, 1, 0, 0]);
  //                               x = 1 ; / * c * / y / / z \n q " / * " /
  assert.deepEqual(series(inComment, 'x=1;/*c*/y//z\nq"/*"/'), [0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(series(inComment, '/*/ x */'), [0, 1, 1, 1, 1, 1, 1, 1], '"/*/" does not close the comment it opens');
  assert.deepEqual(series(wordStart, 'ab, c_d 9'), [1, 0, 0, 0, 1, 0, 0, 0, 1]);
  assert.deepEqual(series(isByte('.,'), 'a.b,'), [0, 1, 0, 1]);
  assert.deepEqual(series('column', 'x\ny'), [1, 0, 1], 'built-ins by name');
  assert.throws(() => featureSeries('nope', new Uint8Array(1)), /unknown feature "nope"/);
  assert.ok(Math.abs(pearson([1, 2, 3], [2, 4, 6.5]) - 0.9986) < 1e-3);
  assert.equal(pearson([1, 1, 1], [1, 2, 3]), 0, 'constant series');
});


const QUOTE_UNIT = 2;
const COLUMN_UNIT = 5;

/**
 * A 2-layer LSTM (hidden 8) with random weights everywhere except two hand-set units of layer 0.
 * LSTM: [i f g o] = x·Wx + h·Wh + b;  c' = σ(f)⊙c + σ(i)⊙tanh(g);  h' = σ(o)⊙tanh(c'). Each
 * hand-set unit's columns are zeroed first so that no random weight disturbs it; "±15" saturates
 * a sigmoid to within 3e-7 of 0 or 1.
 *
 * Quote latch (unit 2): flips the sign of c at every '"', keeps c elsewhere.
 *   output gate o = σ(15) ≈ 1, so h = tanh(c) has the sign of c;
 *   on '"'   : input i = σ(−15+30) ≈ 1, forget f = σ(15−30) ≈ 0  → c' = g
 *   otherwise: i ≈ 0, f ≈ 1                                     → c' = c
 *   candidate g = tanh(−10·h + 2), from the unit's own previous h: c > 0 (h ≈ +0.76) gives g ≈ −1,
 *   c < 0 gives g ≈ +1, and c = 0 (nothing read yet) gives tanh(2) ≈ +0.96.
 *   So c = 0 before the first quote, ≈ +1 inside quotes and ≈ −1 between them: it tracks inQuotes.
 * Line counter (unit 5): adds 0.05 to c at every byte, resets it at '\n'.
 *   i = f = σ(15 − 30·[x = '\n']), g = tanh(atanh(0.05)) = 0.05, o ≈ 1
 *   → c = 0.05 · column exactly (c' = c + 0.05, or ≈ 0 after a newline), h = tanh(c).
 */
function handBuiltModel(vocab: ByteVocab): CharModel {
  const H = 8;
  const model = new CharModel({ modelType: 'lstm', vocabSize: vocab.size, hiddenSize: H, numLayers: 2, dropout: 0 }, 11);
  const w = new Map<string, NamedArray>();
  for (const [name, v] of model.namedParams()) w.set(name, { shape: v.shape.slice(), data: Float32Array.from(v.dataSync()) });
  const Wx = w.get('layers.0.Wx')!.data; // [V, 4H]
  const Wh = w.get('layers.0.Wh')!.data; // [H, 4H]
  const b = w.get('layers.0.b')!.data; //   [4H]
  const col = (gate: number, unit: number) => gate * H + unit; // gate order i, f, g, o
  const [I, F, G, O] = [0, 1, 2, 3];
  for (const u of [QUOTE_UNIT, COLUMN_UNIT]) {
    for (let gate = 0; gate < 4; gate++) {
      for (let v = 0; v < vocab.size; v++) Wx[v * 4 * H + col(gate, u)] = 0;
      for (let r = 0; r < H; r++) Wh[r * 4 * H + col(gate, u)] = 0;
      b[col(gate, u)] = 0;
    }
  }
  const q = vocab.idOf(0x22);
  const nl = vocab.idOf(0x0a);
  // Quote latch.
  b[col(I, QUOTE_UNIT)] = -15;
  Wx[q * 4 * H + col(I, QUOTE_UNIT)] = 30;
  b[col(F, QUOTE_UNIT)] = 15;
  Wx[q * 4 * H + col(F, QUOTE_UNIT)] = -30;
  Wh[QUOTE_UNIT * 4 * H + col(G, QUOTE_UNIT)] = -10;
  b[col(G, QUOTE_UNIT)] = 2;
  b[col(O, QUOTE_UNIT)] = 15;
  // Line counter.
  for (const gate of [I, F]) {
    b[col(gate, COLUMN_UNIT)] = 15;
    Wx[nl * 4 * H + col(gate, COLUMN_UNIT)] = -30;
  }
  b[col(G, COLUMN_UNIT)] = Math.atanh(0.05);
  b[col(O, COLUMN_UNIT)] = 15;
  model.setWeights(w);
  return model;
}

test('search ranks a hand-built quote latch first for inQuotes and a line counter first for column', async () => {
  await useCpu();
  const text = quoteText(3000);
  const vocab = ByteVocab.fromData(text);
  const model = handBuiltModel(vocab);
  const rec = record(model, vocab, text, { chunkSize: 200, topK: 0 });

  // The construction does what its comment says.
  const c = rec.layers[0].c!;
  const quotes = featureSeries(inQuotes, rec.bytes);
  const cols = featureSeries(column, rec.bytes);
  const firstQuote = text.indexOf('"');
  for (let t = firstQuote; t < rec.length; t++) {
    const cq = c[t * 8 + QUOTE_UNIT];
    assert.ok(quotes[t] === 1 ? cq > 0.9 : cq < -0.9, `quote latch at ${t}: c=${cq}, inQuotes=${quotes[t]}`);
    assert.ok(Math.abs(c[t * 8 + COLUMN_UNIT] - 0.05 * cols[t]) < 2e-3, `counter at ${t}`);
  }

  const q = searchUnits(rec, inQuotes, { k: 5 });
  assert.equal(q.length, 5);
  assert.deepEqual([q[0].layer, q[0].unit], [0, QUOTE_UNIT], q.map(formatScore).join('; '));
  assert.ok(q[0].corr > 0.95, formatScore(q[0]));
  assert.ok(q.every((s, i) => i === 0 || Math.abs(s.corr) <= Math.abs(q[i - 1].corr)), 'sorted by |corr|');
  // Its h and c come first (r ≈ 0.998); the best other unit (a layer-1 unit fed by the latch,
  // r ≈ −0.87 with this seed) scores clearly lower.
  const others = q.filter((s) => !(s.layer === 0 && s.unit === QUOTE_UNIT));
  assert.ok(Math.abs(others[0].corr) < Math.abs(q[0].corr) - 0.05, formatScore(others[0]));

  const l = searchUnits(rec, 'column', { k: 3 });
  assert.deepEqual([l[0].layer, l[0].unit, l[0].kind], [0, COLUMN_UNIT, 'c'], l.map(formatScore).join('; '));
  assert.ok(l[0].corr > 0.999, formatScore(l[0]));

  // Only h, layer 1: the constructed units are out of reach, so the top is a random unit with a weak score.
  const h1 = searchUnits(rec, inQuotes, { kinds: ['h'], layers: [1], k: 1 });
  assert.equal(h1[0].layer, 1);
  assert.ok(Math.abs(h1[0].corr) < Math.abs(q[0].corr));

  // A user function and a precomputed series give the same scores as the built-in.
  const user = searchUnits(rec, (b, i) => (quotes[i] ? -1 : 1), { k: 1 });
  assert.deepEqual([user[0].layer, user[0].unit], [0, QUOTE_UNIT]);
  assert.ok(Math.abs(user[0].corr + q[0].corr) < 1e-9, 'negated feature, negated correlation');
  const pre = searchUnits(rec, quotes, { k: 1 });
  assert.ok(Math.abs(pre[0].corr - q[0].corr) < 1e-9);
  // And match a direct Pearson computation.
  const direct = pearson(unitSeries(rec, q[0].layer, q[0].kind, q[0].unit), quotes);
  assert.ok(Math.abs(direct - q[0].corr) < 1e-6, `${direct} vs ${q[0].corr}`);
  assert.equal(searchUnits(rec, inQuotes, { k: Infinity }).length, 2 * 3 * 8, 'all units of h, c and tanh(c) in both layers');
  model.dispose();
});

/** A one-layer recording of hand-written c series (h = o ⊙ tanh(c), o a random output gate), for the search alone. */
function cellRecording(text: string, cells: number[][]): Recording {
  const bytes = new Uint8Array(Buffer.from(text, 'latin1'));
  const T = bytes.length;
  const H = cells.length;
  const c = new Float32Array(T * H);
  for (let u = 0; u < H; u++) for (let t = 0; t < T; t++) c[t * H + u] = cells[u][t];
  const vocab = ByteVocab.fromData(bytes);
  const rng = new Rng(5);
  return {
    bytes, ids: Int32Array.from(vocab.encode(bytes)), length: T, hiddenSize: H, numLayers: 1, modelType: 'lstm', vocab,
    layers: [{ layer: 0, c, h: c.map((x) => rng.uniform(0.3, 1) * Math.tanh(x)) }], topK: 0, nextLogProb: new Float32Array(T).fill(NaN),
  };
}

test('a cell is scored as c and as tanh(c): a latch whose c grows through a comment reads clean as tanh(c), a counter as c', () => {
  // Comments of several lengths; unit 0 latches on inside them with a c that keeps growing (as a
  // cell accumulating its input does), unit 1 counts the column linearly, unit 2 is noise.
  const text = 'int a; /* one */ int b;\n/* a much longer comment, which goes on */ x = 1;\n// line comment\ny = 2; /* z */\n';
  const inC = featureSeries(inComment, new Uint8Array(Buffer.from(text, 'latin1')));
  const cols = featureSeries(column, new Uint8Array(Buffer.from(text, 'latin1')));
  const rng = new Rng(3);
  let run = 0;
  const latch = Array.from(inC, (v) => (v ? (run += 0.4) + 1.5 : ((run = 0), -2)));
  const rec = cellRecording(text, [latch, Array.from(cols, (x) => 0.1 * x), Array.from(inC, () => rng.uniform(-1, 1))]);
  const t0 = kindArray(rec, 0, 'tanhc')!;
  assert.ok(t0.every((v, i) => Math.abs(v - Math.tanh(rec.layers[0].c![i])) < 1e-6), 'tanhc is tanh of the recorded c');
  assert.equal(kindArray(rec, 0, 'tanhc'), t0, 'computed once');
  assert.equal(kindArray({ ...rec, layers: [{ layer: 0, h: rec.layers[0].h }] }, 0, 'tanhc'), undefined, 'no c, no tanh(c)');

  const asC = searchUnits(rec, inComment, { kinds: ['c'], k: 1 })[0];
  const [best] = searchUnits(rec, inComment, { k: 1 });
  assert.deepEqual([best.kind, best.unit], ['tanhc', 0], formatScore(best));
  assert.ok(Math.abs(best.corr) > 0.99 && Math.abs(asC.corr) < 0.9, `tanh(c) ${best.corr}, c ${asC.corr}`);
  assert.ok(Math.abs(best.corr - pearson(Array.from({ length: rec.length }, (_, t) => Math.tanh(latch[t])), inC)) < 1e-6);
  assert.equal(formatScore(best), `layer 0 tanh(c)[0] r=+${best.corr.toFixed(3)}`);
  assert.equal(kindLabel('c'), 'c');
  // The counter saturates under tanh (0.1 × column reaches 4): c itself is its best reading.
  const [counter] = searchUnits(rec, column, { k: 1 });
  assert.deepEqual([counter.kind, counter.unit], ['c', 1], formatScore(counter));
  assert.ok(counter.corr > 0.999);
});
