/**
 * The CLI commands that use a trained model: `sample`, `eval`, `export`. Each reads either kind
 * of checkpoint directory (ours, or the PyTorch reproduction's model.safetensors + meta.json).
 */
import * as fs from 'fs';
import * as path from 'path';
import { describeBackend, initBackend } from './backend';
import { GlobalOptions } from './cli-train';
import { Log, readInputFile } from './cli-util';
import { UsageError, UserError } from './errors';
import { listPretrained, pretrainedDir, readCard } from './pretrained';
import { evaluateLoss } from './evaluate';
import { exportLayersModel } from './export';
import { toBits } from './loss';
import { sample } from './sample';
import { loadAnyCheckpoint } from './torch';

/** --checkpoint DIR or --pretrained NAME (exactly one). */
export interface ModelSource {
  checkpoint?: string;
  pretrained?: string;
}

function modelDir(src: ModelSource): string {
  if (src.checkpoint !== undefined && src.pretrained !== undefined) throw new UsageError('give --checkpoint or --pretrained, not both');
  if (src.pretrained !== undefined) return pretrainedDir(src.pretrained);
  if (src.checkpoint === undefined) throw new UsageError("required option '--checkpoint <dir>' (or '--pretrained <name>') not specified");
  return src.checkpoint;
}

async function load(src: ModelSource, global: GlobalOptions) {
  const dir = modelDir(src);
  const log = new Log(Boolean(global.quiet));
  log.info(describeBackend(await initBackend(global.backend)));
  const ck = loadAnyCheckpoint(dir);
  const { modelType, numLayers, hiddenSize } = ck.model.config;
  log.info(`${ck.kind === 'pytorch' ? 'PyTorch checkpoint' : 'checkpoint'} ${dir}: ${modelType} ${numLayers}×${hiddenSize}, vocabulary ${ck.vocab.size} bytes`);
  return { ...ck, log };
}

export interface SampleOptions extends ModelSource {
  length: number;
  temperature: number;
  prime?: string;
  seed: number;
  skipUnknown?: boolean;
}

/** Generate bytes to stdout, streamed as they are produced. */
export async function runSample(opts: SampleOptions, global: GlobalOptions): Promise<number> {
  const { model, vocab } = await load(opts, global);
  const chunks: Buffer[] = [];
  let pending = 0;
  let closed = false; // the reader went away (e.g. `| head`): stop generating
  const flush = () => {
    if (chunks.length && !closed) {
      try {
        // Synchronous, so that a closed pipe (EPIPE) is seen while sampling, not after it.
        fs.writeSync(1, Buffer.concat(chunks));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EPIPE') throw e;
        closed = true;
      }
    }
    chunks.length = 0;
    pending = 0;
  };
  try {
    sample(model, vocab, {
      length: opts.length,
      temperature: opts.temperature,
      prime: opts.prime,
      seed: opts.seed,
      skipUnknown: opts.skipUnknown,
      onByte: (b) => {
        // Stream, but in small batches: a write per byte is slow on pipes.
        chunks.push(Buffer.from(b));
        if (++pending >= 16 || b[0] === 10 || process.stdout.isTTY) flush();
        return !closed;
      },
    });
    flush();
  } finally {
    model.dispose();
  }
  return 0;
}

export interface EvalOptions extends ModelSource {
  text: string;
  json?: boolean;
  batch: number;
  warmup: number;
  seq: number;
  skipUnknown?: boolean;
}

/** Loss of the model on a text file: nats/byte and bits/byte. */
export async function runEval(opts: EvalOptions, global: GlobalOptions): Promise<number> {
  const bytes = readInputFile(opts.text, 'text file');
  const { model, vocab, log } = await load(opts, global);
  try {
    const ids = vocab.encode(bytes, { skipUnknown: opts.skipUnknown });
    if (ids.length < 2) throw new UserError(`${opts.text} has ${ids.length} usable byte(s): need at least 2 to measure a loss`);
    if (ids.length < bytes.length) log.info(`skipped ${bytes.length - ids.length} byte(s) outside the vocabulary`);
    const loss = evaluateLoss(model, ids, { batchSize: opts.batch, seqLength: opts.seq, warmup: opts.warmup });
    if (opts.json) {
      const fields: Record<string, number | null> = { loss: Number.isFinite(loss) ? loss : null, bpc: Number.isFinite(loss) ? toBits(loss) : null, bytes: ids.length };
      process.stdout.write(`{${Object.entries(fields).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(', ')}}\n`);
    } else {
      process.stdout.write(`${path.basename(opts.text)}: ${loss.toFixed(4)} nats/byte = ${toBits(loss).toFixed(4)} bits/byte over ${ids.length} bytes\n`);
    }
  } finally {
    model.dispose();
  }
  return 0;
}

export interface ExportOptions extends ModelSource {
  out: string;
}

/** Write the model as a TF.js LayersModel (model.json + weights.bin + vocab.json). */
export async function runExport(opts: ExportOptions, global: GlobalOptions): Promise<number> {
  if (path.resolve(opts.out) === path.resolve(modelDir(opts))) throw new UserError('--out must be a different directory from the checkpoint');
  const { model, vocab, log } = await load(opts, global);
  try {
    const r = await exportLayersModel(model, vocab, opts.out);
    log.info(`exported ${r.files.join(', ')} (${r.bytes} bytes) to ${r.dir}: load with tf.loadLayersModel; input one-hot [batch, time, ${vocab.size}]`);
  } finally {
    model.dispose();
  }
  return 0;
}

/** `unreasonable models`: one line per shipped model. */
export function runModels(): number {
  const names = listPretrained();
  if (!names.length) {
    process.stdout.write('no shipped models found\n');
    return 0;
  }
  for (const name of names) {
    const c = readCard(name);
    const m = c.recipe.model;
    const units = Object.entries(c.features).map(([f, u]) => `${f} |r| ${Math.abs(u.r).toFixed(2)}`).join(', ');
    process.stdout.write(`${name.padEnd(12)} ${m.modelType} ${m.numLayers}×${m.hiddenSize} on ${c.corpus.name}: held-out ${c.validation.loss.toFixed(3)} nats/byte (${c.validation.bpc.toFixed(3)} bits/byte); ${units}\n`);
  }
  return 0;
}
