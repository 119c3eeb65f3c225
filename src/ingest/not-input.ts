// Files met while walking an incident folder that plainly hold nothing we read: set aside with a reason
// ("not read: …") instead of failing the run. Prose without one recognised line is found later, by
// detection (produce.ts raises NotAnInputError); here only what the name or first bytes already say.
import { extname } from 'node:path';

/** Configuration files: Patroni's, etcd's, systemd units' and the like. */
const CONFIG_EXTENSIONS = new Set(['.yml', '.yaml', '.conf', '.ini', '.toml', '.cfg']);

/** File signatures of images and archives that are never a log (bbolt is checked before this). */
const MAGIC: [string, number[]][] = [
  ['a PNG image', [0x89, 0x50, 0x4e, 0x47]],
  ['a JPEG image', [0xff, 0xd8, 0xff]],
  ['a GIF image', [0x47, 0x49, 0x46, 0x38]],
  ['a PDF document', [0x25, 0x50, 0x44, 0x46]],
  ['a zip archive', [0x50, 0x4b, 0x03, 0x04]],
];

/** Why a file is not an input, or null when it may be one. `head`: its first bytes (null for a .gz). */
export function notAnInputByName(path: string, sizeBytes: number, head: Buffer | null): string | null {
  if (sizeBytes === 0) return 'empty file';
  if (CONFIG_EXTENSIONS.has(extname(path).toLowerCase())) return 'a configuration file';
  if (head === null) return null;
  for (const [what, sig] of MAGIC) if (sig.every((b, i) => head[i] === b)) return `${what}, not a log or snapshot`;
  if (head.includes(0)) return 'binary data, not a log or etcd snapshot';
  return null;
}
