// Inline SVG charts for the HTML report: no scripts, no fonts, no network. Every point drawn is a
// `<circle data-point>` and every chart says how many it drew (`data-points`), so tests can count
// them against the store. Every text or attribute value that comes from the data goes through
// escapeHtml(): etcd keys and member names may contain `<`, `&` and quotes.
import { safeText } from './terminal-safe.js';

export function escapeHtml(value: string | number | null | undefined): string {
  // Control characters first become visible text (\x1b, \r): a page is also read with cat and less.
  return safeText(String(value ?? ''))
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

export interface ChartPoint { t: number; v: number }
export interface ChartSeries { name: string; points: ChartPoint[] }
export interface LineChartSpec {
  id: string;
  title: string;
  series: ChartSeries[];
  formatY: (v: number) => string;
  /** Horizontal reference lines, e.g. the quota. */
  hLines?: { value: number; label: string }[];
  /** A straight projection from `from` to `to`, with an interval band ending at `low`..`high` (same value as `to`). */
  projection?: { from: ChartPoint; to: ChartPoint; low: number | null; high: number | null };
}

const W = 720;
const H = 320;
const M = { top: 16, right: 16, bottom: 40, left: 76 };
// No red: red is the quota line.
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#17becf', '#8c564b', '#e377c2', '#7f7f7f'];
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800]
  .map((s) => s * 1000);

/** Tick times at a round UTC step, about `count` of them. */
export function timeTicks(min: number, max: number, count = 6): { ticks: number[]; step: number } {
  const span = Math.max(max - min, 1000);
  const step = TIME_STEPS.find((s) => span / s <= count) ?? Math.ceil(span / count / 86_400_000) * 86_400_000;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max; t += step) ticks.push(t);
  return { ticks, step };
}

export function formatTimeTick(t: number, step: number, span: number): string {
  const iso = new Date(t).toISOString(); // 2026-11-23T23:28:37.797Z
  if (span >= 2 * 86_400_000) return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
  return step < 60_000 ? iso.slice(11, 19) : iso.slice(11, 16);
}

function valueTicks(max: number, count = 5): number[] {
  if (max <= 0) return [0];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const out: number[] = [];
  const top = Math.ceil(max / step - 1e-9) * step; // the top tick is at or above the largest value
  for (let i = 0; i * step <= top + step / 1e6; i++) out.push(i * step);
  return out;
}

const fmt = (n: number): string => (Math.round(n * 10) / 10).toString();

export function renderLineChart(spec: LineChartSpec): string {
  const all = spec.series.flatMap((s) => s.points);
  const p = spec.projection;
  const ts = [...all.map((x) => x.t), ...(p ? [p.from.t, p.to.t, p.low ?? p.to.t, p.high ?? p.to.t] : [])];
  const vs = [...all.map((x) => x.v), ...(spec.hLines ?? []).map((h) => h.value), ...(p ? [p.to.v] : [])];
  const t0 = Math.min(...ts);
  const t1 = Math.max(...ts, t0 + 1000);
  const { ticks: tt, step } = timeTicks(t0, t1);
  const yt = valueTicks(Math.max(...vs, 1));
  const vMax = yt[yt.length - 1] ?? 1;
  const x = (t: number): number => M.left + ((t - t0) / (t1 - t0)) * (W - M.left - M.right);
  const y = (v: number): number => H - M.bottom - (v / vMax) * (H - M.top - M.bottom);
  const out: string[] = [];
  out.push(`<figure class="chart"><figcaption>${escapeHtml(spec.title)}</figcaption>`);
  out.push(`<svg data-chart="${escapeHtml(spec.id)}" data-points="${all.length}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(spec.title)}" xmlns="http://www.w3.org/2000/svg">`);
  for (const v of yt) {
    out.push(`<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${fmt(y(v))}" y2="${fmt(y(v))}"/>`);
    out.push(`<text class="tick" x="${M.left - 6}" y="${fmt(y(v) + 4)}" text-anchor="end">${escapeHtml(spec.formatY(v))}</text>`);
  }
  for (const t of tt) {
    out.push(`<line class="tickmark" x1="${fmt(x(t))}" x2="${fmt(x(t))}" y1="${H - M.bottom}" y2="${H - M.bottom + 5}"/>`);
    out.push(`<text class="tick" x="${fmt(x(t))}" y="${H - M.bottom + 18}" text-anchor="middle">${escapeHtml(formatTimeTick(t, step, t1 - t0))}</text>`);
  }
  out.push(`<line class="axis" x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}"/>`);
  out.push(`<line class="axis" x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}"/>`);
  out.push(`<text class="tick" x="${W - M.right}" y="${H - 4}" text-anchor="end">time (UTC)</text>`);
  for (const h of spec.hLines ?? []) {
    out.push(`<line class="quota" x1="${M.left}" x2="${W - M.right}" y1="${fmt(y(h.value))}" y2="${fmt(y(h.value))}"/>`);
    out.push(`<text class="quota-label" x="${W - M.right - 4}" y="${fmt(y(h.value) - 5)}" text-anchor="end">${escapeHtml(h.label)}</text>`);
  }
  if (p) out.push(renderProjection(p, x, y));
  spec.series.forEach((s, i) => out.push(renderSeries(s, COLORS[i % COLORS.length] ?? '#000', x, y)));
  out.push('</svg>');
  out.push(renderLegend(spec.series.map((s) => s.name), Boolean(p), Boolean(spec.hLines?.length)));
  out.push('</figure>');
  return out.join('\n');
}

