/**
 * The CLI commands that use a trained model: `sample`, `eval`, `export`. Each reads either kind
 * of checkpoint directory (ours, or the PyTorch reproduction's model.safetensors + meta.json).
 */
import * as fs from 'fs';
import * as path from 'path';
import { describeBackend, initBackend } from './backend';
import { GlobalOptions } from './cli-train';
import { Log, readInputFile } from './cli-util';
import { UserError } from './errors';
import { evaluateLoss } from './evaluate';
import { exportLayersModel } from './export';
import { exportHtmlPage } from './export-html';
import { toBits } from './loss';
import { sample } from './sample';
import { loadAnyCheckpoint } from './torch';

async function load(dir: string, global: GlobalOptions) {
  const log = new Log(Boolean(global.quiet));
  log.info(describeBackend(await initBackend(global.backend)));
  const ck = loadAnyCheckpoint(dir);
  const { modelType, numLayers, hiddenSize } = ck.model.config;
  log.info(`${ck.kind === 'pytorch' ? 'PyTorch checkpoint' : 'checkpoint'} ${dir}: ${modelType} ${numLayers}×${hiddenSize}, vocabulary ${ck.vocab.size} bytes`);
  return { ...ck, log };
}

export interface SampleOptions {
  checkpoint: string;
  length: number;
  temperature: number;
  prime?: string;
  seed: number;
  skipUnknown?: boolean;
}

/** Generate bytes to stdout, streamed as they are produced. */
export async function runSample(opts: SampleOptions, global: GlobalOptions): Promise<number> {
  const { model, vocab } = await load(opts.checkpoint, global);
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

export interface EvalOptions {
  checkpoint: string;
  text: string;
  json?: boolean;
  batch: number;
  seq: number;
  skipUnknown?: boolean;
}

/** Loss of the model on a text file: nats/byte and bits/byte. */
export async function runEval(opts: EvalOptions, global: GlobalOptions): Promise<number> {
  const bytes = readInputFile(opts.text, 'text file');
  const { model, vocab, log } = await load(opts.checkpoint, global);
  try {
    const ids = vocab.encode(bytes, { skipUnknown: opts.skipUnknown });
    if (ids.length < 2) throw new UserError(`${opts.text} has ${ids.length} usable byte(s): need at least 2 to measure a loss`);
    if (ids.length < bytes.length) log.info(`skipped ${bytes.length - ids.length} byte(s) outside the vocabulary`);
    const loss = evaluateLoss(model, ids, { batchSize: opts.batch, seqLength: opts.seq });
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

export interface ExportOptions {
  checkpoint: string;
  /** Directory for the LayersModel files. */
  out?: string;
  /** Directory for the standalone web page (lib/export-html.ts). */
  html?: string;
  /** The page's initial prime text. */
  prime?: string;
}

/** Write the model as a TF.js LayersModel (model.json + weights.bin + vocab.json) and/or a web page. */
export async function runExport(opts: ExportOptions, global: GlobalOptions): Promise<number> {
  if (!opts.out && !opts.html) throw new UserError('export needs --out DIR (a LayersModel) or --html DIR (a web page), or both');
  for (const [flag, dir] of [['--out', opts.out], ['--html', opts.html]] as const) {
    if (dir && path.resolve(dir) === path.resolve(opts.checkpoint)) throw new UserError(`${flag} must be a different directory from --checkpoint`);
  }
  if (opts.out && opts.html && path.resolve(opts.out) === path.resolve(opts.html)) throw new UserError('--out and --html must be different directories');
  const { model, vocab, log } = await load(opts.checkpoint, global);
  try {
    if (opts.out) {
      const r = await exportLayersModel(model, vocab, opts.out);
      log.info(`exported ${r.files.join(', ')} (${r.bytes} bytes) to ${r.dir}: load with tf.loadLayersModel; input one-hot [batch, time, ${vocab.size}]`);
    }
    if (opts.html) {
      const r = await exportHtmlPage(model, vocab, opts.html, { prime: opts.prime });
      log.info(`wrote a web page (${r.files.length} files, ${r.bytes} bytes) to ${r.dir}: open ${path.join(r.dir, 'index.html')} in a browser (offline, file:// or any static server)`);
    }
  } finally {
    model.dispose();
  }
  return 0;
}
