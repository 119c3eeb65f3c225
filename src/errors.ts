// Environment failures with stable codes. The CLI maps them to exit codes in one place (src/cli/main.ts).
export type ErrorCode = 'usage' | 'input' | 'store' | 'internal';

export class ForensicsError extends Error {
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
    this.name = 'ForensicsError';
  }
}

export class UsageError extends ForensicsError {
  constructor(message: string) {
    super('usage', message);
  }
}

/** A bad input: the message names the file and the line or byte offset. */
export class InputError extends ForensicsError {
  constructor(message: string) {
    super('input', message);
  }
}

export class StoreError extends ForensicsError {
  constructor(message: string) {
    super('store', message);
  }
}
