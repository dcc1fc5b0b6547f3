/**
 * The two weight initialisations the CLI offers (`unreasonable train --init`):
 *   char-rnn  every weight and bias uniform in ±0.08, the LSTM forget-gate bias 1 (Karpathy's
 *             char-rnn, and Jozefowicz et al. 2015's advice for the forget gate);
 *   torch     uniform in ±1/√hiddenSize, forget-gate bias like the others (PyTorch's nn.LSTM/GRU/RNN
 *             default, with its two LSTM biases folded into one).
 * `forgetBias` overrides the forget-gate bias of either (LSTM only).
 */
import { CellType } from './cells';

export const INIT_NAMES = ['char-rnn', 'torch'] as const;
export type InitName = (typeof INIT_NAMES)[number];

/** The default of `unreasonable train` (chosen by measurement: see the README's "Initialisation"). */
export const DEFAULT_INIT: InitName = 'torch';

export interface InitArgs {
  /** char-rnn | torch */
  init: InitName;
  /** Units per layer (the torch scale depends on it). */
  hiddenSize: number;
  /** Cell type: only an LSTM has a forget gate. */
  modelType: CellType;
  /** Forget-gate bias instead of the init's own (LSTM only). */
  forgetBias?: number;
}

/** The model-config fields an init sets: `initScale` and (LSTM) `forgetBias`. */
export function initConfig(args: InitArgs): { initScale: number; forgetBias?: number } {
  const initScale = args.init === 'torch' ? 1 / Math.sqrt(args.hiddenSize) : 0.08;
  if (args.modelType !== 'lstm') return { initScale };
  return { initScale, forgetBias: args.forgetBias ?? (args.init === 'torch' ? 0 : 1) };
}

/**
 * The init a saved config was made with, or undefined when its scale is neither's. Checkpoints
 * from before --init existed record no forgetBias: theirs was 1 (CharModel's default).
 */
export function initOf(config: { modelType: CellType; hiddenSize: number; initScale?: number; forgetBias?: number }): { init?: InitName; forgetBias?: number } {
  const scale = config.initScale ?? 0.08;
  const init = INIT_NAMES.find((name) => Math.abs(initConfig({ init: name, hiddenSize: config.hiddenSize, modelType: config.modelType }).initScale - scale) <= 1e-9 * scale);
  return { init, forgetBias: config.modelType === 'lstm' ? (config.forgetBias ?? 1) : undefined };
}
