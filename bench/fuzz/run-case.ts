// One fuzz case: build the mutated input (a pure function of seed, case index and the seed files),
// run the BUILT CLI on it as child processes with a time and a memory bound, and judge what they did.
// A case fails on: a signal (crash), a stack trace or "internal error" on stderr, a hang (timeout), RSS
// over the bound, exit 70 or any exit other than 0/1/2, an output byte sequence that is not UTF-8, an
// output line holding a raw control character (C0 but \n and \t, DEL, C1, bidi controls), an exit 2
// that says more or less than one line, and `--json` output that does not parse. Exit 2 with one line
// is a pass: bad input may be refused.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { mutateBbolt, mutateBboltGz } from './mutate-bbolt.js';
import { cropText, mutateText, type Mutated } from './mutate-text.js';
import { mutateSnap, mutateWal } from './mutate-wal.js';
import { Rng } from './rng.js';
import { forcedKindOf, MAX_TEXT_SEED_BYTES, type SeedKind } from './seeds.js';

export type FailureClass = 'crash' | 'hang' | 'memory' | 'exit70' | 'bad-exit' | 'stack' | 'control' | 'invalid-utf8' | 'refusal-lines' | 'bad-json';

export interface Failure {
  class: FailureClass;
  /** The CLI arguments (the input's path shown as INPUT). */
  command: string;
  /** The first line that shows it (JSON-quoted when printed, since it may hold the bytes at fault). */
  detail: string;
}

export interface CaseSpec {
  seed: number;
  index: number;
  kind: SeedKind;
  seedFile: string;
  fileName: string;
  forceKind: string | null;
  ops: string[];
  data: Buffer;
  /** Shape data-dir: the input is a directory named fileName holding these files (one of them mutated);
   * `data` is then that mutated file's bytes. */
  tree: Array<{ rel: string; data: Buffer }> | null;
  /** Inputs ingested into the same store before this one: real captures from the seed's own capture
   * directory (some lightly mutated), so the analyses run with context (an etcd log beside status samples
   * beside a Patroni log) and the mutant disturbs a whole incident, not an empty store. */
  companions: Array<{ seedFile: string; fileName: string; ops: string[]; data: Buffer }>;
}

export interface CaseResult {
  spec: CaseSpec;
  /** The ingest's exit code (null when it did not exit by itself). */
  ingestExit: number | null;
  /** The ingest's last stderr line (its summary or its one refusal line), for --verbose. */
  ingestLine: string;
  failures: Failure[];
  /** Not failures: commands whose output shows U+FFFD for input bytes that are not UTF-8 (STYLE.md asks
   * for a visible escape such as \xff); counted so the long run can say how often. */
  replacementChars: string[];
  ms: number;
}

export interface Bounds {
  /** The repository: seeds are read from it. */
  root: string;
  /** The built CLI to run (bin/etcd-forensics.js of `root`, or of a private build). */
  cli: string;
  timeoutMs: number;
  rssLimitBytes: number;
  heapMb: number;
}

const seedCache = new Map<string, Buffer>();
function readSeed(root: string, rel: string): Buffer {
  let b = seedCache.get(rel);
  if (!b) { b = readFileSync(join(root, rel)); seedCache.set(rel, b); }
  return b;
}

/** File names from the data reach messages too: a few cases carry control characters in theirs. */
const HOSTILE_NAME_PREFIXES = ['\x1b[2J', 'a\rb-', '\x1b]52;c;eA==\x07', '\u202e', 'x\ty-'];

