/**
 * Training progress on stderr: a cli-progress bar on a terminal (step, loss, bytes/s, ETA),
 * plain lines otherwise (logs, CI): the first step, every `every` steps, every validation, and
 * whenever `seconds` (default 3) passed since the last line.
 */
import * as cliProgress from 'cli-progress';
import { formatDuration } from '../util/format';
import { toBits } from '../nn/loss';
import { TrainProgress } from '../train/trainer';

export interface ProgressDisplay {
  update(p: TrainProgress): void;
  /** A line above the bar (or a plain line). */
  note(line: string): void;
  stop(): void;
}

const fmt = (x: number | undefined, d = 4) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d));

export function progressLine(p: TrainProgress): string {
  const val = p.valLoss !== undefined && Number.isFinite(p.valLoss) ? ` val ${fmt(p.valLoss)} (${fmt(toBits(p.valLoss), 3)} bpc)` : '';
  return `step ${p.step}/${p.totalSteps} epoch ${p.epoch} loss ${fmt(p.loss)}${val} lr ${p.learningRate.toExponential(2)} ${Math.round(p.bytesPerSec)} B/s eta ${formatDuration(p.etaSec)}`;
}

class PlainProgress implements ProgressDisplay {
  private first = true;
  private lastLine = 0;
  constructor(
    private readonly every: number,
    private readonly seconds: number,
  ) {}
  update(p: TrainProgress): void {
    if (p.event === 'done') return;
    const now = performance.now();
    if (this.first || p.event === 'eval' || p.step % this.every === 0 || now - this.lastLine >= 1000 * this.seconds) {
      process.stderr.write(progressLine(p) + '\n');
      this.lastLine = now;
    }
    this.first = false;
  }
  note(line: string): void {
    process.stderr.write(line + '\n');
  }
  stop(): void {}
}

class BarProgress implements ProgressDisplay {
  private bar?: cliProgress.SingleBar;
  update(p: TrainProgress): void {
    const payload = {
      loss: fmt(p.loss),
      val: p.valLoss !== undefined && Number.isFinite(p.valLoss) ? fmt(p.valLoss) : '-',
      bps: Math.round(p.bytesPerSec),
      eta_s: formatDuration(p.etaSec),
    };
    if (!this.bar) {
      this.bar = new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: 'step {value}/{total} |{bar}| loss {loss} val {val} | {bps} B/s | ETA {eta_s}',
          hideCursor: true,
          barsize: 24,
          fps: 5,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(p.totalSteps, p.step, payload);
    } else this.bar.update(p.step, payload);
  }
  note(line: string): void {
    if (this.bar) process.stderr.write('\r\x1b[2K' + line + '\n');
    else process.stderr.write(line + '\n');
    this.bar?.render();
  }
  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

class NoProgress implements ProgressDisplay {
  update(): void {}
  note(): void {}
  stop(): void {}
}

/** The display for this process: none when quiet, a bar on a TTY, otherwise lines every `every` steps and every `seconds` (default 3). */
export function createProgress(opts: { quiet: boolean; every: number; seconds?: number; tty?: boolean }): ProgressDisplay {
  if (opts.quiet) return new NoProgress();
  if (opts.tty ?? Boolean(process.stderr.isTTY)) return new BarProgress();
  return new PlainProgress(opts.every, opts.seconds ?? 3);
}

/** Reports the progress of one phase of start-up work (bytes done of total). */
export type PhaseProgress = (done: number, total: number) => void;

/**
 * Progress of the start-up phases on big inputs (reading, encoding, hashing a corpus), shown
 * only for at least `minBytes` (default 32 MB): on a terminal a percentage updated in place,
 * otherwise a line when a phase starts and one when it ends. `phase(label)` makes a reporter.
 */
export function createPhaseProgress(opts: { quiet: boolean; tty?: boolean; minBytes?: number }): (label: string) => PhaseProgress {
  const tty = opts.tty ?? Boolean(process.stderr.isTTY);
  const minBytes = opts.minBytes ?? 32 << 20;
  return (label) => {
    let t0 = 0;
    let shown = -1;
    return (done, total) => {
      if (opts.quiet || total < minBytes) return;
      const mb = `${(total / 1e6).toFixed(0)} MB`;
      if (shown < 0) {
        t0 = performance.now();
        if (!tty) process.stderr.write(`${label} (${mb})…\n`);
      }
      const pct = Math.floor((100 * done) / total);
      if (tty && pct !== shown) process.stderr.write(`\r\x1b[2K${label} (${mb}): ${pct}%`);
      shown = pct;
      if (done >= total) {
        const sec = ((performance.now() - t0) / 1000).toFixed(1);
        process.stderr.write(tty ? ` in ${sec} s\n` : `${label}: done in ${sec} s\n`);
        shown = -1;
      }
    };
  };
}
