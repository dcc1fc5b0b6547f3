/**
 * Run-time choice of the TensorFlow.js backend, fastest first:
 *   tensorflow (@tensorflow/tfjs-node-gpu, then @tensorflow/tfjs-node; optional deps that
 *   need libtensorflow and may have failed to install) → wasm → cpu.
 * Override with UNREASONABLE_BACKEND=tensorflow|wasm|cpu (or pass `prefer`); the wasm backend
 * runs UNREASONABLE_THREADS threads (1 = the stock build); by default the machine's cores, each op
 * on them only when it is big and no other process wants a core (lib/backend/wasm-threadpool.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../util/errors';
import { loadLstmKernels } from '../nn/lstm-fused';
import { loadRecurrence } from '../nn/recurrence';
import { patchWasmKernels } from './wasm-kernels';
import { installThreadPolicy, PolicyStats } from './wasm-threadpool';
import { notePolicyThreads, registerThreadedWasm, threadpoolPointer, threadsFromEnv, unregisterThreadedWasm, wantedThreads, wasmThreadsInUse } from './wasm-threads';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface BackendInfo {
  /** The tfjs backend now in use. */
  name: BackendName;
  /** Where it came from, e.g. "@tensorflow/tfjs-node-gpu" or "@tensorflow/tfjs-backend-wasm". */
  source: string;
  /** Backends tried before it and why they were not used. */
  skipped: string[];
}

let current: BackendInfo | undefined;
let threadPolicy: PolicyStats | undefined;

/** The wasm per-op thread policy's counters, when it is active. */
export function wasmThreadPolicy(): PolicyStats | undefined {
  return threadPolicy;
}

function tryRequire(name: string): string | undefined {
  try {
    require(name);
    return undefined;
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    return msg.includes('Cannot find module') ? 'not installed' : msg;
  }
}

async function activate(name: BackendName): Promise<boolean> {
  // The wasm module (emscripten) installs process-wide uncaughtException/unhandledRejection
  // handlers that rethrow and print its whole minified source; remove what it adds.
  const before = {
    uncaughtException: process.listeners('uncaughtException'),
    unhandledRejection: process.listeners('unhandledRejection'),
  };
  try {
    const ok = await tf.setBackend(name);
    if (ok) await tf.ready();
    return ok && tf.getBackend() === name;
  } catch {
    return false;
  } finally {
    for (const l of process.listeners('uncaughtException')) {
      if (!before.uncaughtException.includes(l)) process.removeListener('uncaughtException', l);
    }
    for (const l of process.listeners('unhandledRejection')) {
      if (!before.unhandledRejection.includes(l)) process.removeListener('unhandledRejection', l);
    }
  }
}

/**
 * The cpu backend greets its first tensor in Node with a banner recommending tfjs-node; we
 * report the backend ourselves, so that first use happens here with the banner filtered out.
 */
function quietFirstUse(): void {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!String(args[0]).includes('running TensorFlow.js in Node.js')) warn(...args);
  };
  try {
    tf.tidy(() => tf.scalar(0).dataSync());
  } finally {
    console.warn = warn;
  }
}

/**
 * Select and initialise a backend. Idempotent: later calls return the first choice
 * unless `prefer` names a different one.
 */
export async function initBackend(prefer?: string): Promise<BackendInfo> {
  const want = (prefer ?? process.env.UNREASONABLE_BACKEND ?? '').trim().toLowerCase();
  if (want && !['tensorflow', 'wasm', 'cpu'].includes(want)) {
    throw new UserError(`unknown backend "${want}" (UNREASONABLE_BACKEND): use tensorflow, wasm or cpu`);
  }
  await loadRecurrence(); // small RNNs' fused recurrence (lib/nn/recurrence.ts), compiled once
  if (current && (!want || want === current.name)) return current;
  const skipped: string[] = [];
  const order: BackendName[] = want ? [want as BackendName] : ['tensorflow', 'wasm', 'cpu'];
  for (const name of order) {
    if (name === 'tensorflow') {
      for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
        const why = tryRequire(pkg);
        if (why === undefined && (await activate('tensorflow'))) {
          return (current = { name, source: pkg, skipped });
        }
        skipped.push(`${pkg}: ${why ?? 'failed to initialise'}`);
      }
    } else if (name === 'wasm') {
      const why = tryRequire('@tensorflow/tfjs-backend-wasm');
      if (why === undefined) {
        // Threaded SIMD build when more than one thread is wanted (lib/backend/wasm-threads.ts);
        // the stock single-threaded build otherwise or if that fails to start.
        const threads = wantedThreads();
        let active = false;
        if (threads > 1 && registerThreadedWasm(threads)) {
          active = await activate('wasm');
          if (!active) {
            skipped.push('@tensorflow/tfjs-backend-wasm threaded build: failed to initialise');
            unregisterThreadedWasm();
          }
        }
        if (active || (await activate('wasm'))) {
          patchWasmKernels();
          await loadLstmKernels(); // the LSTM's per-step pointwise work on this backend's memory (lib/nn/lstm-fused.ts)
          const n = wasmThreadsInUse();
          // Default threads: each op uses the pool only when it gains from it (lib/backend/wasm-threadpool.ts).
          const pointer = n > 1 && !threadsFromEnv() ? threadpoolPointer() : undefined;
          if (pointer) {
            threadPolicy = installThreadPolicy(pointer.module, pointer.slot);
            notePolicyThreads(n);
          }
          const threads = n > 1 ? `SIMD, ${n} threads${threadPolicy ? ' (per op)' : ''}` : '1 thread';
          return (current = { name, source: `@tensorflow/tfjs-backend-wasm, ${threads}`, skipped });
        }
      }
      skipped.push(`@tensorflow/tfjs-backend-wasm: ${why ?? 'failed to initialise'}`);
    } else if (await activate('cpu')) {
      quietFirstUse();
      return (current = { name, source: '@tensorflow/tfjs-backend-cpu (pure JS)', skipped });
    }
  }
  throw new UserError(`no TensorFlow.js backend could be started (${skipped.join('; ')})`);
}

/** A one-line description such as "backend: wasm (@tensorflow/tfjs-backend-wasm)". */
export function describeBackend(info: BackendInfo | undefined = current): string {
  if (!info) return 'backend: not initialised';
  return `backend: ${info.name} (${info.source})`;
}
