// Sizes as etcdctl prints them: go-humanize Bytes, SI base 1000, `B kB MB GB TB PB EB`.
// `2147483648 → "2.1 GB"`; parsing back is approximate (±0.05 unit below 10, ±0.5 unit above).
const UNITS: Record<string, number> = {
  B: 1, kB: 1e3, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, PB: 1e15, EB: 1e18,
};

export interface ParsedSize {
  bytes: number;
  approx: boolean;
}

/** `2.1 GB` → {bytes: 2100000000, approx: true}; `9 B` and bare integers are exact. */
export function parseHumanSize(text: string): ParsedSize | null {
  const t = text.trim();
  if (/^\d+$/.test(t)) return { bytes: Number(t), approx: false };
  const m = /^(\d+(?:\.\d+)?) ?([kKMGTPE]?B)$/.exec(t);
  if (!m) return null;
  const unit = UNITS[m[2]!];
  if (unit === undefined) return null;
  const bytes = Math.round(Number(m[1]) * unit);
  return { bytes, approx: unit !== 1 };
}

/** go-humanize Bytes, so that figures we print read like etcdctl's. */
export function humanizeBytes(n: number): string {
  if (n < 10) return `${n} B`;
  const sizes = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  const e = Math.floor(Math.log(n) / Math.log(1000));
  const val = Math.floor((n / 1000 ** e) * 10 + 0.5) / 10;
  return val < 10 ? `${val.toFixed(1)} ${sizes[e]}` : `${val.toFixed(0)} ${sizes[e]}`;
}
