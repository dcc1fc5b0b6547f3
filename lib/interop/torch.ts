/**
 * Reading checkpoints of the PyTorch reproduction: a directory with
 *
 *   model.safetensors  an nn.LSTM (or nn.GRU / nn.RNN) over one-hot bytes, batch_first, plus a
 *                      Linear decoder: "internal_model.weight_ih_l{k}" [G·H, in],
 *                      "internal_model.weight_hh_l{k}" [G·H, H], "internal_model.bias_ih_l{k}",
 *                      "internal_model.bias_hh_l{k}" [G·H], "decoder.weight" [V, H], "decoder.bias" [V]
 *                      (the recurrent prefix may also be "lstm." or anything else, or none)
 *   meta.json          {"id_to_byte": [byte, …]}: the vocabulary, id → byte value; for an nn.RNN
 *                      also "nonlinearity": "tanh" | "relu" (nn.RNN's own argument; the state
 *                      dict does not record it, so without it the RNN is read as PyTorch's
 *                      default, tanh)
 *
 * G = 4 (LSTM, gates i, f, g, o: our order), 3 (GRU, r, z, n: ours) or 1 (RNN, tanh); all sizes
 * come from the tensors. Ours are the transposes: Wx = weight_ihᵀ, Wh = weight_hhᵀ, decoder.W =
 * decoder.weightᵀ; LSTM/RNN b = bias_ih + bias_hh, GRU b = bias_ih and bh = bias_hh.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CellType } from '../nn/cells';
import { loadCheckpoint } from '../train/checkpoint';
import { UserError } from '../util/errors';
import { CharModel, ModelConfig } from '../nn/model';
import { decodeSafetensors, NamedArray } from '../io/safetensors';
import { ByteVocab } from '../data/vocab';

export interface TorchCheckpoint {
  model: CharModel;
  vocab: ByteVocab;
  /** meta.json as read. */
  meta: Record<string, unknown>;
}

