/**
 * The names of the files in a checkpoint directory (see checkpoint.ts), without loading
 * TensorFlow.js: the CLI checks directories before any model code is loaded.
 */
import { LOCK_FILE } from './lock';

export const META_FILE = 'checkpoint.json';

/** Tensor files: "model-<sha12>.safetensors", "trainer-<sha12>.safetensors" (version 1: no hash). */
export const PART_RE = /^(model|trainer)(-[0-9a-f]{12})?\.safetensors$/;

/** Temporary files of an atomic write: ".NAME.tmp-PID". */
export const TEMP_RE = /^\..*\.tmp-\d+$/;

/**
 * True for names a checkpoint directory may hold while it has no checkpoint.json yet: what a
 * killed first save leaves (tensor and temporary files) and the lock (with its own temporaries).
 */
export function isCheckpointLeftover(name: string): boolean {
  return PART_RE.test(name) || TEMP_RE.test(name) || name === LOCK_FILE || name.startsWith(`.${LOCK_FILE}.`) || name.startsWith(`${LOCK_FILE}.stale-`);
}
