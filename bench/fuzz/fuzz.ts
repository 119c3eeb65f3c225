// `npm run fuzz`: mutate every input kind we read (real captures from test/fixtures/ and samples/) and run
// the BUILT CLI on each mutant (ingest into a temp store, then analyze --json, analyze, sources, and
// snapshot for bbolt inputs) with a time and memory bound. See bench/fuzz/run-case.ts for what fails.
//
//   npm run fuzz -- --minutes 30 --seed 7          # the long run; counts per input kind at the end
//   npm run fuzz -- --cases 200 --seed 7 --jobs 2  # a fixed number of cases
//   npm run fuzz -- --seed 7 --case 113            # replay one case (prints its failures)
//   npm run fuzz -- --kinds bbolt-db,bbolt-gz      # only some input kinds
//   npm run fuzz -- --cli /tmp/build/bin/etcd-forensics.js   # a private build (others may rebuild dist/)
//   npm run fuzz -- --verbose                      # one line per case
//   npm run fuzz -- --minutes 30 --results /tmp/r.md   # where a timed run appends its results
//
// A timed run (--minutes) appends its date, machine, command and per-kind table to bench/RESULTS-fuzz.md
// (or --results FILE; --no-results: none).
//
// Every failure prints its seed and case index and the replay command, and its input is written to
// --out (default ./fuzz-failures/seed-S/case-I/). Exit 0 when no case failed, 1 otherwise, 2 on bad usage.
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCase, runCase, saveFailure, type Bounds, type CaseResult, type FailureClass } from './run-case.js';
import { seedKinds } from './seeds.js';

export interface FuzzOptions {
  seed: number;
  /** Stop starting cases after this many minutes (0: no time budget). */
  minutes: number;
  /** Stop after this many cases (0: no case budget). */
  cases: number;
  /** Run exactly these case indexes (replay). */
  only: number[];
  jobs: number;
  kinds: string[];
  outDir: string;
  timeoutMs: number;
  rssLimitMb: number;
  heapMb: number;
  /** The built CLI to run; default bin/etcd-forensics.js of this checkout. */
  cli: string;
  /** Log one line per case (kind, mutations, ingest exit and line). */
  verbose: boolean;
  /** Where each failure line and the progress go. */
  log: (line: string) => void;
  /** Markdown file a run appends its results to (null: none). */
  results: string | null;
}

export interface KindCounts {
  cases: number;
  passed: number;
  refused: number;
  crashes: number;
  hangs: number;
  exit70: number;
  /** A stack trace or "internal error" on stderr (and no crash, hang or exit 70). */
  stack: number;
  /** A raw control character in the output (and none of the above). */
  control: number;
  /** Failures of any other class: memory, bad-exit, invalid-utf8, refusal-lines, bad-json. */
  other: number;
  /** Cases (of any outcome) whose output showed U+FFFD for non-UTF-8 input bytes: noted, not failed. */
  fffd: number;
}

export interface FuzzSummary {
  seed: number;
  perKind: Map<string, KindCounts>;
  failed: CaseResult[];
  cases: number;
  ms: number;
  /** os.loadavg() when the run started and ended. */
  loadStart: number[];
  loadEnd: number[];
  /** Cases the harness could not build (its own bug): not run. */
  harnessErrors: string[];
}

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export function defaultOptions(): FuzzOptions {
  return {
    seed: 1, minutes: 0, cases: 0, only: [], jobs: 2, kinds: [], outDir: join(ROOT, 'fuzz-failures'),
    timeoutMs: 20_000, rssLimitMb: 1536, heapMb: 1024, cli: join(ROOT, 'bin', 'etcd-forensics.js'), verbose: false, log: (l) => process.stderr.write(l + '\n'),
    results: null,
  };
}

