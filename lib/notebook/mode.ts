/**
 * Notebook helpers that are safe to import anywhere (no tslab dependency).
 *
 * Smoke mode: `NB_SMOKE=1` (set by the notebook test / CI runner) asks every notebook to
 * shrink its data, model and step counts so the whole series executes in seconds.
 * Write hyperparameters as `smoke(tinyValue, realValue)`.
 */

/** True when the environment asks for a smoke run (NB_SMOKE set to anything but "", "0", "false", "no"). */
export function isSmoke(): boolean {
  const v = (process.env.NB_SMOKE ?? '').trim().toLowerCase();
  return v !== '' && v !== '0' && v !== 'false' && v !== 'no';
}

/** `smokeValue` in smoke mode, otherwise `realValue`. */
export function smoke<T>(smokeValue: T, realValue: T): T {
  return isSmoke() ? smokeValue : realValue;
}

/**
 * True inside a tslab kernel (its executor defines `globalThis.__tslab__`). Lets library code
 * use rich notebook output there and plain console output everywhere else.
 */
export function isNotebook(): boolean {
  const g = globalThis as { __tslab__?: unknown };
  return typeof g.__tslab__ === 'object' && g.__tslab__ !== null;
}
