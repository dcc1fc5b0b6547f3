/**
 * Atomic writes: a file goes to a temp name and is renamed into place; a directory is written
 * whole beside the target and swapped in with two renames. A failure (disk full, Ctrl-C) leaves
 * the previous version intact and removes the partial one.
 */
import * as fs from 'fs';
import * as path from 'path';
import { UserError } from './errors';

function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, data);
    fsyncFile(tmp);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new UserError(`could not write ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** Siblings left by an interrupted swap: "<dir>.old-<pid>". */
function oldCopies(dir: string): string[] {
  const parent = path.dirname(dir);
  const base = path.basename(dir);
  if (!fs.existsSync(parent) || !fs.statSync(parent).isDirectory()) return [];
  return fs
    .readdirSync(parent)
    .filter((n) => n.startsWith(`${base}.old-`))
    .map((n) => path.join(parent, n));
}

/**
 * If `dir` is missing but an interrupted swap left "<dir>.old-*", move it back.
 * Returns true when something was recovered.
 */
export function recoverDir(dir: string): boolean {
  if (fs.existsSync(dir)) return false;
  const olds = oldCopies(dir);
  if (olds.length === 0) return false;
  fs.renameSync(olds[0], dir);
  return true;
}

/**
 * Replace directory `dir` by one holding exactly `files` (name → bytes), atomically.
 * `what` names the directory in the error message ("checkpoint", "export", …).
 */
export function writeDirAtomic(dir: string, files: Map<string, Uint8Array | string>, what = 'checkpoint'): void {
  dir = path.resolve(dir);
  recoverDir(dir);
  const tmp = `${dir}.tmp-${process.pid}`;
  const old = `${dir}.old-${process.pid}`;
  let swapped = false;
  try {
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    for (const [name, data] of files) {
      fs.writeFileSync(path.join(tmp, name), data);
      fsyncFile(path.join(tmp, name));
    }
    if (fs.existsSync(dir)) {
      if (!fs.statSync(dir).isDirectory()) throw new Error(`${dir} exists and is not a directory`);
      fs.renameSync(dir, old);
      swapped = true;
    }
    fs.renameSync(tmp, dir);
    if (swapped) fs.rmSync(old, { recursive: true, force: true });
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (swapped && !fs.existsSync(dir) && fs.existsSync(old)) fs.renameSync(old, dir);
    throw new UserError(`could not save ${what} to ${dir}: ${(e as Error).message.split('\n')[0]} (the previous ${what}, if any, is intact)`);
  }
}
