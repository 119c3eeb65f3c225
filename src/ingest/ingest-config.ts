// Ingest Patroni's YAML configuration (patroni.yml): the settings Patroni runs with — scope, namespace,
// DCS kind and hosts, loop_wait, ttl, retry_timeout, log settings — stored as rows that cite their line.
// A configuration is small: it is read whole (at most MAX_CONFIG_BYTES) and stored in one transaction.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { Db } from '../store/open.js';
import { insertSource, findSourceBySha, finishSource } from '../store/write.js';
import { looksLikePatroniConfig, parsePatroniConfig, patroniConfigSettings } from '../sources/patroni-config/index.js';
import { decodeUtf8Visible } from '../units/bytes-text.js';

export const MAX_CONFIG_BYTES = 1 << 20;

export interface ConfigIngest {
  status: 'ingested' | 'duplicate';
  records: number;
  duplicateOf?: string;
  scope: string | null;
}

/** The file's text when it is a Patroni configuration, else null. `head`: its first bytes. */
export function readPatroniConfig(path: string, sizeBytes: number, head: Buffer): string | null {
  if (sizeBytes > MAX_CONFIG_BYTES || head.includes(0)) return null;
  if (!looksLikePatroniConfig(head.toString('utf8'))) return null;
  // Bytes that are not UTF-8 (in a scope, a host) as the text \xNN, as log lines show them (ingest/lines.ts).
  const text = decodeUtf8Visible(sizeBytes <= head.length ? head : readFileSync(path));
  return parsePatroniConfig(text) ? text : null;
}

export function storePatroniConfig(db: Db, path: string, text: string, meta: { member: string | null; sizeBytes: number }): ConfigIngest {
  const sha256 = createHash('sha256').update(text).digest('hex');
  const dup = findSourceBySha(db, sha256);
  const cfg = parsePatroniConfig(text);
  if (dup) return { status: 'duplicate', records: 0, duplicateOf: dup.path, scope: cfg?.scope ?? null };
  const rows = patroniConfigSettings(text);
  db.exec('BEGIN');
  try {
    const id = insertSource(db, {
      path, sha256, kind: 'patroni-config', member: meta.member ?? cfg?.name ?? null, sizeBytes: meta.sizeBytes,
      contentBytes: Buffer.byteLength(text),
    });
    const ins = db.prepare('INSERT INTO settings (source_id, member, scope, name, value, line) VALUES (?,?,?,?,?,?)');
    for (const r of rows) ins.run(id, meta.member ?? cfg?.name ?? null, cfg?.scope ?? null, r.name, r.value, r.line);
    finishSource(db, id, { records: rows.length, issues: 0, firstMs: null, lastMs: null, bases: [] });
    db.exec('COMMIT');
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw e;
  }
  return { status: 'ingested', records: rows.length, scope: cfg?.scope ?? null };
}
