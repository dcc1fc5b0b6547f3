/**
 * Checkpoints: one directory, updated atomically and durably, readable while it is updated.
 *
 *   checkpoint.json             format, model config, vocabulary, training state (step, RNG,
 *                               history, …), which files hold the tensors ("parts") and the
 *                               sha256 of each: the commit point of a version
 *   model-<sha12>.safetensors   the parameters ("layers.0.Wx", …, "decoder.W", "decoder.b")
 *   trainer-<sha12>.safetensors optimizer slots ("opt/<slot>/<param>") and the hidden state carried
 *                               into the next chunk ("carry/<layer>/<k>"); only in resumable ones
 *   trainer.lock                while a trainer owns the directory (lock.ts)
 *
 * A save writes the new tensor files under new names (temp file, fsync, rename, fsync of the
 * directory), then replaces checkpoint.json the same way, then deletes the files that neither
 * the new nor the previous checkpoint.json names. So at every instant — and after a kill -9 or
 * a power loss at any point — checkpoint.json names complete files, and a reader that read the
 * previous checkpoint.json still finds its files for one more save. A reader that finds a file
 * gone or different re-reads checkpoint.json: a changed one means a newer version (read that),
 * an unchanged one means real damage (an error).
 *
 * Version 1 checkpoints (model.safetensors + trainer.safetensors, the directory swapped whole)
 * are read as before; saving into one writes version 2.
 */
import * as fs from 'fs';
import * as path from 'path';
import { fsyncDir, recoverDir, writeFileDurable } from '../io/atomic';
import { META_FILE, PART_RE, TEMP_RE } from '../io/checkpoint-files';
import { sha256 } from '../data/corpus';
import { UserError } from '../util/errors';
import { CharModel, ModelConfig, validateConfig } from '../nn/model';
import { decodeSafetensors, encodeSafetensors, NamedArray, WriteDtype } from '../io/safetensors';
import { ByteVocab, VocabJSON } from '../data/vocab';

export const CHECKPOINT_FORMAT = 'unreasonable-charrnn';
export const CHECKPOINT_VERSION = 2;
/** Versions this library reads. */
export const READABLE_VERSIONS = [1, 2];

export interface CheckpointMeta {
  format: string;
  version: number;
  model: ModelConfig;
  vocab: VocabJSON;
  /** Present in checkpoints written during training: what resume needs beyond the tensors. */
  training?: Record<string, unknown>;
  /** sha256 of each data file, by file name. */
  files: Record<string, string>;
  /** Version 2: the files holding the model's and the trainer's tensors (version 1: fixed names). */
  parts?: { model: string; trainer?: string };
}

/** The file holding the model's (or the trainer's) tensors. */
export function partFile(meta: CheckpointMeta, part: 'model' | 'trainer'): string | undefined {
  if (meta.parts) return meta.parts[part];
  const legacy = `${part}.safetensors`;
  return meta.files[legacy] ? legacy : undefined;
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
  /** How the model's weights are stored (default F32; F16 halves a weights-only checkpoint, e.g. a shipped model). */
  modelDtype?: WriteDtype;
}

/** Parse checkpoint.json if there is a readable one (no validation). */
function previousMeta(dir: string): CheckpointMeta | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, META_FILE), 'utf8')) as CheckpointMeta;
  } catch {
    return undefined;
  }
}

