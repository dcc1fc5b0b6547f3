/**
 * One trainer per checkpoint directory: a lock file DIR/trainer.lock naming its owner
 * (pid, host, boot id, the process' start time, command, since when).
 *
 * The file appears whole or not at all: it is written beside, then hard-linked into place
 * (link(2) fails if the name exists, so two trainers cannot both win). A lock is stale, and is
 * taken over with a note, when its owner is gone: same host and another boot, or no process
 * with that pid, or a process with that pid that started at another time (the pid was reused).
 * A lock from another host cannot be checked and counts as held. `force` takes any lock over;
 * the trainer that loses it finds out at its next save and stops without writing.
 *
 * Locks are per process: taking a directory this process already holds (the CLI, then its
 * Trainer; a notebook cell run twice) shares the lock. It is released by the last holder's
 * release(), or when the process exits.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { UserError } from '../util/errors';

export const LOCK_FILE = 'trainer.lock';

/** Who holds a lock (the JSON in the lock file). */
export interface LockOwner {
  pid: number;
  hostname: string;
  /** Linux: /proc/sys/kernel/random/boot_id. */
  bootId?: string;
  /** Linux: the process' start time in clock ticks after boot (/proc/PID/stat field 22). */
  startTime?: string;
  command: string;
  /** ISO time the lock was taken. */
  since: string;
}

export interface LockArgs {
  /** Take the lock even if another live trainer holds it. */
  force?: boolean;
  /** How the user forces it, for the message ("--force-lock", "forceLock: true"). */
  forceHint?: string;
  /** Told when a stale lock is taken over (or a live one forced). */
  onNote?: (line: string) => void;
}

/** Refused: the directory is in use by another trainer. */
export class LockedError extends UserError {
  constructor(
    message: string,
    readonly owner: LockOwner,
  ) {
    super(message);
    this.name = 'LockedError';
  }
}

