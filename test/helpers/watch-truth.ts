// The truth of what was written: `etcdctl watch --prefix … -w json` output kept by the captures, each
// line `<local receive time> <one WatchResponse as JSON>`.
import { readFileSync } from 'node:fs';

/** Puts per key (keys starting with `prefix`) with mod_revision <= maxRev. */
export function watchTruth(file: string, maxRev: number, prefix = ''): Map<string, number> {
  const truth = new Map<string, number>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const json = line.slice(line.indexOf(' ') + 1);
    if (!json.startsWith('{')) continue;
    const resp = JSON.parse(json) as { Events?: { type?: string; kv: { key: string; mod_revision: number } }[] };
    for (const ev of resp.Events ?? []) {
      if (ev.type === 'DELETE' || ev.kv.mod_revision > maxRev) continue;
      const key = Buffer.from(ev.kv.key, 'base64').toString('utf8');
      if (key.startsWith(prefix)) truth.set(key, (truth.get(key) ?? 0) + 1);
    }
  }
  return truth;
}