/** Whether the process that writes temporary file `name` (".X.tmp-PID") is another live one. */
function writerAlive(name: string): boolean {
  const pid = Number(/\.tmp-(\d+)$/.exec(name)?.[1]);
  if (!pid || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Delete tensor and temporary files that `keep` does not name. */
function prune(dir: string, keep: Set<string>): void {
  for (const name of fs.readdirSync(dir)) {
    if (keep.has(name)) continue;
    if (PART_RE.test(name) || (TEMP_RE.test(name) && !writerAlive(name))) fs.rmSync(path.join(dir, name), { force: true });
  }
}

export function saveCheckpoint(dir: string, args: SaveArgs): void {
  dir = path.resolve(dir);
  recoverDir(dir); // a version-1 save interrupted between its two renames
  const parts: [string, Buffer][] = [];
  const model = encodeSafetensors(modelTensors(args.model), { format: CHECKPOINT_FORMAT }, args.modelDtype);
  const modelHash = sha256(model);
  parts.push([`model-${modelHash.slice(0, 12)}.safetensors`, model]);
  const files: Record<string, string> = { [parts[0][0]]: modelHash };
  let trainerName: string | undefined;
  if (args.trainerTensors) {
    const t = encodeSafetensors(args.trainerTensors);
    const h = sha256(t);
    trainerName = `trainer-${h.slice(0, 12)}.safetensors`;
    parts.push([trainerName, t]);
    files[trainerName] = h;
  }
  const meta: CheckpointMeta = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    model: args.model.config,
    vocab: args.vocab.toJSON(),
    training: args.training,
    files,
    parts: { model: parts[0][0], ...(trainerName ? { trainer: trainerName } : {}) },
  };
  let created: string | undefined;
  let keep = new Set<string>();
  const written: string[] = [];
  try {
    if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw new Error(`${dir} exists and is not a directory`);
    if (!fs.existsSync(dir)) {
      created = dir;
      fs.mkdirSync(dir, { recursive: true });
      fsyncDir(path.dirname(dir));
    }
    const prev = previousMeta(dir);
    keep = new Set([...Object.keys(prev?.files ?? {}), ...Object.keys(files)]);
    for (const [name, data] of parts) {
      const file = path.join(dir, name);
      const had = fs.existsSync(file); // same name = same bytes (a save of unchanged tensors)
      writeFileDurable(file, data, false);
      if (!had) written.push(file);
    }
    fsyncDir(dir); // the tensor files exist durably before checkpoint.json names them
    writeFileDurable(path.join(dir, META_FILE), JSON.stringify(meta, null, 1) + '\n');
  } catch (e) {
    for (const file of written) if (!Object.keys(previousMeta(dir)?.files ?? {}).includes(path.basename(file))) fs.rmSync(file, { force: true });
    if (created) fs.rmSync(created, { recursive: true, force: true });
    throw new UserError(`could not save checkpoint to ${dir}: ${(e as Error).message.split('\n')[0]} (the previous checkpoint, if any, is intact)`);
  }
  try {
    prune(dir, keep);
  } catch {
    // leftovers are removed at the next save
  }
}

/** checkpoint.json's text and its validated contents. */
function readMeta(dir: string): { meta: CheckpointMeta; raw: string } {
  recoverDir(path.resolve(dir));
  if (!fs.existsSync(dir)) throw new UserError(`checkpoint not found: ${dir}`);
  if (!fs.statSync(dir).isDirectory()) throw new UserError(`checkpoint ${dir} is not a directory`);
  const metaFile = path.join(dir, META_FILE);
  let raw: string;
  try {
    raw = fs.readFileSync(metaFile, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new UserError(`cannot read ${metaFile}: ${(e as Error).message.split('\n')[0]}`);
    const hint = fs.existsSync(path.join(dir, 'model.safetensors')) && fs.existsSync(path.join(dir, 'meta.json'))
      ? ' (it looks like a PyTorch checkpoint: load it with loadTorchCheckpoint)'
      : '';
    throw new UserError(`${dir} is not a checkpoint: checkpoint.json is missing${hint}`);
  }
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(raw);
  } catch {
    throw new UserError(`${metaFile} is corrupt (not valid JSON)`);
  }
  if (meta?.format !== CHECKPOINT_FORMAT) throw new UserError(`${metaFile} is not an unreasonable checkpoint (format ${JSON.stringify(meta?.format)})`);
  if (!READABLE_VERSIONS.includes(meta.version)) throw new UserError(`${metaFile} has version ${meta.version}; this library reads versions ${READABLE_VERSIONS.join(' and ')}`);
  if (!meta.model || !meta.vocab || !meta.files || (meta.version >= 2 && !meta.parts?.model)) throw new UserError(`${metaFile} is incomplete (model, vocab, parts or files missing)`);
  validateConfig(meta.model);
  return { meta, raw };
}

/** Read and validate checkpoint.json (no tensors). */
export function readCheckpointMeta(dir: string): CheckpointMeta {
  return readMeta(dir).meta;
}

/** A data file that is missing or does not match its hash: a newer version replaced it, or damage. */
class PartError extends UserError {}

function readVerified(dir: string, name: string, meta: CheckpointMeta): Buffer {
  const file = path.join(dir, name);
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new PartError(`checkpoint ${dir} is incomplete: ${name} is missing`);
    throw new UserError(`cannot read ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (sha256(data) !== meta.files[name]) throw new PartError(`checkpoint file ${file} is corrupt or truncated (sha256 mismatch)`);
  return data;
}

/** How many newer versions a reader follows before it gives up (a trainer saving faster than it reads). */
const MAX_VERSION_RETRIES = 100;

/**
 * Load a checkpoint directory: model, vocabulary and (if present) trainer tensors. Safe while a
 * trainer saves into it: the result is one complete version (the newest when the read began, or
 * a newer one).
 */
export function loadCheckpoint(dir: string): Checkpoint {
  for (let attempt = 0; ; attempt++) {
    const { meta, raw } = readMeta(dir);
    try {
      return loadVersion(dir, meta);
    } catch (e) {
      if (!(e instanceof PartError) || attempt >= MAX_VERSION_RETRIES) throw e;
      let now: string | undefined;
      try {
        now = fs.readFileSync(path.join(dir, META_FILE), 'utf8');
      } catch {
        now = undefined;
      }
      if (now === raw) throw e; // the same version: the file really is missing or damaged
    }
  }
}

function loadVersion(dir: string, meta: CheckpointMeta): Checkpoint {
  const vocab = ByteVocab.fromJSON(meta.vocab);
  if (vocab.size !== meta.model.vocabSize) throw new UserError(`checkpoint ${dir}: vocabulary has ${vocab.size} bytes but the model expects ${meta.model.vocabSize}`);
  const modelName = partFile(meta, 'model');
  if (!modelName) throw new UserError(`checkpoint ${dir} is incomplete: checkpoint.json names no model file`);
  const trainerName = partFile(meta, 'trainer');
  // Read (and verify) every file before building anything: a newer version may replace them.
  const modelBytes = readVerified(dir, modelName, meta);
  const trainerBytes = trainerName ? readVerified(dir, trainerName, meta) : undefined;
  const { tensors } = decodeSafetensors(modelBytes, path.join(dir, modelName));
  const trainerTensors = trainerBytes ? decodeSafetensors(trainerBytes, path.join(dir, trainerName!)).tensors : undefined;
  const model = new CharModel(meta.model);
  try {
    model.setWeights(tensors);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { meta, model, vocab, trainerTensors };
}
