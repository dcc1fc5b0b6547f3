/**
 * Compiling this folder's WebAssembly text modules (*.wat) at start-up with wabt (an npm
 * package: no build step, and the text is what the tests and a reader see).
 *
 * `;; @include NAME.wat` lines are replaced by that file's text (shared functions such as
 * tanh4.wat), and `;; @memory` by the module's memory declaration, so that one text can
 * import the wasm backend's (shared) memory or declare its own.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The part of the WebAssembly API used here (tsconfig has no DOM lib). */
export interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
}

export interface WasmMemory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}

export const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

type Wabt = Awaited<ReturnType<typeof import('wabt')>>;

let wabtLoading: Promise<Wabt> | undefined;

function wabt(): Promise<Wabt> {
  wabtLoading ??= (async () => {
    // The module's export is its init function; tslab (no esModuleInterop) sees it without `default`.
    const mod0 = (await import('wabt')) as unknown as { default?: () => Promise<Wabt> };
    return (mod0.default ?? (mod0 as unknown as () => Promise<Wabt>))();
  })();
  return wabtLoading;
}

/** The text of `file` (in this folder) with its includes resolved and `;; @memory` replaced. */
export function watText(file: string, memory = ''): string {
  const text = fs.readFileSync(path.join(__dirname, file), 'utf8');
  return text
    .replace(/^\s*;; @include (\S+)\s*$/gm, (_, name: string) => watText(name))
    .replace(/^\s*;; @memory\s*$/m, memory);
}

/**
 * Compile and instantiate a module of this folder.
 * @param memory the memory declaration that replaces `;; @memory`
 * @param imports what the module imports
 */
export async function instantiateWat(file: string, memory: string, imports: object): Promise<unknown> {
  const w = await wabt();
  const mod = w.parseWat(file, watText(file, memory), { simd: true, threads: true });
  try {
    const { buffer } = mod.toBinary({});
    return new WA.Instance(new WA.Module(buffer), imports).exports;
  } finally {
    mod.destroy();
  }
}
