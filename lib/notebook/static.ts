/**
 * Static pictures through headless Chromium (playwright-core, required lazily; browser
 * /usr/bin/chromium or $CHROMIUM_PATH): a figure as PNG/SVG (`savePlot`, `showStatic`) and a
 * screenshot of any HTML page or SVG (`screenshotHtml`).
 */
import * as fs from 'fs';
import * as path from 'path';
import { displayBundle } from './display';
import { Figure, plotlyScriptTag, scriptJson, textSummary } from './figure';
import { isNotebook } from './mode';
import { htmlPage } from './pages';

export interface StaticOptions {
  /** Image size in CSS pixels (default: layout width/height, else 800 x 450). */
  width?: number;
  height?: number;
  /** PNG pixel ratio (default 1). */
  scale?: number;
  /** Browser binary (default $CHROMIUM_PATH or /usr/bin/chromium). */
  executablePath?: string;
}

export interface SavePlotOptions extends StaticOptions {
  /** Which files to write (default both). */
  formats?: readonly ('png' | 'svg')[];
}

// Minimal structural types for the bits of playwright-core used here (its own typings are
// large and DOM-flavoured; keeping them out makes the tslab compile fast).
interface PwPage {
  setContent(html: string, opts?: { waitUntil?: string }): Promise<void>;
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
}
interface PwBrowser {
  newPage(): Promise<PwPage>;
  close(): Promise<void>;
}
interface PwChromium {
  launch(opts: { executablePath: string; args: string[]; headless?: boolean }): Promise<PwBrowser>;
}

/** Flags for headless Chromium in containers/CI. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
];

/** The Chromium binary used for static export and tests. */
export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH || '/usr/bin/chromium';
}

/** Render a figure in headless Chromium and return the requested images. */
export async function renderStatic(
  fig: Figure,
  formats: readonly ('png' | 'svg')[],
  opts: StaticOptions = {},
): Promise<{ png?: Buffer; svg?: string }> {
  const executablePath = opts.executablePath ?? chromiumPath();
  if (!fs.existsSync(executablePath)) {
    throw new Error(
      `static plot export needs Chromium at ${executablePath} (Debian: apt-get install chromium; ` +
        `or set CHROMIUM_PATH)`,
    );
  }
  const width = opts.width ?? (typeof fig.layout.width === 'number' ? fig.layout.width : 800);
  const height = opts.height ?? (typeof fig.layout.height === 'number' ? fig.layout.height : 450);
  const scale = opts.scale ?? 1;
  const { chromium } = require('playwright-core') as { chromium: PwChromium };
  const browser = await chromium.launch({ executablePath, args: [...CHROMIUM_ARGS], headless: true });
  try {
    const page = await browser.newPage();
    await page.setContent(`<!doctype html><html><body><div id="g"></div>${plotlyScriptTag()}</body></html>`);
    const figJson = scriptJson({ data: fig.data, layout: { ...fig.layout, width, height } });
    const out = await page.evaluate(
      async (a: { figJson: string; formats: string[]; width: number; height: number; scale: number }) => {
        // Runs in the browser.
        const g = globalThis as unknown as {
          Plotly: {
            newPlot(id: string, data: unknown, layout: unknown, config: unknown): Promise<unknown>;
            toImage(gd: unknown, o: Record<string, unknown>): Promise<string>;
          };
        };
        const f = JSON.parse(a.figJson) as { data: unknown; layout: unknown };
        const gd = await g.Plotly.newPlot('g', f.data, f.layout, { staticPlot: true });
        const res: Record<string, string> = {};
        for (const format of a.formats) {
          res[format] = await g.Plotly.toImage(gd, {
            format,
            width: a.width,
            height: a.height,
            scale: format === 'png' ? a.scale : 1,
          });
        }
        return res;
      },
      { figJson, formats: [...formats], width, height, scale },
    );
    const result: { png?: Buffer; svg?: string } = {};
    if (out.png) result.png = Buffer.from(out.png.slice(out.png.indexOf(',') + 1), 'base64');
    if (out.svg) {
      const body = out.svg.slice(out.svg.indexOf(',') + 1);
      result.svg = out.svg.startsWith('data:image/svg+xml;base64,')
        ? Buffer.from(body, 'base64').toString('utf8')
        : decodeURIComponent(body);
    }
    return result;
  } finally {
    await browser.close();
  }
}

