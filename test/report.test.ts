// Issue 6: `report` on the real etcd 3.4.23 capture (test/fixtures/etcd-3.4). Structural checks of the
// Markdown against `analyze --json` (the numbers must be the same), escaping of hostile table cells,
// -o / --format, and the ingest progress bar (only on a terminal).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { runCli, tempDir, FIXTURES, BIN, ROOT } from './helpers/cli.js';
import type { AnalysisReport } from '../src/analyze/types.js';
import { renderMarkdown, text } from '../src/report/markdown.js';
import { renderHtml } from '../src/report/html.js';
import { escapeHtml } from '../src/report/svg-chart.js';

const E34 = join(FIXTURES, 'etcd-3.4');
const CAPTURE = [join(E34, 'etcd-zap.log'), join(E34, 'etcd-capnslog.log'), join(E34, 'status-samples.log')];

function withCapture<T>(fn: (db: string, dir: string) => T): T {
  const { dir, cleanup } = tempDir();
  try {
    const db = join(dir, 's.db');
    const r = runCli(['ingest', '--db', db, '--tz', 'Asia/Shanghai', ...CAPTURE]);
    assert.equal(r.code, 0, r.stderr);
    return fn(db, dir);
  } finally {
    cleanup();
  }
}

const analyze = (db: string): AnalysisReport => {
  const r = runCli(['analyze', '--db', db, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as AnalysisReport;
};

/** The section of a Markdown document under `## title`, up to the next `## `. */
function section(md: string, title: string): string {
  const start = md.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `section ${title}`);
  const end = md.indexOf('\n## ', start + 4);
  return md.slice(start, end < 0 ? undefined : end);
}

/** Cells of a GFM table row: split on pipes that are not backslash-escaped. */
const cells = (row: string): string[] => row.trim().replace(/^\|/, '').replace(/\|$/, '').split(/(?<!\\)\|/).map((c) => c.trim());
const tableRows = (md: string, header: string): string[] => {
  const lines = md.split('\n');
  const i = lines.indexOf(header);
  assert.ok(i >= 0, `table ${header}`);
  assert.match(lines[i + 1]!, /^\|(---\|)+$/);
  const rows: string[] = [];
  for (let j = i + 2; j < lines.length && lines[j]!.startsWith('|'); j++) rows.push(lines[j]!);
  return rows;
};
/** Bodies of the fenced blocks with this info string. */
const fencedBlocks = (md: string, lang: string): string[] =>
  [...md.matchAll(new RegExp(`^(\`{3,})${lang}\\n([\\s\\S]*?)\\n\\1$`, 'gm'))].map((m) => m[2]!);

test('report (md): summary numbers, tables and evidence agree with analyze --json on the real capture', () => {
  withCapture((db) => {
    const r = analyze(db);
    const run = runCli(['report', '--db', db]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
    const md = run.stdout;
    const headings = [...md.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    assert.deepEqual(headings, ['Verdict', 'Summary', 'Incident', 'Timeline', 'Refused writes', 'Key churn', 'Growth', 'Quota projection',
      'Hindsight: would the etcd mixin alerts have fired?', 'Recommendations', 'Assumptions']);

    const summary = section(md, 'Summary').trim().split('\n').slice(1).join('\n').trim();
    assert.ok(!summary.includes('\n'), 'the summary is one paragraph');
    for (const v of [r.incident.nospaceAt!, r.incident.revisionAtNospace!, r.incident.dbSizeAtNospace!, r.projection.quotaBytes,
      r.growth.revisionsPerHour!, r.growth.bytesPerRevision!, r.projection.etaAt!, r.projection.etaLow!, r.projection.etaHigh!, r.incident.recoveredAt!]) {
      assert.ok(summary.includes(String(v)), `summary has ${v}: ${summary}`);
    }
    assert.equal(r.churn.top, '/service/pg_demo/members/*');
    assert.ok(summary.includes(text(r.churn.top)), 'summary names the top churning group');
    assert.match(summary, /no compaction is recorded before the alarm/);

    const incident = tableRows(md, '| fact | value |');
    assert.ok(incident.includes(`| NOSPACE at | ${text(r.incident.nospaceAt)} |`));
    assert.ok(incident.includes(`| revision at NOSPACE | ${r.incident.revisionAtNospace} |`));
    assert.equal(tableRows(md, '| at | member | event | count | summary | source |').length, r.timeline.length);
    const keys = tableRows(md, '| key | group | revisions | per hour | share | evidence |');
    assert.equal(keys.length, r.churn.keys.length);
    keys.forEach((row, i) => {
      const c = cells(row);
      assert.equal(c.length, 6, row);
      assert.equal(c[0], `\`${r.churn.keys[i]!.key}\``);
      assert.equal(c[2], String(r.churn.keys[i]!.revisions));
    });
    assert.equal(tableRows(md, '| key group | rule | keys | revisions | per hour | share | evidence |').length, r.churn.groups.length);
    const growth = tableRows(md, '| measure | value |');
    assert.ok(growth.includes(`| bytes per revision | ${r.growth.bytesPerRevision} |`));
    assert.ok(growth.includes(`| revisions per hour | ${r.growth.revisionsPerHour} |`));
    const projection = section(md, 'Quota projection');
    assert.ok(projection.includes(`| 95% interval | ${r.projection.etaLow} … ${r.projection.etaHigh} |`));

    // Flags, YAML and commands are copy-paste ready in fenced blocks.
    const sh = fencedBlocks(md, 'sh').join('\n');
    const yaml = fencedBlocks(md, 'yaml');
    for (const rec of r.recommendations) {
      for (const f of rec.etcdFlags) assert.ok(sh.includes(f), `flag ${f} in a sh block`);
      for (const c of rec.commands) assert.ok(sh.includes(c), `command ${c} in a sh block`);
      if (rec.configYaml) assert.ok(yaml.includes(rec.configYaml), `${rec.id} YAML verbatim in a yaml block`);
    }
    assert.ok(sh.includes('--auto-compaction-mode=periodic'));

    // Every Evidence object of the report is shown with its source, completeness and detail.
    const all = [...r.incident.evidence, ...r.churn.evidence, ...r.churn.groups.map((g) => g.evidence), ...r.churn.keys.map((k) => k.evidence),
      ...r.growth.evidence, r.projection.quotaSource, ...r.projection.evidence];
    for (const e of all) assert.ok(md.includes(`- **${text(e.source)}** (${text(e.completeness)}): ${text(e.detail)}`), e.detail);
    for (const a of r.assumptions) assert.ok(md.includes(`- ${text(a)}`), a);
  });
});

test('report: -o writes the same document; --format html is one self-contained page; bad --format is a usage error', () => {
  withCapture((db, dir) => {
    const md = runCli(['report', '--db', db]).stdout;
    const out = join(dir, 'r.md');
    const w = runCli(['report', '--db', db, '-o', out]);
    assert.equal(w.code, 0, w.stderr);
    assert.equal(w.stdout, '');
    assert.equal(readFileSync(out, 'utf8'), md);
    const html = runCli(['report', '--db', db, '--format', 'html']);
    assert.equal(html.code, 0, html.stderr);
    assert.match(html.stdout, /^<!DOCTYPE html>/);
    assert.doesNotMatch(html.stdout, /<script|<link|@import|url\(|https?:\/\/(?!127\.0\.0\.1)(?!www\.w3\.org\/2000\/svg)/);
    const bad = runCli(['report', '--db', db, '--format', 'pdf']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--format pdf: expected html or md/);
  });
});

test('report: hostile keys and member names cannot break a Markdown table or reach the HTML unescaped', () => {
  withCapture((db) => {
    const r = analyze(db);
    const hostile = 'a|b`c<img src=x onerror=alert(1)>&"\'\n';
    const base = r.churn.keys[0]!;
    r.churn.keys.unshift({ ...base, key: hostile, group: `g|${hostile}` });
    r.growth.members[0]!.member = hostile;
    r.timeline[0]!.summary = hostile;
    const md = renderMarkdown(r);
    const row = md.split('\n').find((l) => l.includes('onerror') && l.startsWith('| ``'))!;
    assert.ok(row, 'the hostile key has a row');
    assert.equal(cells(row).length, 6, row);
    assert.equal(cells(row)[0], '``a\\|b`c<img src=x onerror=alert(1)>&"\' ``');
    const tl = md.split('\n').find((l) => l.includes('alert(1)') && l.includes('etcd.'))!;
    assert.equal(cells(tl).length, 6, tl);
    assert.ok(tl.includes('a\\|b\\`c\\<img src=x onerror=alert(1)\\>\\&"\''), tl);
    const html = renderHtml(r);
    assert.ok(!html.includes('<img'), 'no raw <img in the HTML');
    assert.ok(html.includes('a|b`c&lt;img src=x onerror=alert(1)&gt;&amp;&quot;&#39;'));
  });
});

test('ingest: a progress bar on stderr only when stderr is a terminal', () => {
  const { dir, cleanup } = tempDir();
  try {
    const piped = runCli(['ingest', '--db', join(dir, 'a.db'), '--tz', 'Asia/Shanghai', CAPTURE[0]!]);
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.stderr, '', 'nothing but the report when piped');
    // script(1) gives the child a pseudo-terminal, as an engineer's shell would.
    assert.ok(statSync('/usr/bin/script').isFile(), 'script(1) (bsdutils) is needed for the TTY test');
    const cmd = `${process.execPath} ${BIN} ingest --db ${join(dir, 'b.db')} --tz Asia/Shanghai ${CAPTURE[0]}`;
    const tty = spawnSync('/usr/bin/script', ['-qec', cmd, '/dev/null'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, COLUMNS: '120' } });
    assert.equal(tty.status, 0, tty.stderr);
    assert.match(tty.stdout, /etcd-zap\.log \[.*\] \d+% \| [\d.]+\/[\d.]+ MB/, 'the bar is drawn on the terminal');
    assert.match(tty.stdout, /etcd-log, 566 records/);
  } finally {
    cleanup();
  }
});

test('html: without status samples the revisions chart shows revisions per hour by key group', () => {
  withCapture((db) => {
    const r = analyze(db);
    r.growth.members = [];
    const html = renderHtml(r);
    assert.ok(!html.includes('data-chart="db-size"'));
    const groups = r.churn.groups.filter((g) => g.perHour !== null).length;
    assert.ok(groups > 0);
    assert.ok(html.includes(`<svg data-chart="revisions" data-points="${groups}"`));
    assert.equal(html.match(/<rect data-point/g)?.length, groups);
    for (const g of r.churn.groups) assert.ok(html.includes(escapeHtml(g.group)));
  });
});

test('report: a snapshot read directly adds its page accounting (in use and free) to Markdown and HTML', () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = join(dir, 's.db');
    // The snapshot taken after recovery has free pages; the one at NOSPACE has almost none.
    const ing = runCli(['ingest', '--db', db, '--tz', 'Asia/Shanghai', join(E34, 'snapshot-nospace.db'), join(E34, 'snapshot-recovered.db'),
      join(E34, 'status-samples.log')]);
    assert.equal(ing.code, 0, ing.stderr);
    const snaps = (JSON.parse(runCli(['snapshot', '--db', db, '--json']).stdout) as { snapshots: { path: string; freePages: number; dbSizeInUseBytes: number }[] }).snapshots;
    assert.equal(snaps.length, 2);
    const md = runCli(['report', '--db', db, '--format', 'md']).stdout;
    const rows = tableRows(section(md, 'Snapshot page accounting'), '| file | DB size | in use | free pages | key revisions | findings |');
    assert.equal(rows.length, 2);
    for (const s of snaps) assert.ok(rows.some((r) => r.includes(s.path.split('/').pop()!) && cells(r)[3]!.startsWith(`${s.freePages} (`)), s.path);
    const html = runCli(['report', '--db', db, '--format', 'html']).stdout;
    assert.match(html, /<svg data-chart="page-accounting" data-points="4"/);
  } finally {
    cleanup();
  }
});
