// The CLI's usage error, in a module of its own so that every command can throw it without importing `run`.
/** A configuration mistake: reported as one line, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
