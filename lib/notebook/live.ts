/**
 * The live training display: a throttled progress callback that redraws a progress line and a
 * loss chart in place (tslab `newDisplay()` + update_display_data); outside a notebook it prints
 * throttled progress lines.
 *
 * Note for editors: tslab type-checks this file with its bundled TypeScript 5.0 in
 * non-strict mode and lib es2022 (no DOM), besides `tsc` strict. Keep both happy.
 */
import { BundleDisplay, newBundleDisplay } from './display';
import { escapeHtml } from './figure';
import { Figure, figure, figureBundle, Trace } from './figure';
import { isNotebook } from './mode';
import { ensurePlotly } from './show';
import { formatDuration, formatRate } from '../util/format';

export { formatDuration, formatRate };

/** What a training loop reports; see `liveTraining`. */
export interface TrainingProgress {
  step: number;
  totalSteps: number;
  loss: number;
  /** Validation loss, on the steps where it was measured (repeating the last one is fine). */
  valLoss?: number;
  bytesPerSec: number;
  etaSec: number;
  epoch?: number;
}

export interface LiveTrainingOptions {
  title?: string;
  /** Minimum time between redraws (default 1000 ms). */
  intervalMs?: number;
  /** Most points drawn per curve; longer histories are bucket-averaged (default 400). */
  maxPoints?: number;
  /** Also draw an exponential moving average of the train loss (0 < smooth < 1, e.g. 0.9). */
  smooth?: number;
  logY?: boolean;
  /** Chart height (default 320). */
  height?: number;
  /** Draw the chart (default true); false shows only the progress line. */
  chart?: boolean;
}

export interface LiveTrainingStats {
  /** Progress callbacks received. */
  calls: number;
  /** Redraws sent to the notebook (or lines printed outside one). */
  renders: number;
  /** Total wall time spent inside the callback and finish(), ms. */
  overheadMs: number;
}

/** The progress callback returned by `liveTraining`, with `finish()` and bookkeeping. */
export interface LiveTraining {
  (p: TrainingProgress): void;
  /** Draw the final state (call once the loop ends; safe to call more than once). */
  finish(): void;
  /** Recorded train-loss curve. */
  readonly steps: readonly number[];
  readonly losses: readonly number[];
  /** Recorded validation points. */
  readonly valSteps: readonly number[];
  readonly valLosses: readonly number[];
  stats(): LiveTrainingStats;
}

/** Bucket-average (x, y) down to at most `max` points (keeps the last point exact). */
export function downsample(xs: readonly number[], ys: readonly number[], max: number): { x: number[]; y: number[] } {
  const n = Math.min(xs.length, ys.length);
  if (n <= max || max < 2) return { x: xs.slice(0, n), y: ys.slice(0, n) };
  const x: number[] = [];
  const y: number[] = [];
  const per = (n - 1) / (max - 1);
  let start = 0;
  for (let b = 0; b < max - 1; b++) {
    const end = Math.max(start + 1, Math.round((b + 1) * per));
    let sx = 0;
    let sy = 0;
    for (let i = start; i < end; i++) {
      sx += xs[i];
      sy += ys[i];
    }
    x.push(sx / (end - start));
    y.push(sy / (end - start));
    start = end;
  }
  x.push(xs[n - 1]);
  y.push(ys[n - 1]);
  return { x, y };
}

/** Exponential moving average with bias correction (as TensorBoard's smoothing). */
export function ema(ys: readonly number[], a: number): number[] {
  const out: number[] = [];
  let m = 0;
  let w = 1;
  for (let i = 0; i < ys.length; i++) {
    m = a * m + (1 - a) * ys[i];
    w *= a;
    out.push(w < 1 ? m / (1 - w) : ys[i]);
  }
  return out;
}

/** The one-line progress summary used by `liveTraining`. */
export function progressLine(p: TrainingProgress, elapsedSec: number, done = false): string {
  const pct = p.totalSteps > 0 ? ` (${((100 * p.step) / p.totalSteps).toFixed(p.totalSteps >= 1000 ? 1 : 0)}%)` : '';
  const parts = [`step ${p.step}/${p.totalSteps}${pct}`];
  if (p.epoch !== undefined) parts.push(`epoch ${p.epoch}`);
  parts.push(`loss ${p.loss.toFixed(4)}`);
  if (p.valLoss !== undefined) parts.push(`val ${p.valLoss.toFixed(4)}`);
  parts.push(formatRate(p.bytesPerSec));
  parts.push(done ? `done in ${formatDuration(elapsedSec)}` : `ETA ${formatDuration(p.etaSec)}`);
  if (!done) parts.push(`elapsed ${formatDuration(elapsedSec)}`);
  return parts.join(' · ');
}

/**
 * A throttled live display for a training loop:
 *
 *     const live = liveTraining({ title: 'LSTM on Moby Dick' });
 *     await train(model, data, { onProgress: live });   // or call live(p) yourself
 *     live.finish();
 *
 * Every call records the point (cheap array pushes); at most every `intervalMs` it redraws
 * one notebook output in place: a progress line (step, loss, bytes/s, ETA) and a plotly chart
 * of train (and validation) loss. Redraws need the loop to yield to the event loop now and
 * then (any `await` does). Outside a notebook it prints a throttled progress line instead.
 */
