// The one place where a failure becomes an exit code and the one line the user reads.
import { ForensicsError, storeErrorFrom } from '../errors.js';

/** 0 ok, 1 findings at or above --fail-on, 2 usage, input or store error (the environment), 70 internal error. */
export const EXIT = { ok: 0, findings: 1, input: 2, internal: 70 } as const;

export interface FailureContext {
  /** The --db of the command that failed, when it has one. */
  db: string | null;
  /** The --wait in force, in milliseconds (named in the line for a busy store). */
  waitMs: number;
}

export interface Failure {
  code: number;
  /** One line, without the program name and without its newline; not yet made terminal-safe. */
  line: string;
}

/** File-system errors that are the environment's, not a bug: a line naming the path, exit 2. */
const ENVIRONMENT_ERRNO = new Set(['ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EROFS', 'EIO', 'EMFILE', 'ENFILE', 'ENOMEM']);

export function describeFailure(e: unknown, ctx: FailureContext): Failure {
  if (e instanceof ForensicsError) return { code: e.code === 'internal' ? EXIT.internal : EXIT.input, line: e.message };
  const store = ctx.db === null ? null : storeErrorFrom(e, ctx.db, ctx.waitMs);
  if (store) return { code: EXIT.input, line: store.message };
  const errno = e as NodeJS.ErrnoException;
  if (typeof errno?.code === 'string' && ENVIRONMENT_ERRNO.has(errno.code)) {
    const what = errno.path ? `${errno.syscall ?? 'access'} ${errno.path}` : errno.syscall === 'write' ? 'writing the output' : (errno.syscall ?? 'a system call');
    return { code: EXIT.input, line: `${what}: ${errno.message}` };
  }
  return { code: EXIT.internal, line: `internal error: ${(e as Error)?.message ?? String(e)}` };
}
