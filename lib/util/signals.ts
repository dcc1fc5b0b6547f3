/**
 * Ctrl-C and SIGTERM for a long run: the first one asks it to stop (after the current step, saving),
 * a later one quits at once.
 *
 * One press can arrive twice: from the terminal (or a kill of the whole process group) and again
 * from a wrapper that forwards it, as `npm run` and `npx` do. Node runs the handlers of signals that
 * came in during a busy step back to back when the step ends, so a repeat within `sameMs` of the
 * first is taken for the same press and ignored (else one Ctrl-C would quit without saving).
 */
export interface StopSignalArgs {
  /** The first signal: stop after the current step. */
  onStop: (sig: NodeJS.Signals) => void;
  /** A signal after that: quit at once. */
  onAgain: (sig: NodeJS.Signals) => void;
  /** Repeats within this many ms of the first are the same signal delivered twice (default 500). */
  sameMs?: number;
  /** The clock (tests). */
  now?: () => number;
}

/** Install the handlers for SIGINT and SIGTERM; returns the function that removes them. */
export function onStopSignals(args: StopSignalArgs): () => void {
  const { onStop, onAgain, sameMs = 500, now = Date.now } = args;
  let first: number | undefined;
  const handler = (sig: NodeJS.Signals) => {
    const t = now();
    if (first === undefined) {
      first = t;
      onStop(sig);
    } else if (t - first > sameMs) onAgain(sig);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.removeListener('SIGINT', handler);
    process.removeListener('SIGTERM', handler);
  };
}
