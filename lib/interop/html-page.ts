/**
 * `unreasonable export --html DIR`: a standalone web page that generates text in the browser
 * from the exported LayersModel (lib/interop/layers-model.ts), offline, opened from file:// or any static server.
 *
 *   index.html   the UI: prime text, temperature, length, seed, Generate (Stop), streaming output
 *   tf.min.js    TensorFlow.js's browser bundle (copied from @tensorflow/tfjs/dist)
 *   model.js     the export (model.json, weights.bin as base64, vocab.json) as a script: file://
 *                pages cannot fetch(), but they can load scripts
 *   sampler.js   lib/util/rng.ts's sfc32 generator and lib/generate/sample.ts's temperature sampling, the same
 *                algorithms, so the page gives `sample()`'s text for the same seed and settings
 *   app.js       loads the model with stateful recurrent layers (one step per byte) and samples
 *   model.json, weights.bin, vocab.json   the plain LayersModel export, for other uses
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeDirAtomic } from '../io/atomic';
import { UserError } from '../util/errors';
import { EXPORT_FILES, exportFiles } from './layers-model';
import { CharModel } from '../nn/model';
import { ByteVocab } from '../data/vocab';

export const PAGE_FILES = ['index.html', 'tf.min.js', 'model.js', 'sampler.js', 'app.js', ...EXPORT_FILES];

/** Options of the page. */
export interface ExportHtmlArgs {
  /** Page title (default "unreasonable: <model>"). */
  title?: string;
  /** The prime text the page starts with (default "\n"-free empty). */
  prime?: string;
}

const WEB_DIR = path.join(__dirname, 'web');

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON safe inside a `<script>` file or tag. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** The page's files (name → contents), without writing them. */
export async function pageFiles(model: CharModel, vocab: ByteVocab, args: ExportHtmlArgs = {}): Promise<Map<string, Uint8Array | string>> {
  const files = await exportFiles(model, vocab);
  const weights = files.get('weights.bin') as Uint8Array;
  const modelJs =
    '// The exported model, as a script so that the page also works from file://.\n' +
    `window.UNREASONABLE_MODEL = {\n  modelJson: ${scriptJson(JSON.parse(files.get('model.json') as string))},\n` +
    `  vocab: ${scriptJson(JSON.parse(files.get('vocab.json') as string))},\n` +
    `  weightsBase64: "${Buffer.from(weights.buffer, weights.byteOffset, weights.byteLength).toString('base64')}"\n};\n`;
  const { modelType, numLayers, hiddenSize } = model.config;
  const title = args.title ?? `unreasonable: ${modelType.toUpperCase()} ${numLayers}×${hiddenSize}, one byte at a time`;
  const html = fs
    .readFileSync(path.join(WEB_DIR, 'index.html'), 'utf8')
    .replace(/__TITLE__/g, escapeHtml(title))
    .replace('__PRIME__', escapeHtml(args.prime ?? ''));
  const tfFile = path.join(path.dirname(require.resolve('@tensorflow/tfjs/package.json')), 'dist', 'tf.min.js');
  const page = new Map<string, Uint8Array | string>([
    ['index.html', html],
    ['tf.min.js', fs.readFileSync(tfFile)],
    ['model.js', modelJs],
    ['sampler.js', fs.readFileSync(path.join(WEB_DIR, 'sampler.js'), 'utf8')],
    ['app.js', fs.readFileSync(path.join(WEB_DIR, 'app.js'), 'utf8')],
  ]);
  for (const [name, data] of files) page.set(name, data);
  return page;
}

/**
 * Write the page into `outDir` (atomically: the directory is replaced whole). A non-empty
 * `outDir` that is not an earlier page export is refused rather than overwritten.
 */
export async function exportHtmlPage(model: CharModel, vocab: ByteVocab, outDir: string, args: ExportHtmlArgs = {}): Promise<{ dir: string; files: string[]; bytes: number }> {
  const dir = path.resolve(outDir);
  if (fs.existsSync(dir)) {
    if (!fs.statSync(dir).isDirectory()) throw new UserError(`page target ${dir} exists and is not a directory`);
    const foreign = fs.readdirSync(dir).filter((n) => !PAGE_FILES.includes(n));
    if (foreign.length) throw new UserError(`page target ${dir} holds other files (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}): choose a new or empty directory`);
  }
  const files = await pageFiles(model, vocab, args);
  writeDirAtomic(dir, files, 'page');
  let bytes = 0;
  for (const data of files.values()) bytes += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
  return { dir, files: [...files.keys()], bytes };
}
