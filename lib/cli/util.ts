/**
 * Small pieces the CLI commands share: strict flag parsers (a bad value is a usage error,
 * exit 2), stderr messages that respect --quiet, and checks on directories before any work.
 */
import * as fs from 'fs';
import * as path from 'path';
import { InvalidArgumentError } from 'commander';
import { recoverDir } from '../io/atomic';
import { isCheckpointLeftover } from '../io/checkpoint-files';
import { UserError } from '../util/errors';

const INT = /^\+?\d+$/;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function int(v: string): number {
  const s = v.trim();
  const n = INT.test(s) ? Number(s) : FLOAT.test(s) ? Number(s) : NaN; // 1e3 is fine when it is an integer
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('expected an integer.');
  return n;
}

function float(v: string): number {
  const s = v.trim();
  if (!FLOAT.test(s)) throw new InvalidArgumentError('expected a number.');
  const n = Number(s);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('expected a finite number.');
  return n;
}

/** An integer in [min, max]. */
export function intIn(min: number, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v) => {
    const n = int(v);
    if (n < min || n > max) throw new InvalidArgumentError(max === Number.MAX_SAFE_INTEGER ? `must be an integer ≥ ${min}.` : `must be an integer from ${min} to ${max}.`);
    return n;
  };
}

/** A number in [min, max] (or (min, …) / […, max) when the bound is exclusive). */
export function numberIn(min: number, max: number, opts: { minExclusive?: boolean; maxExclusive?: boolean } = {}): (v: string) => number {
  return (v) => {
    const n = float(v);
    const lowOk = opts.minExclusive ? n > min : n >= min;
    const highOk = opts.maxExclusive ? n < max : n <= max;
    if (!lowOk || !highOk) {
      const lo = `${opts.minExclusive ? '(' : '['}${min}`;
      const hi = `${max === Infinity ? '∞' : max}${opts.maxExclusive || max === Infinity ? ')' : ']'}`;
      throw new InvalidArgumentError(`must be in ${lo}, ${hi}.`);
    }
    return n;
  };
}

export const positiveInt = intIn(1);
export const nonNegativeInt = intIn(0);

/** Informational output on stderr, silenced by --quiet. Errors never go through here. */
export class Log {
  constructor(readonly quiet: boolean) {}
  info(line: string): void {
    if (!this.quiet) process.stderr.write(line + '\n');
  }
}

/** A message as one line (newlines folded). */
export function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

/** Quote an argument for a POSIX shell, only when needed. */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Check before training that `dir` can hold a checkpoint, so that no work is lost at the first
 * save: it is a directory or can be created, and is writable. Returns true if it holds a
 * checkpoint. A non-empty directory without one is refused (a save would replace it whole).
 */
export function preflightCheckpointDir(dir: string): boolean {
  recoverDir(dir); // a save interrupted between its two renames left "<dir>.old-<pid>": put it back
  if (fs.existsSync(dir)) {
    if (!fs.statSync(dir).isDirectory()) throw new UserError(`checkpoint path ${dir} exists and is not a directory`);
    if (fs.existsSync(path.join(dir, 'checkpoint.json'))) {
      checkWritable(path.dirname(dir), dir);
      return true;
    }
    // What a killed first save or a crashed trainer's lock leaves does not count.
    const entries = fs.readdirSync(dir).filter((n) => !isCheckpointLeftover(n));
    if (entries.length) throw new UserError(`${dir} is not empty and holds no checkpoint (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}): refusing to replace it; choose a new or empty directory`);
    checkWritable(path.dirname(dir), dir);
    return false;
  }
  let anc = path.dirname(dir);
  while (!fs.existsSync(anc) && path.dirname(anc) !== anc) anc = path.dirname(anc);
  if (!fs.statSync(anc).isDirectory()) throw new UserError(`cannot create checkpoint directory ${dir}: ${anc} is not a directory`);
  checkWritable(anc, dir);
  return false;
}

function checkWritable(parent: string, dir: string): void {
  try {
    fs.accessSync(parent, fs.constants.W_OK);
  } catch {
    throw new UserError(`cannot write checkpoint ${dir}: ${parent} is not writable`);
  }
}

/** Read a whole file given on the command line, with a one-line error. */
export function readInputFile(file: string, what: string): Buffer {
  if (!fs.existsSync(file)) throw new UserError(`${what} not found: ${file}`);
  if (!fs.statSync(file).isFile()) throw new UserError(`${what} ${file} is not a file`);
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new UserError(`cannot read ${what} ${file}: ${oneLine((e as Error).message)}`);
  }
}
