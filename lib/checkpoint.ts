/**
 * Checkpoints: one directory, written atomically.
 *
 *   checkpoint.json     format, model config, vocabulary, training state (step, RNG, history, …),
 *                       and the sha256 of every other file
 *   model.safetensors   the parameters ("layers.0.Wx", …, "decoder.W", "decoder.b")
 *   trainer.safetensors optimizer slots ("opt/<slot>/<param>") and the hidden state carried into
 *                       the next chunk ("carry/<layer>/<k>"); only in resumable checkpoints
 */
import * as fs from 'fs';
import * as path from 'path';
import { recoverDir, writeDirAtomic } from './atomic';
import { sha256 } from './corpus';
import { UserError } from './errors';
import { CharModel, ModelConfig, validateConfig } from './model';
import { decodeSafetensors, encodeSafetensors, NamedArray } from './safetensors';
import { ByteVocab, VocabJSON } from './vocab';

export const CHECKPOINT_FORMAT = 'unreasonable-charrnn';
export const CHECKPOINT_VERSION = 1;

export interface CheckpointMeta {
  format: string;
  version: number;
  model: ModelConfig;
  vocab: VocabJSON;
  /** Present in checkpoints written during training: what resume needs beyond the tensors. */
  training?: Record<string, unknown>;
  /** sha256 of each data file. */
  files: Record<string, string>;
}

export interface Checkpoint {
  meta: CheckpointMeta;
  model: CharModel;
  vocab: ByteVocab;
  /** trainer.safetensors, when present. */
  trainerTensors?: Map<string, NamedArray>;
}

export function modelTensors(model: CharModel): Map<string, NamedArray> {
  const out = new Map<string, NamedArray>();
  for (const [name, v] of model.namedParams()) out.set(name, { shape: v.shape, data: v.dataSync() as Float32Array });
  return out;
}

export interface SaveArgs {
  model: CharModel;
  vocab: ByteVocab;
  training?: Record<string, unknown>;
  trainerTensors?: Map<string, NamedArray>;
}

export function saveCheckpoint(dir: string, args: SaveArgs): void {
  const files = new Map<string, Uint8Array | string>();
  files.set('model.safetensors', encodeSafetensors(modelTensors(args.model), { format: CHECKPOINT_FORMAT }));
  if (args.trainerTensors) files.set('trainer.safetensors', encodeSafetensors(args.trainerTensors));
  const hashes: Record<string, string> = {};
  for (const [name, data] of files) hashes[name] = sha256(data as Uint8Array);
  const meta: CheckpointMeta = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    model: args.model.config,
    vocab: args.vocab.toJSON(),
    training: args.training,
    files: hashes,
  };
  files.set('checkpoint.json', JSON.stringify(meta, null, 1) + '\n');
  writeDirAtomic(dir, files);
}

/** Read and validate checkpoint.json (no tensors). */
export function readCheckpointMeta(dir: string): CheckpointMeta {
  recoverDir(path.resolve(dir));
  if (!fs.existsSync(dir)) throw new UserError(`checkpoint not found: ${dir}`);
  if (!fs.statSync(dir).isDirectory()) throw new UserError(`checkpoint ${dir} is not a directory`);
  const metaFile = path.join(dir, 'checkpoint.json');
  if (!fs.existsSync(metaFile)) {
    const hint = fs.existsSync(path.join(dir, 'model.safetensors')) && fs.existsSync(path.join(dir, 'meta.json'))
      ? ' (it looks like a PyTorch checkpoint: load it with loadTorchCheckpoint)'
      : '';
    throw new UserError(`${dir} is not a checkpoint: checkpoint.json is missing${hint}`);
  }
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(fs.readFileSync(metaFile, 'utf8'));
  } catch {
    throw new UserError(`${metaFile} is corrupt (not valid JSON)`);
  }
  if (meta?.format !== CHECKPOINT_FORMAT) throw new UserError(`${metaFile} is not an unreasonable checkpoint (format ${JSON.stringify(meta?.format)})`);
  if (meta.version !== CHECKPOINT_VERSION) throw new UserError(`${metaFile} has version ${meta.version}; this library reads version ${CHECKPOINT_VERSION}`);
  if (!meta.model || !meta.vocab || !meta.files) throw new UserError(`${metaFile} is incomplete (model, vocab or files missing)`);
  validateConfig(meta.model);
  return meta;
}

function readVerified(dir: string, name: string, meta: CheckpointMeta): Buffer {
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) throw new UserError(`checkpoint ${dir} is incomplete: ${name} is missing`);
  const data = fs.readFileSync(file);
  if (sha256(data) !== meta.files[name]) throw new UserError(`checkpoint file ${file} is corrupt or truncated (sha256 mismatch)`);
  return data;
}

/** Load a checkpoint directory: model, vocabulary and (if present) trainer tensors. */
export function loadCheckpoint(dir: string): Checkpoint {
  const meta = readCheckpointMeta(dir);
  const vocab = ByteVocab.fromJSON(meta.vocab);
  if (vocab.size !== meta.model.vocabSize) throw new UserError(`checkpoint ${dir}: vocabulary has ${vocab.size} bytes but the model expects ${meta.model.vocabSize}`);
  const { tensors } = decodeSafetensors(readVerified(dir, 'model.safetensors', meta), path.join(dir, 'model.safetensors'));
  const model = new CharModel(meta.model);
  try {
    model.setWeights(tensors);
  } catch (e) {
    model.dispose();
    throw e;
  }
  const trainerTensors = meta.files['trainer.safetensors']
    ? decodeSafetensors(readVerified(dir, 'trainer.safetensors', meta), path.join(dir, 'trainer.safetensors')).tensors
    : undefined;
  return { meta, model, vocab, trainerTensors };
}