const GATES_TO_TYPE: Record<number, CellType> = { 4: 'lstm', 3: 'gru', 1: 'rnn' };
const RECURRENT_KEY = /^(.*?)(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l(\d+)(_reverse)?$/;

function transpose(t: NamedArray): NamedArray {
  const [r, c] = t.shape;
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = t.data[i * c + j];
  return { shape: [c, r], data: out };
}

function add(a: NamedArray, b: NamedArray): NamedArray {
  return { shape: a.shape, data: a.data.map((v, i) => v + b.data[i]) };
}

const shapeOf = (t: NamedArray) => `[${t.shape.join(', ')}]`;

/**
 * Map a PyTorch state dict (nn.LSTM/GRU/RNN + Linear decoder) to our parameter names.
 * Returns the model configuration the tensors imply (dropout 0) and our weights.
 * `what` names the source in error messages.
 */
export function fromTorchStateDict(tensors: Map<string, NamedArray>, what = 'state dict'): { config: ModelConfig; weights: Map<string, NamedArray> } {
  const fail = (msg: string): never => {
    throw new UserError(`${what}: ${msg}`);
  };
  const names = [...tensors.keys()];
  const rec = new Map<number, Partial<Record<string, NamedArray>>>();
  const prefixes = new Set<string>();
  const rest: string[] = [];
  for (const name of names) {
    const m = RECURRENT_KEY.exec(name);
    if (!m) {
      rest.push(name);
      continue;
    }
    const [, prefix, kind, layer, reverse] = m;
    if (reverse) fail(`"${name}" belongs to a bidirectional RNN, which a left-to-right char model cannot use`);
    if (kind === 'weight_hr') fail(`"${name}" is an LSTM projection (proj_size > 0), which is not supported`);
    prefixes.add(prefix);
    const k = Number(layer);
    if (!rec.has(k)) rec.set(k, {});
    rec.get(k)![kind] = tensors.get(name)!;
  }
  const shown = names.slice(0, 8).join(', ') + (names.length > 8 ? ', …' : '');
  if (rec.size === 0) fail(`no recurrent weights found (expected "internal_model.weight_ih_l0", "weight_hh_l0", …; the file has ${shown || 'no tensors'})`);
  if (prefixes.size > 1) fail(`recurrent weights under several prefixes (${[...prefixes].map((p) => `"${p}"`).join(', ')}): expected one nn.LSTM/GRU/RNN`);
  const prefix = [...prefixes][0];
  const numLayers = rec.size;
  for (let k = 0; k < numLayers; k++) if (!rec.has(k)) fail(`layer ${k} is missing (found layers ${[...rec.keys()].sort((a, b) => a - b).join(', ')})`);

  // Sizes from layer 0's recurrent matrix [G·H, H].
  const key = (kind: string, k: number) => `${prefix}${kind}_l${k}`;
  const need = (kind: string, k: number): NamedArray => rec.get(k)![kind] ?? fail(`"${key(kind, k)}" is missing`);
  const hh0 = need('weight_hh', 0);
  if (hh0.shape.length !== 2 || hh0.shape[1] < 1 || hh0.shape[0] % hh0.shape[1] !== 0) fail(`"${key('weight_hh', 0)}" has shape ${shapeOf(hh0)}; expected [gates × hidden, hidden]`);
  const H = hh0.shape[1];
  const G = hh0.shape[0] / H;
  const modelType = GATES_TO_TYPE[G] ?? fail(`"${key('weight_hh', 0)}" has ${G} gate blocks of ${H}; expected 4 (LSTM), 3 (GRU) or 1 (RNN)`);
  const ih0 = need('weight_ih', 0);
  if (ih0.shape.length !== 2) fail(`"${key('weight_ih', 0)}" has shape ${shapeOf(ih0)}; expected [${G * H}, vocab]`);
  const V = ih0.shape[1];
  const hasBias = rec.get(0)!.bias_ih !== undefined || rec.get(0)!.bias_hh !== undefined;

  const expectShape = (name: string, t: NamedArray, shape: number[]) => {
    if (t.shape.join() !== shape.join()) fail(`"${name}" has shape ${shapeOf(t)}, expected [${shape.join(', ')}] (${modelType}, hidden ${H}, vocabulary ${V})`);
  };
  const weights = new Map<string, NamedArray>();
  for (let k = 0; k < numLayers; k++) {
    const ih = need('weight_ih', k);
    const hh = need('weight_hh', k);
    expectShape(key('weight_ih', k), ih, [G * H, k === 0 ? V : H]);
    expectShape(key('weight_hh', k), hh, [G * H, H]);
    let bih: NamedArray, bhh: NamedArray;
    if (hasBias) {
      bih = need('bias_ih', k);
      bhh = need('bias_hh', k);
      expectShape(key('bias_ih', k), bih, [G * H]);
      expectShape(key('bias_hh', k), bhh, [G * H]);
    } else {
      for (const kind of ['bias_ih', 'bias_hh']) if (rec.get(k)![kind]) fail(`"${key(kind, k)}" is present but layer 0 has no biases`);
      bih = bhh = { shape: [G * H], data: new Float32Array(G * H) };
    }
    weights.set(`layers.${k}.Wx`, transpose(ih));
    weights.set(`layers.${k}.Wh`, transpose(hh));
    if (modelType === 'gru') {
      weights.set(`layers.${k}.b`, bih);
      weights.set(`layers.${k}.bh`, bhh);
    } else weights.set(`layers.${k}.b`, add(bih, bhh));
  }

  // The decoder: one Linear, "decoder.weight" [V, H] (+ "decoder.bias" [V]); any other name works
  // when it is the only Linear left.
  const linears = [...new Set(rest.filter((n) => n.endsWith('.weight')).map((n) => n.slice(0, -'.weight'.length)))];
  const dec = linears.includes('decoder') ? 'decoder' : linears.includes(`${prefix}decoder`) ? `${prefix}decoder` : linears.length === 1 ? linears[0] : undefined;
  if (dec === undefined) {
    fail(linears.length === 0 ? `no decoder found (expected "decoder.weight" [${V}, ${H}] and "decoder.bias" [${V}])` : `several candidate decoders (${linears.map((l) => `"${l}.weight"`).join(', ')}): expected "decoder.weight"`);
  }
  const unexpected = rest.filter((n) => n !== `${dec}.weight` && n !== `${dec}.bias`);
  if (unexpected.length) fail(`unexpected tensors ${unexpected.map((n) => `"${n}"`).join(', ')} (expected one-hot input → nn.${modelType.toUpperCase()} → Linear decoder)`);
  const dw = tensors.get(`${dec}.weight`)!;
  expectShape(`${dec}.weight`, dw, [V, H]);
  const db = tensors.get(`${dec}.bias`) ?? { shape: [V], data: new Float32Array(V) };
  expectShape(`${dec}.bias`, db, [V]);
  weights.set('decoder.W', transpose(dw));
  weights.set('decoder.b', db);
  return { config: { modelType, vocabSize: V, hiddenSize: H, numLayers, dropout: 0 }, weights };
}

/** True when `dir` looks like a PyTorch checkpoint (model.safetensors + meta.json, no checkpoint.json). */
export function isTorchCheckpointDir(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'model.safetensors')) && fs.existsSync(path.join(dir, 'meta.json')) && !fs.existsSync(path.join(dir, 'checkpoint.json'));
}