/** JSON-quoted, with DEL, C1 and bidi controls escaped too: a failure's detail holds the bytes at fault. */
function visible(s: string): string {
  return JSON.stringify(s).replace(/[\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function tally(c: KindCounts, r: CaseResult): void {
  c.cases++;
  if (r.replacementChars.length > 0) c.fffd++;
  const classes = new Set<FailureClass>(r.failures.map((f) => f.class));
  if (classes.size === 0) { if (r.ingestExit === 2) c.refused++; else c.passed++; return; }
  if (classes.has('crash')) c.crashes++;
  else if (classes.has('hang')) c.hangs++;
  else if (classes.has('exit70')) c.exit70++;
  else if (classes.has('stack')) c.stack++;
  else if (classes.has('control')) c.control++;
  else c.other++;
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzSummary> {
  const all = seedKinds(ROOT);
  const unknown = o.kinds.filter((k) => !all.some((s) => s.name === k));
  if (unknown.length > 0) throw new Error(`unknown input kind ${unknown.join(', ')}; known: ${all.map((k) => k.name).join(', ')}`);
  const kinds = o.kinds.length > 0 ? all.filter((k) => o.kinds.includes(k.name)) : all;
  const b: Bounds = { root: ROOT, cli: o.cli, timeoutMs: o.timeoutMs, rssLimitBytes: o.rssLimitMb * 1024 * 1024, heapMb: o.heapMb };
  const perKind = new Map(kinds.map((k) => [k.name, emptyCounts()]));
  const loadStart = loadavg();
  const failed: CaseResult[] = [];
  const harnessErrors: string[] = [];
  const work = mkdtempSync(join(tmpdir(), 'ef-fuzz-'));
  const started = Date.now();
  const deadline = o.minutes > 0 ? started + o.minutes * 60_000 : Infinity;
  let next = 0; let done = 0;
  const nextIndex = (): number | null => {
    if (o.only.length > 0) return next < o.only.length ? o.only[next++]! : null;
    if (Date.now() >= deadline || (o.cases > 0 && next >= o.cases)) return null;
    if (o.minutes === 0 && o.cases === 0) return null;
    return next++;
  };
  const worker = async () => {
    for (let i = nextIndex(); i !== null; i = nextIndex()) {
      let spec;
      try {
        spec = buildCase(ROOT, kinds, o.seed, i);
      } catch (e) {
        // A bug of the harness (a mutation that cannot be built), not of the CLI: said, counted, and the run goes on.
        harnessErrors.push(`case ${i}: ${(e as Error).message.slice(0, 200)}`);
        o.log(`HARNESS ERROR seed=${o.seed} case=${i}: ${(e as Error).message.slice(0, 200)}`);
        continue;
      }
      const r = await runCase(b, spec, work);
      tally(perKind.get(spec.kind.name)!, r);
      done++;
      if (o.verbose) o.log(`case ${i} ${spec.kind.name} ${spec.seedFile} [${spec.ops.join(' ')}]${spec.forceKind ? ` --kind ${spec.forceKind}` : ''}${spec.companions.length ? ` +${spec.companions.length} companions` : ''} ${r.ms} ms: ingest exit ${r.ingestExit} ${visible(r.ingestLine.slice(0, 160))}`);
      if (o.verbose && r.replacementChars.length > 0) o.log(`  U+FFFD shown: ${visible(r.replacementChars[0]!)}`);
      if (r.failures.length > 0) {
        failed.push(r);
        const where = saveFailure(o.outDir, r);
        for (const f of r.failures) {
          o.log(`FAIL seed=${o.seed} case=${i} kind=${spec.kind.name} class=${f.class} [${spec.ops.join(' ')}]${spec.companions.length ? ` +${spec.companions.length} companions` : ''} ${f.command}: ${visible(f.detail)}`);
        }
        o.log(`  input and details: ${where}; replay: npm run fuzz -- --seed ${o.seed} --case ${i}`);
      }
      if (done % 25 === 0) o.log(`… ${done} cases, ${failed.length} failed, ${Math.round((Date.now() - started) / 1000)} s`);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, o.jobs) }, worker));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { seed: o.seed, perKind, failed: failed.sort((x, y) => x.spec.index - y.spec.index), cases: done, ms: Date.now() - started, loadStart, loadEnd: loadavg(), harnessErrors };
}

function emptyCounts(): KindCounts {
  return { cases: 0, passed: 0, refused: 0, crashes: 0, hangs: 0, exit70: 0, stack: 0, control: 0, other: 0, fffd: 0 };
}

const COLUMNS = ['cases', 'passed', 'refused', 'crashes', 'hangs', 'exit70', 'stack', 'control', 'other', 'fffd'] as const;

function totalOf(s: FuzzSummary): KindCounts {
  const total = emptyCounts();
  for (const c of s.perKind.values()) for (const k of COLUMNS) total[k] += c[k];
  return total;
}

/** The closing table: counts per input kind. */
export function formatSummary(s: FuzzSummary): string {
  const cols = COLUMNS;
  const rows = [...s.perKind.entries()];
  const total = totalOf(s);
  const w = Math.max(...rows.map(([n]) => n.length), 5);
  const line = (name: string, c: KindCounts) => name.padEnd(w) + cols.map((k) => String(c[k]).padStart(9)).join('');
  return [
    `fuzz seed ${s.seed}: ${s.cases} cases in ${Math.round(s.ms / 1000)} s, ${s.failed.length} failed${s.harnessErrors.length ? `, ${s.harnessErrors.length} not built (harness error)` : ''}`,
    'kind'.padEnd(w) + cols.map((k) => k.padStart(9)).join(''),
    ...rows.map(([n, c]) => line(n, c)),
    line('total', total),
    'passed: accepted and every command ran clean; refused: ingest exit 2 with one line; stack: a stack trace',
    'or "internal error"; control: a raw control character in the output; other: memory bound, odd exit,',
    'non-UTF-8 output, exit 2 not one line, or bad JSON;',
    'fffd (not a failure): output showed U+FFFD for input bytes that are not UTF-8.',
  ].join('\n');
}

/** The run as Markdown: when, where, what was run, and the per-kind table, for bench/RESULTS-fuzz.md. */
export function formatResults(s: FuzzSummary, o: FuzzOptions, command: string): string {
  let commit = 'unknown';
  try { commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim(); } catch { /* not a git checkout */ }
  const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(' / ');
  const head = ['input kind', 'cases', 'passed', 'refused (one line)', 'crash', 'hang', 'exit 70', 'stack trace', 'raw control char', 'other failures', 'U+FFFD shown (noted)'];
  const row = (name: string, c: KindCounts) => `| ${[name, c.cases, c.passed, c.refused, c.crashes, c.hangs, c.exit70, c.stack, c.control, c.other, c.fffd].join(' | ')} |`;
  return [
    `## ${new Date(Date.now() - s.ms).toISOString().slice(0, 16).replace('T', ' ')} UTC: seed ${s.seed}, ${o.minutes} min, ${s.cases} cases, ${s.failed.length} failed`,
    '',
    `- command: \`${command}\` (commit ${commit}, CLI ${o.cli.startsWith(ROOT) ? o.cli.slice(ROOT.length + 1) : o.cli})`,
    `- machine: ${cpus().length} CPUs (nproc), ${Math.round(totalmem() / 1024 ** 3)} GiB RAM, load average (1/5/15 min) ${load(s.loadStart)} at start, ${load(s.loadEnd)} at the end; ${o.jobs} job(s)`,
    `- seed ${s.seed}, ${o.minutes} min budget, ${Math.round(s.ms / 1000)} s wall, bounds: ${o.timeoutMs / 1000} s per command, ${o.rssLimitMb} MiB RSS`,
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...[...s.perKind.entries()].map(([n, c]) => row(n, c)),
    row('**total**', totalOf(s)),
    '',
    ...s.harnessErrors.map((h) => `- harness error (case not run): ${visible(h).replace(/[`|<>]/g, '?')}`),
    ...(s.failed.length === 0 ? ['No case failed.'] : ['Failures (replay: `npm run fuzz -- --seed S --case I`):', '',
      ...s.failed.slice(0, 40).map((r) => `- case ${r.spec.index} (${r.spec.kind.name}, ${r.spec.ops.join(' ').replace(/[`|]/g, '')}): ${[...new Set(r.failures.map((f) => f.class))].join(', ')}; ${visible(r.failures[0]!.detail.slice(0, 160)).replace(/[`|<>]/g, '?')}`)]),
    '',
  ].join('\n');
}

function parseArgs(argv: string[]): FuzzOptions {
  const o = defaultOptions();
  o.seed = Date.now() % 1_000_000;
  const num = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < 0) throw new Error(`${flag}: expected a number, got ${JSON.stringify(v)}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!; const v = argv[i + 1];
    switch (flag) {
      case '--seed': o.seed = Math.floor(num(flag, v)); i++; break;
      case '--minutes': o.minutes = num(flag, v); i++; break;
      case '--cases': o.cases = Math.floor(num(flag, v)); i++; break;
      case '--case': o.only.push(...(v ?? '').split(',').map((x) => Math.floor(num(flag, x)))); i++; break;
      case '--jobs': o.jobs = Math.max(1, Math.floor(num(flag, v))); i++; break;
      case '--kinds': o.kinds = (v ?? '').split(',').filter(Boolean); i++; break;
      case '--out': o.outDir = resolve(v ?? 'fuzz-failures'); i++; break;
      case '--timeout': o.timeoutMs = num(flag, v) * 1000; i++; break;
      case '--rss-mb': o.rssLimitMb = num(flag, v); i++; break;
      case '--heap-mb': o.heapMb = num(flag, v); i++; break;
      case '--cli': o.cli = resolve(v ?? ''); i++; break;
      case '--verbose': o.verbose = true; break;
      case '--results': o.results = resolve(v ?? ''); i++; break;
      case '--no-results': o.results = ''; break;
      default: throw new Error(`unknown argument ${flag}`);
    }
  }
  if (o.only.length === 0 && o.minutes === 0 && o.cases === 0) o.minutes = 5;
  if (o.results === null && o.minutes > 0 && o.only.length === 0) o.results = join(ROOT, 'bench', 'RESULTS-fuzz.md');
  if (o.results === '') o.results = null;
  return o;
}

async function main(): Promise<void> {
  let o: FuzzOptions;
  try { o = parseArgs(process.argv.slice(2)); } catch (e) {
    process.stderr.write(`fuzz: ${(e as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  process.stderr.write(`fuzz seed ${o.seed}${o.minutes ? `, ${o.minutes} min` : ''}${o.cases ? `, ${o.cases} cases` : ''}, ${o.jobs} jobs, failures to ${o.outDir}\n`);
  const s = await runFuzz(o);
  process.stdout.write(formatSummary(s) + '\n');
  if (o.results) {
    const command = ['node --import tsx bench/fuzz/fuzz.ts', ...process.argv.slice(2)].join(' ');
    const fresh = !existsSync(o.results);
    appendFileSync(o.results, (fresh ? '# Fuzz runs (bench/fuzz/fuzz.ts; a timed run appends here)\n\n' : '\n') + formatResults(s, o, command));
    process.stderr.write(`results appended to ${o.results}\n`);
  }
  process.exitCode = s.failed.length > 0 || s.harnessErrors.length > 0 ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
