// Issue 6: the HTML report opened in real headless Chromium (Debian's /usr/bin/chromium via
// playwright-core). On the real etcd 3.4.23 capture: no console errors, no request but the page itself,
// one chart point per status sample per member, readable on a phone and printed. Against a real etcd:
// a key named `<img src=x onerror=alert(1)>` that etcd itself logged shows as text and runs nothing.
// Nothing here skips: a missing chromium or etcd fails the test with what to install.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { runCli, tempDir, FIXTURES } from './helpers/cli.js';
import { startEtcd, etcdctl, gateway, ETCD_BIN, ETCDCTL_BIN } from './helpers/etcd-server.js';

const CHROMIUM = process.env['CHROMIUM_BIN'] ?? '/usr/bin/chromium';
const E34 = join(FIXTURES, 'etcd-3.4');
const XSS_KEY = '<img src=x onerror=alert(1)>';
/** Screenshots go here; set REPORT_SHOTS_DIR to keep them for a look. */
const SHOTS = process.env['REPORT_SHOTS_DIR'] ?? mkdtempSync(join(tmpdir(), 'ef-report-shots-'));

let browser: Browser;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} not found: install Debian's chromium (npm test's pretest does: scripts/ensure-test-deps.sh)`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  if (!process.env['REPORT_SHOTS_DIR']) rmSync(SHOTS, { recursive: true, force: true });
});

interface Opened { page: Page; url: string; errors: string[]; requests: string[]; dialogs: string[] }

async function open(htmlFile: string, viewport = { width: 1100, height: 900 }): Promise<Opened> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const o: Opened = { page, url: pathToFileURL(htmlFile).href, errors: [], requests: [], dialogs: [] };
  page.on('console', (m) => { if (m.type() === 'error') o.errors.push(m.text()); });
  page.on('pageerror', (e) => o.errors.push(String(e)));
  page.on('request', (r) => o.requests.push(r.url()));
  page.on('dialog', (d) => { o.dialogs.push(`${d.type()}: ${d.message()}`); void d.dismiss(); });
  await page.goto(o.url, { waitUntil: 'load' });
  return o;
}

function htmlReport(db: string, dir: string, name: string): string {
  const out = join(dir, name);
  const r = runCli(['report', '--db', db, '--format', 'html', '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  return out;
}

const isPng = (file: string): boolean => statSync(file).size > 1000 && readFileSync(file).subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));

test('html report of the real capture in Chromium: no errors, no network, one point per status sample per member', { timeout: 120_000 }, async () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = join(dir, 's.db');
    const ing = runCli(['ingest', '--db', db, '--tz', 'Asia/Shanghai',
      join(E34, 'etcd-zap.log'), join(E34, 'etcd-capnslog.log'), join(E34, 'status-samples.log'),
      join(E34, 'snapshot-status-nospace.table.txt'), join(E34, 'snapshot-status-recovered.table.txt')]);
    assert.equal(ing.code, 0, ing.stderr);
    const snapshots = (JSON.parse(runCli(['query', '--db', db, '--json', 'SELECT count(*) AS n FROM snapshot_status']).stdout) as { n: number }[])[0]!.n;
    assert.equal(snapshots, 2);
    const q = runCli(['query', '--db', db, '--json', 'SELECT member_id AS m, count(*) AS n FROM status_samples GROUP BY member_id ORDER BY member_id']);
    assert.equal(q.code, 0, q.stderr);
    const perMember = JSON.parse(q.stdout) as { m: string; n: number }[];
    assert.equal(perMember.length, 2);
    const total = perMember.reduce((s, x) => s + x.n, 0);

    const o = await open(htmlReport(db, dir, 'capture.html'));
    assert.deepEqual(o.errors, []);
    assert.deepEqual(o.requests, [o.url], 'the page loads nothing but itself');
    for (const chart of ['db-size', 'revisions']) {
      const seen = await o.page.evaluate((id) => {
        const svg = document.querySelector(`svg[data-chart="${id}"]`);
        if (!svg) return null;
        return {
          declared: Number(svg.getAttribute('data-points')), drawn: svg.querySelectorAll('circle[data-point]').length,
          series: Array.from(svg.querySelectorAll('g[data-series]')).map((g) => ({ m: g.getAttribute('data-series'), n: g.querySelectorAll('circle[data-point]').length }))
            .sort((a, b) => String(a.m).localeCompare(String(b.m))),
        };
      }, chart);
      assert.ok(seen, `chart ${chart} present`);
      assert.equal(seen.drawn, total, `${chart}: one point per status sample`);
      assert.equal(seen.declared, total);
      assert.deepEqual(seen.series, perMember, `${chart}: points per member equal samples per member in the store`);
    }
    const bars = await o.page.evaluate(() => {
      const svg = document.querySelector('svg[data-chart="snapshot-pages"]');
      return svg ? { declared: Number(svg.getAttribute('data-points')), drawn: svg.querySelectorAll('rect[data-point]').length } : null;
    });
    assert.deepEqual(bars, { declared: snapshots, drawn: snapshots }, 'one bar per snapshot status reading');
    const sizeChart = await o.page.evaluate(() => {
      const svg = document.querySelector('svg[data-chart="db-size"]')!;
      const ticks = Array.from(svg.querySelectorAll('text.tick')).map((t) => t.textContent);
      return { quota: svg.querySelectorAll('line.quota').length, band: svg.querySelectorAll('polygon.band').length, proj: svg.querySelectorAll('line.proj').length, ticks };
    });
    assert.equal(sizeChart.quota, 1, 'the quota line');
    assert.equal(sizeChart.proj, 1, 'the projection line');
    assert.equal(sizeChart.band, 1, 'the projection interval band');
    assert.ok(sizeChart.ticks.includes('23:28'), `UTC time ticks: ${sizeChart.ticks.join(', ')}`); // NOSPACE at 23:28:37Z
    const text = await o.page.evaluate(() => document.body.innerText);
    assert.ok(text.includes('2026-11-23T23:28:37.797Z'), 'the NOSPACE time');
    assert.ok(text.includes('/service/pg_demo/members/*'), 'the top churning group');

    const shot = join(SHOTS, 'capture-desktop.png');
    await o.page.screenshot({ path: shot, fullPage: true });
    assert.ok(isPng(shot), `${shot} is a non-empty PNG`);

    // A phone: the page itself does not scroll sideways (wide tables scroll in their own box).
    const phone = await open(join(dir, 'capture.html'), { width: 390, height: 844 });
    const widths = await phone.page.evaluate(() => ({ page: document.documentElement.scrollWidth, view: window.innerWidth,
      svg: document.querySelector('svg[data-chart="db-size"]')!.getBoundingClientRect().width }));
    assert.ok(widths.page <= widths.view, `no horizontal page scroll on a phone: ${JSON.stringify(widths)}`);
    assert.ok(widths.svg <= widths.view && widths.svg > 300, `the chart fits the phone: ${JSON.stringify(widths)}`);
    await phone.page.screenshot({ path: join(SHOTS, 'capture-phone.png') });
    assert.ok(isPng(join(SHOTS, 'capture-phone.png')));
    // Printed: the charts stay, and Chromium makes a PDF of it.
    await phone.page.emulateMedia({ media: 'print' });
    assert.equal(await phone.page.locator('svg[data-chart]').count(), 3);
    assert.ok(await phone.page.locator('svg[data-chart="db-size"]').isVisible());
    const pdf = await o.page.pdf({ format: 'A4' });
    assert.ok(pdf.subarray(0, 5).toString() === '%PDF-' && pdf.length > 10_000, 'a printed PDF');
    await o.page.context().close();
    await phone.page.context().close();
  } finally {
    cleanup();
  }
});

test('a key named <img src=x onerror=alert(1)>, logged by a real etcd, is text in the HTML report and runs nothing', { timeout: 180_000 }, async () => {
  assert.ok(existsSync(ETCD_BIN) && existsSync(ETCDCTL_BIN), `${ETCD_BIN} / ${ETCDCTL_BIN} not found: install etcd-server and etcd-client (npm test's pretest does)`);
  const { dir, cleanup } = tempDir();
  const etcd = await startEtcd({ quotaBytes: 1024 * 1024 });
  try {
    // Fill the 1 MiB quota until etcd raises NOSPACE, then compact and defragment: the small backend
    // passes the API-level quota check while the alarm is still set, so the next put reaches apply and
    // etcd logs it: "failed to apply request" ... put:<key:"<img src=x onerror=alert(1)>" ... "etcdserver: no space".
    const value = Buffer.alloc(64 * 1024, 'x').toString('base64');
    let filled = false;
    for (let i = 0; i < 200 && !filled; i++) {
      try {
        await gateway(etcd, 'kv/put', { key: Buffer.from('/fill').toString('base64'), value });
      } catch (e) {
        assert.match(String(e), /database space exceeded/);
        filled = true;
      }
    }
    assert.ok(filled, 'etcd reached its quota');
    assert.match(etcdctl(etcd, ['alarm', 'list']), /alarm:NOSPACE/);
    const status = JSON.parse(etcdctl(etcd, ['endpoint', 'status', '-w', 'json'])) as { Status: { header: { revision: number } } }[];
    etcdctl(etcd, ['compact', String(status[0]!.Status.header.revision)]);
    etcdctl(etcd, ['defrag']);
    assert.throws(() => etcdctl(etcd, ['put', XSS_KEY, 'v']), /no space|space exceeded/);
    await etcd.stopProcess();
    const log = readFileSync(etcd.logFile, 'utf8');
    assert.ok(log.includes('put:<key:\\"<img src=x onerror=alert(1)>\\"'), 'etcd logged the key');

    const db = join(dir, 'x.db');
    const ing = runCli(['ingest', '--db', db, etcd.logFile]);
    assert.equal(ing.code, 0, ing.stderr);
    const keys = JSON.parse(runCli(['query', '--db', db, '--json', 'SELECT DISTINCT key FROM etcd_requests ORDER BY key']).stdout) as { key: string }[];
    assert.ok(keys.some((k) => k.key === XSS_KEY), `the key is in the store: ${JSON.stringify(keys)}`);

    const md = runCli(['report', '--db', db]);
    assert.equal(md.code, 0, md.stderr);
    assert.ok(md.stdout.includes(`| \`${XSS_KEY}\` |`), 'Markdown shows the key in a code span');
    const o = await open(htmlReport(db, dir, 'xss.html'));
    await o.page.waitForTimeout(300);
    const seen = await o.page.evaluate(() => ({
      text: document.body.innerText, imgs: document.querySelectorAll('img').length, handlers: document.querySelectorAll('[onerror]').length,
    }));
    assert.ok(seen.text.includes(XSS_KEY), 'the key shows literally as text');
    assert.equal(seen.imgs, 0, 'no <img> element came from the key');
    assert.equal(seen.handlers, 0, 'no element has an onerror attribute');
    assert.deepEqual(o.dialogs, [], 'no dialog fired');
    assert.deepEqual(o.errors, []);
    assert.deepEqual(o.requests, [o.url], 'no request for "x"');
    await o.page.screenshot({ path: join(SHOTS, 'xss.png'), fullPage: true });
    assert.ok(isPng(join(SHOTS, 'xss.png')));
    await o.page.context().close();
  } finally {
    await etcd.stop();
    cleanup();
  }
});