/** Load a checkpoint directory of the PyTorch reproduction as our model + vocabulary. */
export function loadTorchCheckpoint(dir: string): TorchCheckpoint {
  if (!fs.existsSync(dir)) throw new UserError(`checkpoint not found: ${dir}`);
  if (!fs.statSync(dir).isDirectory()) throw new UserError(`checkpoint ${dir} is not a directory`);
  const file = (name: string) => {
    const f = path.join(dir, name);
    if (!fs.existsSync(f) || !fs.statSync(f).isFile()) throw new UserError(`${dir} is not a PyTorch checkpoint: ${name} is missing`);
    return f;
  };
  const weightsFile = file('model.safetensors');
  const metaFile = file('meta.json');
  let meta: Record<string, unknown>;
  try {
    meta = JSON.parse(fs.readFileSync(metaFile, 'utf8'));
  } catch {
    throw new UserError(`${metaFile} is corrupt (not valid JSON)`);
  }
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) throw new UserError(`${metaFile} is not a JSON object`);
  const idToByte = meta.id_to_byte;
  if (!Array.isArray(idToByte)) throw new UserError(`${metaFile} has no "id_to_byte" array (the vocabulary: id → byte value)`);
  const { tensors } = decodeSafetensors(fs.readFileSync(weightsFile), weightsFile);
  const { config, weights } = fromTorchStateDict(tensors, weightsFile);
  if (idToByte.length !== config.vocabSize) {
    throw new UserError(`${metaFile}: "id_to_byte" has ${idToByte.length} entries but the model's vocabulary has ${config.vocabSize} (the input and decoder sizes in model.safetensors)`);
  }
  let vocab: ByteVocab;
  try {
    vocab = new ByteVocab(idToByte as number[]);
  } catch (e) {
    throw new UserError(`${metaFile}: "id_to_byte" is not a valid vocabulary (${(e as Error).message.replace(/^invalid vocabulary: /, '')})`);
  }
  if (typeof meta.dropout === 'number' && meta.dropout >= 0 && meta.dropout < 1) config.dropout = meta.dropout;
  if (meta.nonlinearity !== undefined) {
    if (meta.nonlinearity !== 'tanh' && meta.nonlinearity !== 'relu') throw new UserError(`${metaFile}: "nonlinearity" is ${JSON.stringify(meta.nonlinearity)}; nn.RNN has "tanh" or "relu"`);
    if (config.modelType !== 'rnn' && meta.nonlinearity !== 'tanh') throw new UserError(`${metaFile}: "nonlinearity" "${meta.nonlinearity}" is for an nn.RNN, but model.safetensors holds an nn.${config.modelType.toUpperCase()}`);
    if (meta.nonlinearity === 'relu') config.activation = 'relu';
  }
  const model = new CharModel(config);
  try {
    model.setWeights(weights);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, vocab, meta };
}

/** Load either kind of checkpoint directory (ours, or the PyTorch reproduction's), by the files present. */
export function loadAnyCheckpoint(dir: string): { model: CharModel; vocab: ByteVocab; kind: 'unreasonable' | 'pytorch' } {
  if (fs.existsSync(dir) && fs.statSync(dir).isDirectory() && isTorchCheckpointDir(dir)) {
    const { model, vocab } = loadTorchCheckpoint(dir);
    return { model, vocab, kind: 'pytorch' };
  }
  const { model, vocab } = loadCheckpoint(dir);
  return { model, vocab, kind: 'unreasonable' };
}
