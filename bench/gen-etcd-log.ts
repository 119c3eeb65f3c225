// Generates a large etcd 3.4 zap log for the ingest benchmark by replaying REAL lines of
// test/fixtures/etcd-3.4/etcd-zap.log (captured from etcd 3.4.23, see that directory's README) with new
// timestamps and varied keys/ids, so that every line differs but every line is one etcd really printed.
//
//   node --import tsx bench/gen-etcd-log.ts mixed   [/tmp/etcd-bench-mixed.log]   [bytes]
//   node --import tsx bench/gen-etcd-log.ts nospace [/tmp/etcd-bench-nospace.log] [bytes]
//
// Variants (one "cycle" = a block of fixture lines replayed in their captured order):
//   mixed   — the fixture WITHOUT its contiguous NOSPACE burst (fixture lines 114–320, 207 consecutive
//             `failed to apply request` lines): start-up, raft, trace, snapshot, the 2 real `apply request
//             took too long` lines, the first failed applies with `message exceeded backend quota`, alarm,
//             compaction, defrag, grpc WARNING lines, shutdown — 145 lines, mostly info.
//   nospace — the whole fixture with the burst replayed 10× per cycle (as in the seed incident, where
//             the log is almost nothing but `failed to apply request`): 2215 lines, ~94% failed applies.
// Variation per line: `ts` (monotonic, 1–9 ms apart), the Patroni scope (`/service/pg_demo` →
// `/service/pg_demo<n>`, n = cycle mod 64), request header IDs, lease ids, trace ids and `took`.
import { readFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('../test/fixtures/etcd-3.4/etcd-zap.log', import.meta.url));
const BURST_FIRST = 114; // 1-based fixture line numbers of the contiguous NOSPACE burst
const BURST_LAST = 320;

type Variant = 'mixed' | 'nospace';

function cycleLines(all: string[], variant: Variant): string[] {
  const before = all.slice(0, BURST_FIRST - 1);
  const burst = all.slice(BURST_FIRST - 1, BURST_LAST);
  const after = all.slice(BURST_LAST);
  if (variant === 'mixed') return [...before, ...after];
  const out = [...before];
  for (let i = 0; i < 10; i++) out.push(...burst);
  return [...out, ...after];
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Local Asia/Shanghai wall time as zap prints it (`2026-11-24T07:28:37.791+0800`), from UTC ms. */
function zapTs(ms: number): string {
  const d = new Date(ms + 8 * 3600_000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:`
    + `${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}+0800`;
}

/** grpc-go's std logger time (`2026/11/24 07:28:58`), local. */
function grpcTs(ms: number): string {
  const d = new Date(ms + 8 * 3600_000);
  return `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:`
    + `${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

// Small deterministic PRNG (mulberry32) so that runs generate the same bytes.
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ZAP_TS_RE = /"ts":"[^"]*"/;
const GRPC_TS_RE = /^(WARNING|INFO|ERROR): \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d/;
const SCOPE_RE = /\/service\/pg_demo\//g;
const ID_RE = /ID:(\d+)/g;
const LEASE_RE = /lease:(\d+)/g;
const TRACE_RE = /trace\[\d+\]/;
const TOOK_RE = /"took":"(\d+)\.(\d+)(µs|ms)"/;

function varyLine(line: string, ms: number, cycle: number, seq: number, rand: () => number): string {
  let s = line;
  if (s.startsWith('{')) s = s.replace(ZAP_TS_RE, `"ts":"${zapTs(ms)}"`);
  else s = s.replace(GRPC_TS_RE, (_m, lvl: string) => `${lvl}: ${grpcTs(ms)}`);
  if (s.includes('/service/pg_demo/')) s = s.replace(SCOPE_RE, `/service/pg_demo${cycle % 64}/`);
  if (s.includes('ID:')) s = s.replace(ID_RE, () => `ID:${8754331417662000000n + BigInt(seq)}`);
  if (s.includes('lease:')) s = s.replace(LEASE_RE, () => `lease:${1148033122010294000n + BigInt(cycle % 1000)}`);
  if (s.includes('trace[')) s = s.replace(TRACE_RE, `trace[${Math.floor(rand() * 2 ** 31)}]`);
  s = s.replace(TOOK_RE, (_m, _i: string, _f: string, unit: string) =>
    `"took":"${Math.floor(rand() * 900) + 1}.${Math.floor(rand() * 1000)}${unit}"`);
  return s;
}

function main(): void {
  const variant = (process.argv[2] ?? 'mixed') as Variant;
  if (variant !== 'mixed' && variant !== 'nospace') throw new Error(`variant: mixed | nospace, not ${variant}`);
  const out = process.argv[3] ?? `/tmp/etcd-bench-${variant}.log`;
  const target = Number(process.argv[4] ?? 1_000_000_000);
  const all = readFileSync(FIXTURE, 'utf8').split('\n').filter((l) => l !== '');
  const cycle = cycleLines(all, variant);
  const rand = rng(variant === 'mixed' ? 1 : 2);
  const fd = openSync(out, 'w');
  let ms = Date.UTC(2026, 10, 23, 23, 26, 49);
  let written = 0;
  let lines = 0;
  let buf: string[] = [];
  let bufChars = 0;
  const counts = new Map<string, number>();
  for (let c = 0; written < target; c++) {
    for (const l of cycle) {
      ms += 1 + Math.floor(rand() * 9);
      const v = varyLine(l, ms, c, lines, rand);
      buf.push(v);
      bufChars += v.length + 1;
      lines++;
      if (c === 0) {
        const k = /"msg":"(failed to apply request|apply request took too long)"/.exec(l)?.[1] ?? 'other';
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      if (bufChars >= 4 << 20) {
        written += writeSync(fd, buf.join('\n') + '\n');
        buf = [];
        bufChars = 0;
        if (written >= target) break;
      }
    }
  }
  if (buf.length) written += writeSync(fd, buf.join('\n') + '\n');
  closeSync(fd);
  const mix = [...counts].map(([k, n]) => `${k}: ${n} (${((100 * n) / cycle.length).toFixed(1)}%)`).join(', ');
  process.stdout.write(`${out}: ${written} bytes, ${lines} lines; per cycle of ${cycle.length} lines: ${mix}\n`);
}

main();