/** The case's input: kind by round robin over `kinds`, everything else drawn from the case's own Rng. */
export function buildCase(root: string, kinds: SeedKind[], seed: number, index: number): CaseSpec {
  const r = new Rng(seed, index);
  const kind = kinds[index % kinds.length]!;
  const seedFile = r.pick(kind.files);
  if (kind.shape === 'data-dir') return buildDataDirCase(root, kind, seed, index, seedFile, r);
  const raw = readSeed(root, seedFile);
  let m: Mutated;
  if (kind.shape === 'bbolt') m = mutateBbolt(raw, r);
  else if (kind.shape === 'bbolt-gz') m = mutateBboltGz(raw, r);
  else if (kind.shape === 'wal') m = mutateWal(raw, r);
  else if (kind.shape === 'snap') m = mutateSnap(raw, r);
  else {
    const textKinds = kinds.filter((k) => k.shape === 'text');
    const otherKind = r.pick(textKinds.length > 0 ? textKinds : kinds);
    const other = cropText(readSeed(root, r.pick(otherKind.files)), r, 64 * 1024);
    m = mutateText(cropText(raw, r, MAX_TEXT_SEED_BYTES), r, other);
  }
  let fileName = basename(seedFile);
  if (kind.shape === 'bbolt-gz' && !fileName.endsWith('.gz')) fileName += '.gz';
  if (kind.shape === 'wal' && fileName.endsWith('.gz') && !m.ops.includes('gzip')) fileName = fileName.slice(0, -3);
  if (kind.shape === 'text' && r.chance(0.1)) { m = { data: gzipSync(m.data), ops: [...m.ops, 'gzip'] }; fileName += '.gz'; }
  if (r.chance(0.1)) fileName = r.pick(HOSTILE_NAME_PREFIXES) + fileName;
  const forceKind = r.chance(0.2) ? forcedKindOf(kind, seedFile) : null;
  return { seed, index, kind, seedFile, fileName, forceKind, ops: m.ops, data: m.data, tree: null, companions: companionsOf(root, kinds, seedFile, r) };
}

function filesUnder(root: string, dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(join(root, dir)).sort()) {
    const rel = `${dir}/${name}`;
    if (statSync(join(root, rel)).isDirectory()) filesUnder(root, rel, out);
    else out.push(rel);
  }
  return out;
}

/** A copy of a fixture's `member/` tree under a data dir of its own, one file in it mutated by its kind. */
function buildDataDirCase(root: string, kind: SeedKind, seed: number, index: number, seedFile: string, r: Rng): CaseSpec {
  const files = filesUnder(root, seedFile);
  const target = r.pick(files);
  const name = basename(target);
  const raw = readSeed(root, target);
  let m: Mutated;
  if (/\.wal(\.gz)?$/.test(name)) m = mutateWal(raw, r);
  else if (name.endsWith('.snap')) m = mutateSnap(raw, r);
  else if (/^db(\.gz)?$/.test(name)) m = mutateBboltGz(raw, r);
  else m = mutateText(raw, r, raw);
  const tree = files.map((f) => ({ rel: `member/${f.slice(seedFile.length + 1)}`, data: f === target ? m.data : readSeed(root, f) }));
  let fileName = `${basename(dirname(seedFile))}-etcd1`;
  if (r.chance(0.1)) fileName = r.pick(HOSTILE_NAME_PREFIXES) + fileName;
  return { seed, index, kind, seedFile, fileName, forceKind: null, ops: [`${target.slice(seedFile.length + 1)}:`, ...m.ops], data: m.data, tree, companions: [] };
}

/** The capture a seed file belongs to: samples/<name> or test/fixtures/<name>. */
function captureDir(file: string): string {
  return file.split('/').slice(0, file.startsWith('samples/') ? 2 : 3).join('/');
}

function companionsOf(root: string, kinds: SeedKind[], seedFile: string, r: Rng): CaseSpec['companions'] {
  if (!r.chance(0.35)) return [];
  const dir = captureDir(seedFile);
  const pool = [...new Set(kinds.filter((k) => k.shape === 'text').flatMap((k) => k.files))].filter((f) => f !== seedFile && captureDir(f) === dir);
  const out: CaseSpec['companions'] = [];
  for (let n = Math.min(pool.length, r.range(1, 3)); n > 0; n--) {
    const f = pool.splice(r.int(pool.length), 1)[0]!;
    const data = cropText(readSeed(root, f), r, MAX_TEXT_SEED_BYTES);
    const m = r.chance(0.4) ? mutateText(data, r, data) : { data, ops: [] };
    out.push({ seedFile: f, fileName: `c${out.length}-${basename(f)}`, ops: m.ops, data: m.data });
  }
  return out;
}

interface Run { code: number | null; signal: string | null; stdout: Buffer; stderr: Buffer; timedOut: boolean; rssKilled: boolean; peakRss: number }

const OUTPUT_CAP = 64 * 1024 * 1024;

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch { return 0; }
}