export function liveTraining(opts: LiveTrainingOptions = {}): LiveTraining {
  const intervalMs = opts.intervalMs ?? 1000;
  const maxPoints = Math.max(2, opts.maxPoints ?? 400);
  const height = opts.height ?? 320;
  const steps: number[] = [];
  const losses: number[] = [];
  const valSteps: number[] = [];
  const valLosses: number[] = [];
  const stats: LiveTrainingStats = { calls: 0, renders: 0, overheadMs: 0 };
  const notebook = isNotebook();
  let progressDisplay: BundleDisplay | undefined;
  let chartDisplay: BundleDisplay | undefined;
  let last: TrainingProgress | undefined;
  let lastRender = -Infinity;
  let t0 = 0;
  let finished = false;

  function chartFigure(): Figure {
    const train = downsample(steps, losses, maxPoints);
    const data: Trace[] = [
      { type: 'scatter', mode: 'lines', name: 'train', x: train.x, y: train.y, line: { color: '#1f77b4', width: 1.5 }, opacity: opts.smooth ? 0.35 : 1 },
    ];
    if (opts.smooth && opts.smooth > 0 && opts.smooth < 1) {
      const sm = downsample(steps, ema(losses, opts.smooth), maxPoints);
      data.push({ type: 'scatter', mode: 'lines', name: `train (EMA ${opts.smooth})`, x: sm.x, y: sm.y, line: { color: '#1f77b4', width: 2.5 } });
    }
    if (valSteps.length) {
      const val = downsample(valSteps, valLosses, maxPoints);
      data.push({ type: 'scatter', mode: 'lines+markers', name: 'val', x: val.x, y: val.y, line: { color: '#ff7f0e', width: 2 }, marker: { size: 5 } });
    }
    return figure(data, {
      ...(opts.title ? { title: { text: opts.title } } : {}),
      height,
      margin: { t: opts.title ? 40 : 16, r: 16, b: 40, l: 56 },
      xaxis: { title: { text: 'step' }, range: last ? [0, Math.max(1, last.totalSteps)] : undefined },
      yaxis: { title: { text: 'loss' }, ...(opts.logY ? { type: 'log' } : {}) },
      legend: { x: 0.99, xanchor: 'right', y: 0.98, yanchor: 'top', bgcolor: 'rgba(255,255,255,0.7)' },
      uirevision: 'live',
    }, { responsive: true, displaylogo: false, staticPlot: !finished });
  }

  function render(done: boolean): void {
    if (!last) return;
    const elapsed = (Date.now() - t0) / 1000;
    const lastVal = valLosses.length ? valLosses[valLosses.length - 1] : undefined;
    const line = progressLine({ ...last, valLoss: last.valLoss ?? lastVal }, elapsed, done);
    stats.renders++;
    if (!notebook) {
      console.log(line);
      return;
    }
    const pct = last.totalSteps > 0 ? Math.min(100, (100 * last.step) / last.totalSteps) : 0;
    const bar =
      `<div style="height:6px;background:#e8e8e8;border-radius:3px;margin:2px 0 6px 0;max-width:640px">` +
      `<div style="height:6px;width:${pct.toFixed(1)}%;background:${done ? '#2ca02c' : '#1f77b4'};border-radius:3px"></div></div>`;
    const head =
      `<div class="unreasonable-progress" style="font-family:monospace;font-size:13px">` +
      `${done ? '✔ ' : ''}${escapeHtml(line)}</div>${bar}`;
    // Two outputs redrawn in place: the progress line, and the chart as its own bundle (so a
    // frontend that draws the plotly MIME type natively still shows the line above it).
    if (!progressDisplay) {
      if (opts.chart !== false) ensurePlotly();
      progressDisplay = newBundleDisplay();
      if (opts.chart !== false) chartDisplay = newBundleDisplay();
    }
    progressDisplay.show({ 'text/html': head, 'text/plain': `${done ? '✔ ' : ''}${line}` });
    chartDisplay?.show(figureBundle(chartFigure(), { height }));
  }

  const cb = ((p: TrainingProgress): void => {
    const start = Date.now();
    if (stats.calls === 0) t0 = start;
    stats.calls++;
    finished = false;
    last = p;
    steps.push(p.step);
    losses.push(p.loss);
    if (p.valLoss !== undefined && (valLosses.length === 0 || valLosses[valLosses.length - 1] !== p.valLoss)) {
      valSteps.push(p.step);
      valLosses.push(p.valLoss);
    }
    if (start - lastRender >= intervalMs) {
      lastRender = start;
      render(false);
    }
    stats.overheadMs += Date.now() - start;
  }) as LiveTraining;

  const api = {
    finish(): void {
      const start = Date.now();
      finished = true;
      render(true);
      stats.overheadMs += Date.now() - start;
    },
    stats: (): LiveTrainingStats => ({ ...stats }),
  };
  Object.assign(cb, api);
  Object.defineProperties(cb, {
    steps: { get: () => steps },
    losses: { get: () => losses },
    valSteps: { get: () => valSteps },
    valLosses: { get: () => valLosses },
  });
  return cb;
}