function renderSeries(s: ChartSeries, color: string, x: (t: number) => number, y: (v: number) => number): string {
  const d = s.points.map((pt, i) => `${i === 0 ? 'M' : 'L'}${fmt(x(pt.t))},${fmt(y(pt.v))}`).join(' ');
  const dots = s.points.map((pt) =>
    `<circle data-point r="2.5" cx="${fmt(x(pt.t))}" cy="${fmt(y(pt.v))}" fill="${color}"><title>${escapeHtml(`${s.name} ${new Date(pt.t).toISOString()} ${pt.v}`)}</title></circle>`);
  return [`<g data-series="${escapeHtml(s.name)}" data-points="${s.points.length}">`,
    d ? `<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5"/>` : '', ...dots, '</g>'].join('\n');
}

function renderProjection(p: NonNullable<LineChartSpec['projection']>, x: (t: number) => number, y: (v: number) => number): string {
  const parts = ['<g class="projection">'];
  if (p.low !== null && p.high !== null) {
    const pts = [[p.from.t, p.from.v], [p.low, p.to.v], [p.high, p.to.v]].map(([t, v]) => `${fmt(x(t!))},${fmt(y(v!))}`).join(' ');
    parts.push(`<polygon class="band" points="${pts}"/>`);
  }
  parts.push(`<line class="proj" x1="${fmt(x(p.from.t))}" y1="${fmt(y(p.from.v))}" x2="${fmt(x(p.to.t))}" y2="${fmt(y(p.to.v))}"/>`);
  parts.push('</g>');
  return parts.join('\n');
}

function renderLegend(names: string[], projection: boolean, quota: boolean): string {
  const items = names.map((n, i) => `<li><span class="swatch" style="background:${COLORS[i % COLORS.length]}"></span>${escapeHtml(n)}</li>`);
  if (quota) items.push('<li><span class="swatch quota-swatch"></span>quota</li>');
  if (projection) items.push('<li><span class="swatch proj-swatch"></span>projection (band: 95% interval)</li>');
  return `<ul class="legend">${items.join('')}</ul>`;
}

export interface BarSpec { id: string; title: string; bars: { label: string; value: number; note: string }[]; formatV: (v: number) => string; refLine?: { value: number; label: string } }

/** Horizontal bars, one `<rect data-point>` per bar. */
export function renderBarChart(spec: BarSpec): string {
  const rowH = 28;
  const h = M.top + spec.bars.length * rowH + 24;
  const left = 220;
  const max = Math.max(...spec.bars.map((b) => b.value), spec.refLine?.value ?? 0, 1);
  const x = (v: number): number => left + (v / max) * (W - left - M.right - 90);
  const out = [`<figure class="chart"><figcaption>${escapeHtml(spec.title)}</figcaption>`,
    `<svg data-chart="${escapeHtml(spec.id)}" data-points="${spec.bars.length}" viewBox="0 0 ${W} ${h}" role="img" aria-label="${escapeHtml(spec.title)}" xmlns="http://www.w3.org/2000/svg">`];
  spec.bars.forEach((b, i) => {
    const top = M.top + i * rowH;
    const label = b.label.length > 34 ? `…${b.label.slice(-33)}` : b.label;
    out.push(`<text class="tick" x="${left - 6}" y="${top + 17}" text-anchor="end">${escapeHtml(label)}<title>${escapeHtml(b.label)}</title></text>`);
    out.push(`<rect data-point x="${left}" y="${top + 4}" width="${fmt(Math.max(1, x(b.value) - left))}" height="${rowH - 8}" fill="${COLORS[0]}"><title>${escapeHtml(b.note)}</title></rect>`);
    out.push(`<text class="tick" x="${fmt(x(b.value) + 4)}" y="${top + 17}">${escapeHtml(spec.formatV(b.value))}</text>`);
  });
  if (spec.refLine) {
    const rx = fmt(x(spec.refLine.value));
    out.push(`<line class="quota" x1="${rx}" x2="${rx}" y1="${M.top}" y2="${h - 20}"/>`);
    out.push(`<text class="quota-label" x="${rx}" y="${h - 6}" text-anchor="middle">${escapeHtml(spec.refLine.label)}</text>`);
  }
  out.push('</svg></figure>');
  return out.join('\n');
}
