// query: read-only SQL over the store. The rows are streamed (query-output.ts), every value is bounded
// (store/user-query.ts), and the statement runs in a child process that --timeout can stop:
// better-sqlite3 runs a statement synchronously and has no sqlite3_interrupt(), and a worker thread
// cannot be terminated while it is inside one sqlite3_step() (an unbounded recursive CTE never returns
// to JavaScript), so only a process can be stopped mid-statement. The parent passes the SQL on the
// child's stdin, lets it write stdout itself, and counts the time it runs, not the time it waits for
// the store (--wait) or for a slow reader of its output.
import { spawn } from 'node:child_process';
import { readFileSync, writeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { openStore, storeWaitMs } from '../store/open.js';
import { prepareUserQuery } from '../store/user-query.js';
import { ForensicsError, UsageError, storeErrorFrom } from '../errors.js';
import { parseSecondsOption } from './options.js';
import { writeJsonRows, writeTableRows, type RowStreamHooks } from './query-output.js';
import { safeLines } from './format.js';

export interface QueryCliOptions {
  db: string;
  json?: boolean;
  timeout?: string;
}

export const DEFAULT_TIMEOUT_S = 30;
const MAX_TIMEOUT_S = 86_400;
/** Set in the child's environment; its value is the fd on which the child says when it runs (R) or waits (P). */
const CHILD_ENV = 'ETCD_FORENSICS_QUERY_CHILD';
const SIGNAL_FD = 3;
/** Set in the child's environment: the pid of the process supervising it. */
const PARENT_ENV = 'ETCD_FORENSICS_QUERY_PARENT';
/** What the parent keeps of the child's stderr (one line is expected). */
const STDERR_KEEP = 64 * 1024;

export async function runQuery(sql: string, opts: QueryCliOptions): Promise<void> {
  const timeoutS = parseSecondsOption('--timeout', opts.timeout ?? String(DEFAULT_TIMEOUT_S), MAX_TIMEOUT_S);
  if (process.env[CHILD_ENV] === '1') {
    endWithParent();
    return runStatement(readFileSync(0, 'utf8'), opts, childSignals());
  }
  if (timeoutS === 0) return runStatement(sql, opts, {});
  return superviseStatement(sql, opts, timeoutS);
}

/** Opens the store, runs the statement, streams its rows; `hooks` tell the parent when it runs. */
async function runStatement(sql: string, opts: QueryCliOptions, hooks: RowStreamHooks): Promise<void> {
  const db = openStore(opts.db, { readonly: true });
  try {
    db.pragma('query_only = ON');
    const q = prepareUserQuery(db, sql);
    hooks.onResume?.();
    const write = opts.json ? writeJsonRows : writeTableRows;
    await write(q.columns, q.rows(), hooks);
  } catch (e) {
    if (e instanceof ForensicsError) throw e;
    // An error from a step is the statement's (a bad json_extract path, a value over SQLite's length
    // limit, `not authorized`) unless it is the store's or the disk's.
    throw storeErrorFrom(e, opts.db, storeWaitMs()) ?? new UsageError(`query: ${(e as Error).message}`);
  } finally {
    db.close();
  }
}

/**
 * The child ends when its parent does, even a parent killed with SIGKILL that could forward nothing: a
 * thread of its own (the main one may be inside one sqlite3_step() for good) sees the parent pid change
 * when the child is re-parented, and kills the process.
 */
function endWithParent(): void {
  const watch = `const { workerData } = require('node:worker_threads');
setInterval(() => { if (process.ppid !== workerData) process.kill(process.pid, 'SIGKILL'); }, 250);`;
  // The parent's pid comes from the parent: one killed before this line ran would make process.ppid 1 here.
  const parent = Number(process.env[PARENT_ENV]) || process.ppid;
  new Worker(watch, { eval: true, workerData: parent }).unref();
}

function childSignals(): RowStreamHooks {
  const say = (c: string) => (): void => { try { writeSync(SIGNAL_FD, c); } catch { /* the parent is gone */ } };
  return { onResume: say('R'), onPause: say('P') };
}

/** The same command in a child process, killed when it has run for `timeoutS` seconds. */
async function superviseStatement(sql: string, opts: QueryCliOptions, timeoutS: number): Promise<void> {
  const args = [...process.execArgv, process.argv[1]!, 'query', '--db', opts.db, '--wait', String(storeWaitMs() / 1000), '--timeout', '0', ...(opts.json ? ['--json'] : []), '--', '-'];
  const child = spawn(process.execPath, args, {
    stdio: ['pipe', 'inherit', 'pipe', 'pipe'], env: { ...process.env, [CHILD_ENV]: '1', [PARENT_ENV]: String(process.pid) },
  });
  // A signal that ends this process ends the statement too (Ctrl-C reaches both; `kill PID` only this one).
  const forward = (sig: NodeJS.Signals) => (): void => { child.kill('SIGKILL'); process.kill(process.pid, sig); };
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((sig) => [sig, forward(sig)] as const);
  for (const [sig, h] of handlers) process.once(sig, h);
  child.stdin!.on('error', () => { /* the child ended before reading it: its exit says why */ });
  child.stdin!.end(sql);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { if (stderr.length < STDERR_KEEP) stderr += s; });
  let left = timeoutS * 1000;
  let since = 0;
  let timer: NodeJS.Timeout | null = null;
  let timedOut = false;
  const pause = (): void => {
    if (timer === null) return;
    clearTimeout(timer);
    timer = null;
    left -= Date.now() - since;
  };
  const resume = (): void => {
    if (timer !== null) return;
    since = Date.now();
    timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, Math.max(0, left));
  };
  (child.stdio[SIGNAL_FD] as NodeJS.ReadableStream).setEncoding('utf8');
  (child.stdio[SIGNAL_FD] as NodeJS.ReadableStream).on('data', (s: string) => { if (s.at(-1) === 'R') resume(); else pause(); });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, s) => resolve([c, s]));
  });
  pause();
  for (const [sig, h] of handlers) process.removeListener(sig, h);
  if (timedOut) {
    throw new UsageError(`query: stopped after ${timeoutS} s of running (--timeout ${timeoutS}); what was printed before is incomplete`);
  }
  if (signal !== null || code === null) {
    throw new ForensicsError('internal', `query: the process running the statement ended by ${signal ?? 'an unknown cause'}${signal === 'SIGKILL' ? ' (out of memory?)' : ''}`);
  }
  process.stderr.write(safeLines(stderr));
  process.exitCode = code;
}
