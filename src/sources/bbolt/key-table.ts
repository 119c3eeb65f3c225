// A table keyed by byte ranges: finds the entry for an etcd key without decoding it to a string
// first. Per-key aggregation over millions of rows was dominated by Buffer→string decoding and
// string hashing; here a row costs an FNV-1a hash and one byte comparison, and the key is decoded
// once, when first seen. (Buffer.compare/equals on subarrays would allocate a view per row.)
import { decodeUtf8Visible } from '../../units/bytes-text.js';

interface Slot<T> {
  bytes: Buffer;
  value: T;
}

export class KeyTable<T> {
  private readonly slots = new Map<number, Slot<T> | Slot<T>[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The entry for buf[start, end), created with make(key) (key decoded as UTF-8, invalid bytes as `\xNN`) when new. */
  lookup(buf: Buffer, start: number, end: number, make: (key: string) => T): T {
    // FNV-1a-style mixing, four bytes a step (not FNV's exact value; only needs to spread keys).
    let h = 0x811c9dc5 ^ (end - start);
    let i = start;
    for (; i + 4 <= end; i += 4) {
      h = Math.imul(h ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24)), 0x01000193);
      h ^= h >>> 15;
    }
    for (; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    // Keep the key a small integer (Smi, 31 bits): larger numbers are heap-allocated doubles, and
    // Map lookups with them cost an allocation and a slower hash each time.
    h &= 0x3fffffff;
    const found = this.slots.get(h);
    if (found !== undefined) {
      if (!Array.isArray(found)) {
        if (sameBytes(found.bytes, buf, start, end)) return found.value;
      } else {
        for (const slot of found) if (sameBytes(slot.bytes, buf, start, end)) return slot.value;
      }
    }
    const slot: Slot<T> = { bytes: Buffer.from(buf.subarray(start, end)), value: make(decodeUtf8Visible(buf, start, end)) };
    if (found === undefined) this.slots.set(h, slot);
    else if (Array.isArray(found)) found.push(slot);
    else this.slots.set(h, [found, slot]);
    this.count++;
    return slot.value;
  }

  *values(): IterableIterator<T> {
    for (const found of this.slots.values()) {
      if (Array.isArray(found)) for (const slot of found) yield slot.value;
      else yield found.value;
    }
  }
}

function sameBytes(a: Buffer, buf: Buffer, start: number, end: number): boolean {
  if (a.length !== end - start) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== buf[start + i]) return false;
  return true;
}
