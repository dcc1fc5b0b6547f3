/**
 * Unrolling a cell over a sequence, and the detach that truncated BPTT needs.
 */
import * as tf from '@tensorflow/tfjs';
import { Cell, CellState, Gates } from './cells';

export interface UnrollOptions {
  /** Keep the state after every step (for recording); default false. */
  keepStates?: boolean;
  /** Keep gate activations of every step (LSTM/GRU). */
  recordGates?: boolean;
  /** Recurrent weights to use instead of the cell's own (weight drop's masked copy). */
  Wh?: tf.Tensor2D;
}

export interface UnrollResult {
  /** h_t for t = 0 … T−1, each [batch, hidden]. */
  outputs: tf.Tensor2D[];
  /** The state after the last step. */
  state: CellState;
  /** The state after each step, when keepStates. */
  states?: CellState[];
  /** Gate activations per step, when recordGates. */
  gates?: Gates[];
}

/**
 * Run `cell` over T steps starting from `state0`.
 * @param xp the projected inputs x_t·Wx + b, time-major: [T·batch, gates·hidden]
 */
export function unroll(cell: Cell, xp: tf.Tensor2D, seqLength: number, state0: CellState, opts: UnrollOptions = {}): UnrollResult {
  const steps = seqLength === 1 ? [xp] : (tf.split(xp, seqLength, 0) as tf.Tensor2D[]);
  const outputs: tf.Tensor2D[] = [];
  const states: CellState[] = [];
  const gates: Gates[] = [];
  let state = state0;
  for (let t = 0; t < seqLength; t++) {
    const out = cell.step(steps[t], state, opts.recordGates, opts.Wh);
    outputs.push(out.h);
    state = out.state;
    if (opts.keepStates) states.push(state);
    if (opts.recordGates && out.gates) gates.push(out.gates);
  }
  return { outputs, state, states: opts.keepStates ? states : undefined, gates: opts.recordGates ? gates : undefined };
}

/**
 * The identity with a zero gradient: what crosses a chunk boundary in truncated BPTT.
 * (The value is kept; the gradient of anything computed from it stops here.)
 */
export const stopGradient: (x: tf.Tensor) => tf.Tensor = tf.customGrad(((x: tf.Tensor) => ({
  value: x.clone(),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor) => tf.Tensor;

/** Detach every tensor of a model state (see stopGradient). */
export function detachState(state: CellState[]): CellState[] {
  return state.map((layer) => layer.map((t) => stopGradient(t) as tf.Tensor2D));
}