/**
 * Save a figure as `${basePath}.png` and/or `${basePath}.svg` (directories are created).
 * Returns the written paths.
 */
export async function savePlot(fig: Figure, basePath: string, opts: SavePlotOptions = {}): Promise<{ png?: string; svg?: string }> {
  const formats = opts.formats ?? ['png', 'svg'];
  const base = basePath.replace(/\.(png|svg)$/i, '');
  const images = await renderStatic(fig, formats, opts);
  fs.mkdirSync(path.dirname(path.resolve(base)), { recursive: true });
  const written: { png?: string; svg?: string } = {};
  if (images.png) fs.writeFileSync((written.png = `${base}.png`), images.png);
  if (images.svg) fs.writeFileSync((written.svg = `${base}.svg`), images.svg);
  return written;
}

/**
 * Display a figure as a static PNG (renders everywhere, even untrusted notebooks and
 * GitHub's viewer). Returns the PNG bytes.
 */
export async function showStatic(fig: Figure, opts: StaticOptions = {}): Promise<Buffer> {
  const { png } = await renderStatic(fig, ['png'], opts);
  if (!png) throw new Error('showStatic: no PNG rendered');
  if (isNotebook()) displayBundle({ 'image/png': png, 'text/plain': `${textSummary(fig)} (PNG)` });
  else console.log(`${textSummary(fig)} (PNG ${png.length} bytes)`);
  return png;
}

export interface ScreenshotOptions {
  /** Viewport width in CSS pixels (default 1000). */
  width?: number;
  /** Viewport height (default 700); the whole page is captured unless fullPage is false. */
  height?: number;
  fullPage?: boolean;
  /** Device pixel ratio (default 1). */
  scale?: number;
  /** Browser binary (default $CHROMIUM_PATH or /usr/bin/chromium). */
  executablePath?: string;
}

interface PwShotPage {
  setContent(html: string, opts?: { waitUntil?: string }): Promise<void>;
  screenshot(opts: { fullPage?: boolean; type?: string }): Promise<Buffer>;
}
interface PwShotBrowser {
  newPage(opts: { viewport: { width: number; height: number }; deviceScaleFactor: number }): Promise<PwShotPage>;
  close(): Promise<void>;
}

/**
 * Render a full HTML page (see `htmlPage`) or an SVG document in headless Chromium and return a
 * PNG screenshot: a static picture of any HTML output, for files and for checking by eye.
 */
export async function screenshotHtml(html: string, opts: ScreenshotOptions = {}): Promise<Buffer> {
  const executablePath = opts.executablePath ?? chromiumPath();
  if (!fs.existsSync(executablePath)) {
    throw new Error(`screenshots need Chromium at ${executablePath} (Debian: apt-get install chromium; or set CHROMIUM_PATH)`);
  }
  const page = /^\s*(<\?xml|<!DOCTYPE svg|<svg)/i.test(html) ? htmlPage(html.slice(Math.max(0, html.indexOf('<svg')))) : html;
  const { chromium } = require('playwright-core') as { chromium: { launch(o: { executablePath: string; args: string[]; headless?: boolean }): Promise<PwShotBrowser> } };
  const browser = await chromium.launch({ executablePath, args: [...CHROMIUM_ARGS], headless: true });
  try {
    const p = await browser.newPage({ viewport: { width: opts.width ?? 1000, height: opts.height ?? 700 }, deviceScaleFactor: opts.scale ?? 1 });
    await p.setContent(page, { waitUntil: 'load' });
    return await p.screenshot({ fullPage: opts.fullPage ?? true, type: 'png' });
  } finally {
    await browser.close();
  }
}
