// The on-call screen: `analyze` rendered in a real 80-column pseudo-terminal (script(1), util-linux, in
// Debian's essential bsdutils) on real captures. No line is wider than the terminal, the verdict comes
// first in at most 15 lines, colour is there on the TTY and not with NO_COLOR or when piped. Then the
// demo: under 60 lines, the HTML report written with the verdict in it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { BIN, ROOT, runCli, tempDir } from './helpers/cli.js';
import { displayWidth, renderBoxTable } from '../src/report/box-table.js';
import { safeText } from '../src/report/terminal-safe.js';
import { wrapShell } from '../src/report/text-wrap.js';
import { escapeHtml } from '../src/report/svg-chart.js';
import type { AnalysisReport } from '../src/analyze/types.js';

const SGR = /\x1b\[[0-9;]*m/g;

/** What the terminal shows: script(1) writes CRLF; colour escapes take no columns. */
function screenLines(out: string): string[] {
  return out.replace(/\r\n/g, '\n').replace(/\r/g, '').split('\n');
}

/** `analyze` in a pseudo-terminal of the given size; env without NO_COLOR unless given. */
function inTerminal(args: string[], cols: number, env: Record<string, string> = {}): string {
  const base: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color', ...env };
  if (!('NO_COLOR' in env)) delete base.NO_COLOR;
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('script', ['-qec', `stty cols ${cols} rows 50; ${quoted}`, '/dev/null'], { cwd: ROOT, encoding: 'utf8', env: base, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, `script(1) exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

const CAPTURES: Record<string, string[]> = {
  'samples/patroni-nospace (etcd 3.4.23 + Patroni 3.0.2)': ['samples/patroni-nospace/etcd', 'samples/patroni-nospace/patroni', 'samples/patroni-nospace/samples',
    'samples/patroni-nospace/snapshot-status.json.txt', 'samples/patroni-nospace/snapshot.bin.gz'],
  'the seed transcript (etcd 3.5.1)': ['test/fixtures/seed/etcd-no-space-incident.txt'],
  'test/fixtures/etcd-3.5.16': ['test/fixtures/etcd-3.5.16/etcd1.log', 'test/fixtures/etcd-3.5.16/etcd2.log', 'test/fixtures/etcd-3.5.16/status-samples.log'],
};

test('script(1) is here to give analyze a terminal', () => {
  const r = spawnSync('script', ['-qec', 'stty size', '/dev/null'], { encoding: 'utf8' });
  assert.equal(r.status, 0, 'script(1) from util-linux (Debian: bsdutils) is needed by these tests');
});

for (const [name, inputs] of Object.entries(CAPTURES)) {
  test(`analyze in an 80-column terminal on ${name}: fits, verdict first (≤ 15 lines), colour only on the TTY`, () => {
    const { dir, cleanup } = tempDir();
    try {
      const db = join(dir, 's.db');
      const ing = runCli(['ingest', '--db', db, ...inputs]);
      assert.equal(ing.code, 0, ing.stderr);
      const tty = inTerminal(['analyze', '--db', db], 80);
      const lines = screenLines(tty);
      for (const [i, l] of lines.entries()) {
        const w = displayWidth(l.replace(SGR, ''));
        assert.ok(w <= 80, `line ${i + 1} is ${w} columns: ${JSON.stringify(l)}`);
      }
      assert.ok(/\x1b\[[0-9;]*m/.test(tty), 'no colour on the TTY');
      const plain = lines.map((l) => l.replace(SGR, ''));
      assert.match(plain[0]!, /^VERDICT {2}\S/, `first line: ${plain[0]}`);
      const verdictLines = plain.indexOf('');
      assert.ok(verdictLines > 1 && verdictLines <= 15, `verdict of ${verdictLines} lines`);
      // The verdict is the report's own (JSON carries the same words).
      const json = JSON.parse(runCli(['analyze', '--db', db, '--json']).stdout) as AnalysisReport;
      assert.ok(plain.slice(0, verdictLines).join(' ').replace(/\s+/g, ' ').includes(json.verdict.headline.split(' ').slice(0, 3).join(' ')));
      // Sections after the verdict, capped.
      assert.ok(plain.includes('INCIDENT') || plain.some((l) => l.startsWith('INCIDENT')), 'no INCIDENT section');
      // NO_COLOR on the same TTY, and a pipe: no escape at all.
      assert.ok(!/\x1b/.test(inTerminal(['analyze', '--db', db], 80, { NO_COLOR: '1' })), 'colour despite NO_COLOR');
      const piped = runCli(['analyze', '--db', db]);
      assert.equal(piped.code, 0, piped.stderr);
      assert.ok(!/\x1b/.test(piped.stdout), 'colour in a pipe');
      for (const l of piped.stdout.split('\n')) assert.ok(displayWidth(l) <= 80, `piped line wider than 80: ${l}`);
      // A wider terminal is used; --full is not cut to any width.
      const wide = screenLines(inTerminal(['analyze', '--db', db], 132)).map((l) => displayWidth(l.replace(SGR, '')));
      assert.ok(Math.max(...wide) <= 132);
    } finally {
      cleanup();
    }
  });
}

test('analyze --section and --limit: one section; a capped table says how many rows it left out and how to see them', () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = join(dir, 's.db');
    assert.equal(runCli(['ingest', '--db', db, ...CAPTURES['samples/patroni-nospace (etcd 3.4.23 + Patroni 3.0.2)']!]).code, 0);
    const json = JSON.parse(runCli(['analyze', '--db', db, '--json']).stdout) as AnalysisReport;
    const tl = runCli(['analyze', '--db', db, '--section', 'timeline', '--limit', '3']);
    assert.equal(tl.code, 0, tl.stderr);
    assert.match(tl.stdout, /^TIMELINE/);
    assert.ok(!tl.stdout.includes('VERDICT') && !tl.stdout.includes('INCIDENT'));
    assert.ok(json.timeline.length > 3);
    assert.ok(tl.stdout.includes(`… ${json.timeline.length - 3} more row(s) (--limit N or --full)`), tl.stdout.slice(-300));
    const bad = runCli(['analyze', '--db', db, '--section', 'nope']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--section nope: expected one of/);
    assert.equal(runCli(['analyze', '--db', db, '--limit', '0']).code, 2);
    const v = runCli(['analyze', '--db', db, '--section', 'verdict', '--json']);
    assert.deepEqual(JSON.parse(v.stdout).verdict, json.verdict);
    // The timeline collapses runs: each bursty kind's rows add up to the records behind them.
    const failed = json.timeline.filter((t) => t.kind === 'etcd.apply.failed');
    assert.ok(failed.length > 0 && failed.length < 5, `${failed.length} failed-apply rows`);
    assert.equal(failed.reduce((s, t) => s + t.count, 0), json.refusedWrites.etcdTotal);
    for (const t of failed) assert.equal(t.split!.reduce((s, x) => s + x.count, 0), t.count);
  } finally {
    cleanup();
  }
});

test('box tables fit the width given and wrap cells without losing a character (property)', () => {
  const cell = fc.string({ unit: 'grapheme', maxLength: 60 }).filter((x) => !x.includes('│'));
  fc.assert(fc.property(
    fc.array(fc.array(cell, { minLength: 4, maxLength: 4 }), { minLength: 1, maxLength: 8 }),
    fc.integer({ min: 40, max: 120 }),
    (rows, width) => {
      const out = renderBoxTable(['a', 'b', 'c', 'd'], rows, '', width);
      for (const l of out.split('\n')) assert.ok(displayWidth(l) <= width, `${displayWidth(l)} > ${width}: ${l}`);
      // Rows are separated by rules; within a row, a column's pieces joined are the cell (spaces aside).
      const blocks: string[][][] = [[]];
      for (const l of out.split('\n').slice(1, -1)) {
        if (l.startsWith('├')) blocks.push([]);
        else blocks[blocks.length - 1]!.push(l.slice(1, -1).split('│'));
      }
      const squeeze = (x: string): string => x.replace(/\s+/g, '');
      const want = [['a', 'b', 'c', 'd'], ...rows];
      assert.equal(blocks.length, want.length);
      blocks.forEach((b, k) => {
        for (let i = 0; i < 4; i++) assert.equal(b.map((parts) => squeeze(parts[i] ?? '')).join(''), squeeze(safeText(want[k]![i]!)), `row ${k} column ${i}`);
      });
    },
  ), { numRuns: 200 });
});

test('a command wrapped with \\ continuations is the same words to bash', () => {
  const cmd = `f --endpoints="\${ENDPOINTS:-http://127.0.0.1:2379,http://127.0.0.2:2379}" 'snapshot save' "backup-$(echo 2026).db" ${'x'.repeat(70)} '${'y '.repeat(30)}' "a b" c`;
  const lines = wrapShell(cmd, 60, '    ');
  assert.ok(lines.length > 2, lines.join('\n'));
  const words = (text: string): string => spawnSync('bash', ['-c', 'f() { printf "<%s>" "$@"; }; eval "$1"', '_', text], { encoding: 'utf8' }).stdout;
  assert.equal(words(lines.join('\n')), words(cmd));
  assert.match(words(cmd), /<snapshot save>/);
  // A comment goes above the command (a ` \` in a comment would not continue the line); a list breaks after a comma.
  const commented = `f --endpoints=http://127.0.0.1:40851,http://127.0.0.1:52535,http://127.0.0.1:60397 defrag   # followers first, the leader last; it blocks that member while it runs`;
  const wrapped = wrapShell(commented, 60, '    ');
  assert.match(wrapped[0]!, /^ {4}# followers first/);
  assert.ok(wrapped.some((l) => l.endsWith(',\\')), wrapped.join('\n'));
  assert.equal(words(wrapped.join('\n')), words(commented));
  assert.equal(words(commented), '<--endpoints=http://127.0.0.1:40851,http://127.0.0.1:52535,http://127.0.0.1:60397><defrag>');
});

test('npm run demo: under 60 lines, the verdict, and an HTML report that exists and holds the verdict', () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = join(dir, 'demo.db');
    const r = spawnSync('bash', ['scripts/demo.sh'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, DEMO_DB: db } });
    assert.equal(r.status, 0, r.stderr);
    const printed = `${r.stdout}${r.stderr}`.split('\n').filter((l, i, a) => i < a.length - 1 || l !== '');
    assert.ok(printed.length < 60, `${printed.length} lines`);
    assert.ok(r.stdout.split('\n').some((l) => l.startsWith('VERDICT  NOSPACE')), r.stdout);
    const html = join(dir, 'demo.html');
    assert.ok(r.stdout.includes(`report: ${html}`), r.stdout);
    assert.ok(existsSync(html));
    const json = JSON.parse(runCli(['analyze', '--db', db, '--json']).stdout) as AnalysisReport;
    const page = readFileSync(html, 'utf8');
    assert.ok(page.includes('id="verdict"'));
    assert.ok(page.includes(escapeHtml(json.verdict.headline)), 'the HTML report does not hold the verdict');
  } finally {
    cleanup();
  }
});