function runCli(b: Bounds, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    delete env.NODE_TEST_CONTEXT;
    delete env.NODE_OPTIONS;
    const child = spawn(process.execPath, [`--max-old-space-size=${b.heapMb}`, b.cli, ...args], {
      cwd: b.root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = []; const err: Buffer[] = [];
    let outLen = 0; let errLen = 0;
    child.stdout.on('data', (c: Buffer) => { if (outLen < OUTPUT_CAP) { out.push(c); outLen += c.length; } });
    child.stderr.on('data', (c: Buffer) => { if (errLen < OUTPUT_CAP) { err.push(c); errLen += c.length; } });
    let timedOut = false; let rssKilled = false; let peakRss = 0;
    // The child leads its own process group (detached), so the kill reaches anything it started.
    const kill = () => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ } };
    const timer = setTimeout(() => { timedOut = true; kill(); }, b.timeoutMs);
    const poll = setInterval(() => {
      const rss = rssOf(child.pid!);
      peakRss = Math.max(peakRss, rss);
      if (rss > b.rssLimitBytes) { rssKilled = true; kill(); }
    }, 100);
    child.on('close', (code, signal) => {
      clearTimeout(timer); clearInterval(poll);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err), timedOut, rssKilled, peakRss });
    });
  });
}

// What a terminal would obey: C0 controls but \n and \t, DEL, C1 controls, bidi and line controls.
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;
const STACK_FRAME = /^\s+at .+(:\d+:\d+\)?|\(native\)|\(<anonymous>\))$/m;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function firstLineMatching(text: string, re: RegExp): string {
  return text.split('\n').find((l) => re.test(l)) ?? text.slice(0, 200);
}

function judge(run: Run, command: string, opts: { json: boolean }, notes: string[], inputHasFffd: boolean): Failure[] {
  const f: Failure[] = [];
  const add = (cls: FailureClass, detail: string) => f.push({ class: cls, command, detail: detail.slice(0, 400) });
  let stdout = ''; let stderr = '';
  try { stdout = UTF8.decode(run.stdout); } catch { add('invalid-utf8', 'stdout is not valid UTF-8'); stdout = run.stdout.toString('utf8'); }
  try { stderr = UTF8.decode(run.stderr); } catch { add('invalid-utf8', 'stderr is not valid UTF-8'); stderr = run.stderr.toString('utf8'); }
  const firstErr = stderr.split('\n').find((l) => l.trim() !== '') ?? '';
  if (run.timedOut) add('hang', `no exit within the time bound; stderr: ${firstErr}`);
  else if (run.rssKilled) add('memory', `RSS ${Math.round(run.peakRss / 1048576)} MiB over the bound; stderr: ${firstErr}`);
  else if (run.signal !== null) add('crash', `killed by ${run.signal}; stderr: ${firstErr}`);
  else if (run.code === 70) add('exit70', firstErr);
  else if (run.code !== 0 && run.code !== 1 && run.code !== 2) add('bad-exit', `exit ${run.code}; stderr: ${firstErr}`);
  if (STACK_FRAME.test(stderr) || /internal error/i.test(stderr)) add('stack', firstLineMatching(stderr, /internal error|Error|^\s+at /));
  for (const [name, text] of [['stdout', stdout], ['stderr', stderr]] as const) {
    const bad = text.split('\n').find((l) => RAW_CONTROL.test(l));
    if (bad !== undefined) add('control', `${name}: ${bad}`);
  }
  if (!inputHasFffd) {
    const shown = (stdout + stderr).split('\n').find((l) => l.includes('\ufffd'));
    if (shown !== undefined) notes.push(`${command}: ${shown.slice(0, 200)}`);
  }
  if (run.code === 2) {
    const lines = stderr.split('\n').filter((l) => l.trim() !== '');
    if (lines.length !== 1) add('refusal-lines', `exit 2 with ${lines.length} stderr lines: ${lines.slice(0, 3).join(' | ')}`);
  }
  if (opts.json && (run.code === 0 || run.code === 1)) {
    try { JSON.parse(stdout); } catch (e) { add('bad-json', `${(e as Error).message}; stdout starts ${stdout.slice(0, 80)}`); }
  }
  return f;
}

