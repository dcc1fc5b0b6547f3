/**
 * Errors meant for a person: one clear line, no stack trace needed. The CLI prints
 * `error: <message>` for these and exits with `exitCode`; anything else is a bug.
 */
export class UserError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'UserError';
    this.exitCode = exitCode;
  }
}

/** A usage mistake (bad flag or argument): exit code 2. */
export class UsageError extends UserError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}
