/**
 * Start-up time and peak memory of `unreasonable train` on big corpora.
 *
 *   npx tsx scripts/measure-corpus-start.ts [SIZES_MB…]     (default: 100 500)
 *
 * For each size it writes /tmp/unreasonable-corpus-<N>MB.txt (tinyshakespeare repeated, or
 * generated words without it; kept for later runs), then runs the real CLI twice with the
 * default model and flags: a fresh `train` (read, vocabulary, encode, hash, first step), stopped
 * with Ctrl-C after its first step (which saves a checkpoint), and a `train --resume` (read,
 * encode, load, verify the data hash, first step), killed after its first step. It prints the
 * seconds until the first step's progress line, the start-up phases the CLI reported, and the
 * peak RSS (VmHWM from /proc) at that moment. Timings mean something on an idle machine only.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'unreasonable.js');

function makeCorpus(mb: number): string {
  const file = `/tmp/unreasonable-corpus-${mb}MB.txt`;
  const size = mb * 1_000_000;
  if (fs.existsSync(file) && fs.statSync(file).size === size) return file;
  const shakespeare = path.join(ROOT, 'data', 'cache', 'tinyshakespeare.txt');
  let unit: Buffer;
  if (fs.existsSync(shakespeare)) unit = fs.readFileSync(shakespeare);
  else {
    const w = ['the', 'sea', 'whale', 'ship', 'and', 'of', 'a', 'call', 'me', 'ishmael', 'white', 'deep'];
    let s = 1;
    const out: string[] = [];
    for (let i = 0; i < 200_000; i++) {
      s = (s * 1103515245 + 12345) % 2147483648;
      out.push(w[(s >>> 16) % w.length] + (i % 11 === 10 ? '.\n' : ''));
    }
    unit = Buffer.from(out.join(' '));
  }
  const fd = fs.openSync(`${file}.part`, 'w');
  for (let done = 0; done < size; done += unit.length) fs.writeSync(fd, unit, 0, Math.min(unit.length, size - done));
  fs.closeSync(fd);
  fs.renameSync(`${file}.part`, file);
  return file;
}

function peakRssMb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

interface Result {
  firstStepSec: number;
  peakRssMb: number;
  phases: string[];
  exit: string;
}

/** Run the CLI until its first step's progress line, then stop it with `stop`; measure. */
function measure(args: string[], stop: NodeJS.Signals): Promise<Result> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let first: { sec: number; rss: number } | undefined;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      stderr += d;
      if (!first && /^step \d+\//m.test(stderr)) {
        first = { sec: (performance.now() - t0) / 1000, rss: peakRssMb(child.pid!) };
        child.kill(stop);
      }
    });
    child.on('close', (code, signal) => {
      if (!first) return reject(new Error(`${args.join(' ')}: exited (${code ?? signal}) before its first step:\n${stderr}`));
      const phases = stderr.split('\n').filter((l) => /: done in [\d.]+ s$|^resuming/.test(l));
      resolve({ firstStepSec: first.sec, peakRssMb: first.rss, phases, exit: String(code ?? signal) });
    });
    child.on('error', reject);
  });
}

async function main(): Promise<void> {
  const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
  for (const mb of sizes.length ? sizes : [100, 500]) {
    const t = performance.now();
    const file = makeCorpus(mb);
    console.error(`${file}: ready in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const dir = `/tmp/unreasonable-measure-${mb}MB`;
    fs.rmSync(dir, { recursive: true, force: true });
    const fresh = await measure(['train', '--corpus', file, '--checkpoint', dir, '--log-every', '1'], 'SIGINT');
    const resumed = await measure(['train', '--checkpoint', dir, '--resume', '--log-every', '1'], 'SIGKILL');
    for (const [what, r] of [['fresh', fresh], ['resume', resumed]] as const) {
      const line = `${mb} MB ${what}: first step after ${r.firstStepSec.toFixed(1)} s, peak RSS ${r.peakRssMb.toFixed(0)} MB (${(r.peakRssMb / mb).toFixed(2)} MB per MB of corpus)`;
      console.log(line);
      for (const p of r.phases) console.log(`    ${p}`);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`error: ${(e as Error).message}`);
  process.exit(1);
});
