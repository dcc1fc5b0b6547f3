/**
 * Atomic writes: a file goes to a temp name, is fsynced and renamed into place, and the directory
 * is fsynced so that the rename survives a power loss; a directory is written whole beside the
 * target and swapped in with two renames (exports; checkpoints use versioned files and an atomic
 * checkpoint.json instead, see checkpoint.ts). A failure (disk full, Ctrl-C) leaves the previous
 * version intact and removes the partial one.
 */
import * as fs from 'fs';
import * as path from 'path';
import { UserError } from '../util/errors';

function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** fsync a directory, so that the names created or renamed in it are durable (a no-op where unsupported). */
export function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = fs.openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fs.fsyncSync(fd);
  } catch {
    // some file systems (and Windows) cannot fsync a directory
  } finally {
    fs.closeSync(fd);
  }
}

/** The temporary name `file` is written under before its rename: ".NAME.tmp-PID". */
export function tempName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
}

/**
 * Write `file` atomically and durably: temp file, fsync, rename; the directory is fsynced
 * unless `syncDir` is false (the caller fsyncs it once for several files). Plain errors.
 */
export function writeFileDurable(file: string, data: Uint8Array | string, syncDir = true): void {
  const tmp = tempName(file);
  try {
    fs.writeFileSync(tmp, data);
    fsyncFile(tmp);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  if (syncDir) fsyncDir(path.dirname(file));
}

export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  try {
    writeFileDurable(file, data);
  } catch (e) {
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
    fsyncDir(path.dirname(dir));
    if (swapped) fs.rmSync(old, { recursive: true, force: true });
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (swapped && !fs.existsSync(dir) && fs.existsSync(old)) fs.renameSync(old, dir);
    throw new UserError(`could not save ${what} to ${dir}: ${(e as Error).message.split('\n')[0]} (the previous ${what}, if any, is intact)`);
  }
}
