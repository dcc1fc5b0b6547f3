/**
 * Multi-MIME display bundles for the tslab kernel.
 *
 * tslab 1.0.22's public `display.*` / `newDisplay()` send ONE MIME type per display_data
 * message (`{data: {[type]: value}}`). Jupyter's protocol allows a bundle of several, and the
 * frontends pick the richest they can render: JupyterLab/VS Code draw
 * `application/vnd.plotly.v1+json` natively, the classic Notebook and nbconvert fall back to
 * `text/html`, a terminal to `text/plain`.
 *
 * tslab keeps the kernel's current sender in `require('tslab/dist/jupyter').lastWriteDisplayData`
 * (set before every execute request; the public API itself calls it with a one-key bundle).
 * This module finds that module *of the running kernel* (via `require.cache`, next to the
 * module that `require('tslab')` returns inside the kernel) and calls it with a whole bundle:
 * `display_data` for a new output, `update_display_data` (same `transient.display_id`) to
 * overwrite it in place, exactly as tslab's `newDisplay()` does.
 *
 * If those internals are not there (another tslab version), it falls back to the public API
 * with the bundle's best single type (text/html, else text/plain) and warns once on stderr.
 */
import * as crypto from 'crypto';
import * as path from 'path';

/** A MIME bundle: type → value (string, base64 for binary types, or a JSON value for `+json`). */
export type MimeBundle = Record<string, unknown>;

/** The display_data content tslab's sender takes. */
interface DisplayContent {
  data: MimeBundle;
  metadata: Record<string, unknown>;
  transient: { display_id?: string };
}
type WriteDisplayData = (content: DisplayContent, update: boolean) => void;

interface TslabPublic {
  display: { raw(type: string, b: string | Uint8Array): void };
}

/** The types tried, in order, when only one can be sent. */
const SINGLE_TYPE_ORDER = ['text/html', 'image/png', 'image/svg+xml', 'text/markdown', 'text/plain'];

function tslabPublic(): TslabPublic {
  // Inside a tslab kernel `require('tslab')` is hooked to the kernel's own instance.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return require('tslab') as TslabPublic;
}

/** The running kernel's `tslab/dist/jupyter` module exports, or undefined. */
function kernelJupyterModule(): { lastWriteDisplayData?: WriteDisplayData | null } | undefined {
  const pub = tslabPublic();
  const cache = require.cache;
  for (const file of Object.keys(cache)) {
    if (cache[file]?.exports !== pub) continue;
    const jupyter = cache[path.join(path.dirname(file), 'jupyter.js')];
    if (jupyter && 'lastWriteDisplayData' in (jupyter.exports as object)) return jupyter.exports;
  }
  return undefined;
}

let warned = false;

/** Whether whole bundles can be sent (the kernel's tslab internals were found). */
export function bundlesSupported(): boolean {
  return kernelJupyterModule() !== undefined;
}

/** Encode binary values as base64, as Jupyter expects for image/png & co. */
function encodeBundle(bundle: MimeBundle): MimeBundle {
  const out: MimeBundle = {};
  for (const [type, v] of Object.entries(bundle)) {
    out[type] = v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') : v;
  }
  return out;
}

function sendBundle(bundle: MimeBundle, displayId: string | undefined, update: boolean): void {
  const jupyter = kernelJupyterModule();
  const write = jupyter?.lastWriteDisplayData;
  if (typeof write === 'function') {
    write({ data: encodeBundle(bundle), metadata: {}, transient: displayId ? { display_id: displayId } : {} }, update);
    return;
  }
  if (jupyter && write == null) throw new Error('tslab display is not ready (no cell has run yet)');
  if (!warned) {
    warned = true;
    process.stderr.write('display: this tslab version exposes no bundle sender; sending one MIME type per output\n');
  }
  const type = SINGLE_TYPE_ORDER.find((t) => typeof bundle[t] === 'string' || bundle[t] instanceof Uint8Array);
  if (!type) return;
  const value = bundle[type] as string | Uint8Array;
  // tslab's own display ids: newDisplay() objects; a plain display when there is no id.
  const pub = tslabPublic() as TslabPublic & { newDisplay?: () => TslabPublic['display'] };
  if (displayId && pub.newDisplay) {
    const d = fallbackDisplays.get(displayId) ?? pub.newDisplay();
    fallbackDisplays.set(displayId, d);
    d.raw(type, value);
  } else {
    pub.display.raw(type, value);
  }
}
const fallbackDisplays = new Map<string, TslabPublic['display']>();

/** Show a bundle as a new output of the running cell. */
export function displayBundle(bundle: MimeBundle): void {
  sendBundle(bundle, undefined, false);
}

/** One output that can be redrawn in place (update_display_data), like tslab's `newDisplay()`. */
export interface BundleDisplay {
  readonly id: string;
  /** The first call creates the output; later calls overwrite it. */
  show(bundle: MimeBundle): void;
}

/** A new in-place display for bundles. */
export function newBundleDisplay(): BundleDisplay {
  const id = crypto.randomBytes(8).toString('hex');
  let shown = false;
  return {
    id,
    show(bundle: MimeBundle): void {
      const update = shown;
      sendBundle(bundle, id, update);
      shown = true;
    },
  };
}