function readTrim(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Start time of process `pid` (Linux), undefined elsewhere or if there is no such process. */
export function processStartTime(pid: number): string | undefined {
  const stat = readTrim(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // "pid (comm) state ppid …": comm may hold spaces and parentheses; fields resume after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return rest[19]; // field 22 overall; rest[0] is field 3
}

function bootId(): string | undefined {
  return readTrim('/proc/sys/kernel/random/boot_id');
}

/** This process as a lock owner. */
export function selfOwner(): LockOwner {
  return {
    pid: process.pid,
    hostname: os.hostname(),
    bootId: bootId(),
    startTime: processStartTime(process.pid),
    command: process.argv.slice(1).map((a) => path.basename(a)).join(' ').slice(0, 200),
    since: new Date().toISOString(),
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by another user
  }
}

/** Why `owner` no longer holds its lock, or undefined if it may (a live process, or another host). */
export function staleReason(owner: LockOwner): string | undefined {
  if (owner.hostname !== os.hostname()) return undefined;
  const boot = bootId();
  if (owner.bootId && boot && owner.bootId !== boot) return 'the machine has rebooted since';
  // Our own pid on a lock this process does not hold: an earlier process with the same pid.
  if (owner.pid === process.pid) return 'its process is gone';
  if (!alive(owner.pid)) return 'its process is gone';
  const now = processStartTime(owner.pid);
  if (owner.startTime && now && now !== owner.startTime) return 'its process is gone (the pid now belongs to another process)';
  return undefined;
}

function describeOwner(o: LockOwner): string {
  return `pid ${o.pid} on ${o.hostname}, since ${o.since}${o.command ? `: ${o.command}` : ''}`;
}

interface Held {
  file: string;
  owner: LockOwner;
  refs: number;
  /** The directory was created for the lock: removed again at release if still empty. */
  createdDir: boolean;
}

/** Locks this process holds, by the lock file's real path. */
const held = new Map<string, Held>();
let exitHook = false;

function releaseAll(): void {
  for (const h of held.values()) removeIfOurs(h);
  held.clear();
}

function removeIfOurs(h: Held): void {
  try {
    const now = JSON.parse(fs.readFileSync(h.file, 'utf8')) as LockOwner;
    if (now.pid === h.owner.pid && now.since === h.owner.since) fs.unlinkSync(h.file);
  } catch {
    // gone or unreadable: nothing of ours to remove
  }
  if (h.createdDir) {
    try {
      fs.rmdirSync(path.dirname(h.file)); // only if empty
    } catch {
      // not empty: it holds a checkpoint now
    }
  }
}

/** A held lock; release() once when done (the lock is shared by this process' holders). */
export class CheckpointLock {
  private released = false;
  constructor(
    readonly dir: string,
    /** The lock file's real path (the key of this process' locks). */
    readonly file: string,
  ) {}

  /** Throws if another trainer has taken the lock over (forced) since we took it. */
  assertHeld(): void {
    const h = held.get(this.file);
    if (this.released || !h) throw new UserError(`internal: the lock on ${this.dir} was released`);
    let now: LockOwner | undefined;
    try {
      now = JSON.parse(fs.readFileSync(h.file, 'utf8')) as LockOwner;
    } catch {
      now = undefined;
    }
    if (!now || now.pid !== h.owner.pid || now.since !== h.owner.since || now.hostname !== h.owner.hostname) {
      const who = now ? `another trainer (${describeOwner(now)}) took it over` : `its lock file ${h.file} was removed`;
      throw new UserError(`lost the lock on checkpoint directory ${this.dir}: ${who}; stopping without saving, so as not to overwrite its checkpoints`);
    }
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    const h = held.get(this.file);
    if (!h || --h.refs > 0) return;
    held.delete(this.file);
    removeIfOurs(h);
  }
}

function readOwner(file: string): { owner?: LockOwner; raw?: string } {
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
  try {
    const o = JSON.parse(raw) as LockOwner;
    if (typeof o?.pid === 'number' && typeof o.hostname === 'string') return { owner: o, raw };
  } catch {
    // unreadable: treated as stale below
  }
  return { raw };
}

/**
 * Move the lock file aside if it still holds `raw` (what we judged stale); true if removed.
 * The rename is atomic, so of two processes taking over the same stale lock only one moves it.
 */
function takeOver(file: string, raw: string): boolean {
  const aside = `${file}.stale-${process.pid}-${Date.now()}`;
  try {
    fs.renameSync(file, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return true; // someone removed it: try again
    throw e;
  }
  const moved = readTrim(aside);
  if (moved !== raw.trim()) {
    // It changed under us: a new owner took it meanwhile. Put theirs back (unless yet another exists).
    try {
      fs.linkSync(aside, file);
    } catch {
      // a newer lock is in place; theirs is lost either way
    }
    fs.rmSync(aside, { force: true });
    return false;
  }
  fs.rmSync(aside, { force: true });
  return true;
}

/**
 * Lock checkpoint directory `dir` for one trainer (creating it if needed). Throws LockedError
 * (a one-line message naming the owner) if another live trainer holds it and `force` is not set.
 */
export function lockCheckpointDir(dir: string, args: LockArgs = {}): CheckpointLock {
  dir = path.resolve(dir);
  let createdDir = false;
  if (!fs.existsSync(dir)) {
    fs.mkdirSync(dir, { recursive: true });
    createdDir = true;
  }
  const file = path.join(fs.realpathSync(dir), LOCK_FILE);
  const mine = held.get(file);
  if (mine) {
    mine.refs++;
    return new CheckpointLock(dir, file);
  }
  const owner = selfOwner();
  const body = JSON.stringify(owner) + '\n';
  const tmp = path.join(dir, `.${LOCK_FILE}.${process.pid}.new`);
  fs.writeFileSync(tmp, body);
  try {
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        fs.linkSync(tmp, file);
        if (!exitHook) {
          process.on('exit', releaseAll);
          exitHook = true;
        }
        held.set(file, { file, owner, refs: 1, createdDir });
        return new CheckpointLock(dir, file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new UserError(`cannot lock checkpoint directory ${dir}: ${(e as Error).message.split('\n')[0]}`);
      }
      const { owner: other, raw } = readOwner(file);
      if (raw === undefined) continue; // removed meanwhile
      const stale = other ? staleReason(other) : 'it is unreadable';
      if (!stale && !args.force) {
        const hint = args.forceHint ?? '--force-lock';
        const where = other!.hostname !== os.hostname() ? ` (another host: this machine cannot check whether it still runs)` : '';
        throw new LockedError(
          `checkpoint directory ${dir} is in use by another trainer (${describeOwner(other!)})${where}: wait for it to finish or stop it; if it is not running, remove ${file} or pass ${hint}`,
          other!,
        );
      }
      if (takeOver(file, raw)) {
        const who = other ? describeOwner(other) : 'unknown owner';
        args.onNote?.(stale ? `took over the stale lock of ${dir} (${who}): ${stale}` : `took over the lock of ${dir} from a running trainer (${who}): forced`);
      }
    }
    throw new UserError(`cannot lock checkpoint directory ${dir}: the lock keeps changing hands`);
  } finally {
    fs.rmSync(tmp, { force: true });
    if (createdDir && !held.has(file)) {
      try {
        fs.rmdirSync(dir);
      } catch {
        // not empty
      }
    }
  }
}
