// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the hash `etcdctl snapshot status` prints
// (Go: crc32.New(crc32.MakeTable(crc32.Castagnoli))). Slicing-by-8 over Int32Array tables (signed
// values keep V8 on small-integer paths: ~1 GB/s warm here, 3x an Uint32Array + `>>> 0` version),
// because a snapshot's HASH covers every byte of every bucket entry.

const POLY = 0x82f63b78;

function makeTables(): Int32Array {
  const t = new Int32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n] as number;
    for (let k = 1; k < 8; k++) {
      c = (t[c & 0xff] as number) ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
}

const TABLES = makeTables();
const T0 = TABLES.subarray(0, 256);
const T1 = TABLES.subarray(256, 512);
const T2 = TABLES.subarray(512, 768);
const T3 = TABLES.subarray(768, 1024);
const T4 = TABLES.subarray(1024, 1280);
const T5 = TABLES.subarray(1280, 1536);
const T6 = TABLES.subarray(1536, 1792);
const T7 = TABLES.subarray(1792, 2048);

/** Continue a CRC-32C over bytes[start, end). Pass 0 to begin; the result is the finished CRC. */
export function updateCrc32c(crc: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = ~crc;
  let i = start;
  const last8 = end - 7;
  while (i < last8) {
    c ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    c =
      T7[c & 0xff]! ^ T6[(c >>> 8) & 0xff]! ^ T5[(c >>> 16) & 0xff]! ^ T4[c >>> 24]! ^
      T3[bytes[i + 4]!]! ^ T2[bytes[i + 5]!]! ^ T1[bytes[i + 6]!]! ^ T0[bytes[i + 7]!]!;
    i += 8;
  }
  while (i < end) c = T0[(c ^ bytes[i++]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC-32C of a whole buffer. */
export function crc32c(bytes: Uint8Array): number {
  return updateCrc32c(0, bytes);
}