/** Runs the case in a temp dir of its own (removed afterwards) and returns its failures. */
export async function runCase(b: Bounds, spec: CaseSpec, workDir: string): Promise<CaseResult> {
  const started = Date.now();
  const dir = join(workDir, `case-${spec.index}`);
  mkdirSync(dir, { recursive: true });
  const input = join(dir, spec.fileName);
  const db = join(dir, 'store.db');
  if (spec.tree) {
    for (const f of spec.tree) { mkdirSync(dirname(join(input, f.rel)), { recursive: true }); writeFileSync(join(input, f.rel), f.data); }
  } else writeFileSync(input, spec.data);
  const show = (args: string[]) => args.map((a) => (a === input ? 'INPUT' : a === db ? 'STORE' : a)).join(' ');
  const failures: Failure[] = [];
  let ingestExit: number | null = null;
  let ingestLine = '';
  const notes: string[] = [];
  const hasFffd = spec.data.includes(Buffer.from([0xef, 0xbf, 0xbd])) || spec.fileName.endsWith('.gz');
  const judged = (run: Run, args: string[], json: boolean) => judge(run, show(args), { json }, notes, hasFffd);
  try {
    for (const c of spec.companions) {
      const path = join(dir, c.fileName);
      writeFileSync(path, c.data);
      const args = ['ingest', '--db', db, path];
      failures.push(...judge(await runCli(b, args), `ingest --db STORE ${c.seedFile}${c.ops.length ? ` [${c.ops.join(' ')}]` : ''}`, { json: false }, notes,
        c.data.includes(Buffer.from([0xef, 0xbf, 0xbd]))));
    }
    const ingestArgs = ['ingest', '--db', db, ...(spec.forceKind ? ['--kind', spec.forceKind] : []), input];
    const ing = await runCli(b, ingestArgs);
    ingestExit = ing.timedOut || ing.rssKilled ? null : ing.code;
    ingestLine = ing.stderr.toString('utf8').trimEnd().split('\n').pop() ?? '';
    failures.push(...judged(ing, ingestArgs, false));
    const storeHasRows = ing.code === 0 || ing.code === 1 || spec.companions.length > 0;
    if (failures.length === 0 && storeHasRows) {
      const followUps: Array<[string[], boolean]> = [
        [['analyze', '--db', db, '--json'], true],
        [['analyze', '--db', db, '--width', '80'], false],
        [['sources', '--db', db], false],
        // One more per case, in turn: the Markdown report, the HTML report, the runbook, the skipped lines'
        // excerpts through `query` (the stored bytes of the lines the parsers refused).
        [[['report', '--db', db], ['report', '--db', db, '--format', 'html'], ['recommend', '--db', db],
          ['query', '--db', db, 'SELECT * FROM issues ORDER BY 1 LIMIT 40']][Math.floor(spec.index / 2) % 4]!, false],
      ];
      if (spec.kind.shape === 'bbolt' || spec.kind.shape === 'bbolt-gz' || spec.kind.shape === 'data-dir') followUps.push([['snapshot', '--db', db], false], [['snapshot', '--db', db, '--json'], true]);
      if (spec.kind.shape === 'wal' || spec.kind.shape === 'snap' || spec.kind.shape === 'data-dir') followUps.push([['wal', '--db', db], false], [['wal', '--db', db, '--json'], true]);
      for (const [args, json] of followUps) {
        failures.push(...judged(await runCli(b, args), args, json));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { spec, ingestExit, ingestLine, failures, replacementChars: notes, ms: Date.now() - started };
}

/** Writes the failing input and what went wrong under outDir/seed-S/case-I/ and returns that directory. */
export function saveFailure(outDir: string, r: CaseResult): string {
  const dir = join(outDir, `seed-${r.spec.seed}`, `case-${r.spec.index}`);
  mkdirSync(dir, { recursive: true });
  const ext = extname(r.spec.fileName);
  if (r.spec.tree) {
    for (const f of r.spec.tree) { mkdirSync(dirname(join(dir, 'input', f.rel)), { recursive: true }); writeFileSync(join(dir, 'input', f.rel), f.data); }
  } else writeFileSync(join(dir, `input${r.spec.fileName.endsWith('.gz') ? '.gz' : ext}`), r.spec.data);
  r.spec.companions.forEach((c, i) => writeFileSync(join(dir, `companion-${i}${extname(c.fileName)}`), c.data));
  writeFileSync(join(dir, 'case.json'), JSON.stringify({
    seed: r.spec.seed, case: r.spec.index, kind: r.spec.kind.name, seedFile: r.spec.seedFile,
    fileName: r.spec.fileName, forceKind: r.spec.forceKind, ops: r.spec.ops, ingestExit: r.ingestExit,
    companions: r.spec.companions.map((c, i) => ({ file: `companion-${i}${extname(c.fileName)}`, seedFile: c.seedFile, ops: c.ops, ingestedFirst: true })),
    failures: r.failures, replay: `npm run fuzz -- --seed ${r.spec.seed} --case ${r.spec.index}`,
  }, null, 2) + '\n');
  return dir;
}
