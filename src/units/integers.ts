// Integers read from text, checked against the field they fill. etcd's revisions, indexes and sizes are
// int64 and its member, cluster and lease ids uint64; we keep the first as JS numbers (exact to 2^53-1)
// and the ids as decimal or hex text. A value outside that (revision 9007199254740993, a member id of
// 18446744073709551616 or -1, a size printed as 1.8e22) is not rounded, stored as a float or turned into
// NULL: the parser reports the line as skipped, naming the field. Parsers call these at their boundary
// and turn NumberRangeError into an issue (it never leaves a parser).

const MAX_UINT64 = 2n ** 64n - 1n;
const NUMBER_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

export class NumberRangeError extends Error {
  constructor(readonly field: string, readonly text: string, readonly why: string) {
    super(`${field} ${text.length > 40 ? `${text.slice(0, 40)}…` : text} ${why}`);
    this.name = 'NumberRangeError';
  }
}

/** Why `text` cannot fill an integer field of `kind`, or null when it can. */
export function integerProblem(text: string, kind: 'count' | 'signed' | 'uint64'): string | null {
  if (!/^-?\d+$/.test(text)) return NUMBER_RE.test(text) ? 'is not an integer' : 'is not a number';
  const v = BigInt(text);
  if (v < 0n && kind !== 'signed') return kind === 'uint64' ? 'is negative; the field is an unsigned 64-bit id' : 'is negative';
  if (kind === 'uint64') return v > MAX_UINT64 ? 'is beyond 2^64-1, the largest 64-bit id' : null;
  const abs = v < 0n ? -v : v;
  return abs > BigInt(Number.MAX_SAFE_INTEGER) ? 'is beyond 2^53-1 and cannot be kept exactly' : null;
}

/** A count, size, revision or index (≥ 0, exact); throws NumberRangeError naming `field`. */
export function countFromText(text: string, field: string): number {
  const why = integerProblem(text, 'count');
  if (why !== null) throw new NumberRangeError(field, text, why);
  return Number(text);
}

/** A signed exact integer (a size difference); throws NumberRangeError naming `field`. */
export function signedFromText(text: string, field: string): number {
  const why = integerProblem(text, 'signed');
  if (why !== null) throw new NumberRangeError(field, text, why);
  return Number(text);
}

/** A uint64 id as decimal text, unchanged; throws NumberRangeError naming `field`. */
export function uint64FromText(text: string, field: string): string {
  const why = integerProblem(text, 'uint64');
  if (why !== null) throw new NumberRangeError(field, text, why);
  return text.replace(/^0+(?=\d)/, '');
}

/** A uint64 id → lowercase hex without padding (as etcdctl tables print ids); throws like uint64FromText. */
export function hexFromUint64Text(text: string, field: string): string {
  return BigInt(uint64FromText(text, field)).toString(16);
}
