// `collect`: poll live etcd members every --interval for --duration (or --once, or until SIGINT/SIGTERM) and
// store each poll as it completes (one transaction per poll: stopping keeps every poll already made).
import { openStore } from '../store/open.js';
import { FleetSampleWriter } from '../store/fleet-samples.js';
import { createHttpClient } from '../ingest/http-client.js';
import { createPoller } from '../ingest/collect.js';
import { assignClusters } from '../analyze/clusters.js';
import { UsageError } from '../errors.js';
import { credentialsFromOptions, parseDurationOption, tlsFromOptions, type TlsCliOptions } from './live-options.js';
import { out, safeText } from './format.js';
import type { FleetSample } from '../model.js';

interface CollectCliOptions extends TlsCliOptions {
  db: string;
  endpoints?: string;
  interval: string;
  duration?: string;
  once?: boolean;
  cluster?: string;
  user?: string;
  passwordFile?: string;
  commandTimeout: string;
}

/** `127.0.0.1:2379` → `http://127.0.0.1:2379` (https when TLS files are given), as etcdctl reads --endpoints. */
function normalizeEndpoints(list: string, tls: boolean): string[] {
  const eps = list.split(',').map((e) => e.trim()).filter((e) => e !== '').map((e) => (/^https?:\/\//.test(e) ? e : `${tls ? 'https' : 'http'}://${e}`).replace(/\/+$/, ''));
  if (eps.length === 0) throw new UsageError(`--endpoints ${list}: expected host:port or URLs, comma-separated`);
  return [...new Set(eps)];
}

export async function runCollect(opts: CollectCliOptions): Promise<void> {
  const tls = tlsFromOptions(opts, 'ETCDCTL_');
  const auth = credentialsFromOptions(opts, 'ETCDCTL_USER', 'ETCDCTL_PASSWORD');
  const endpoints = normalizeEndpoints(opts.endpoints ?? process.env['ETCDCTL_ENDPOINTS'] ?? '127.0.0.1:2379', tls.cacert !== null || tls.cert !== null);
  const intervalMs = parseDurationOption('--interval', opts.interval, 100);
  const durationMs = opts.once ? 0 : opts.duration === undefined ? Infinity : parseDurationOption('--duration', opts.duration);
  const timeoutMs = parseDurationOption('--command-timeout', opts.commandTimeout, 10);
  const cluster = opts.cluster?.trim() || null;
  const http = createHttpClient({ tls, timeoutMs });
  const db = openStore(opts.db);
  const writer = new FleetSampleWriter(db, (c) => ({
    kind: 'collect', family: 'collect', cluster, path: `collect ${endpoints.join(',')}${c !== null && cluster === null ? ` cluster=${c}` : ''}`,
  }));
  let stop = false;
  let wake: (() => void) | null = null;
  const onSignal = (): void => {
    stop = true;
    wake?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const poller = createPoller(http, endpoints, auth, cluster);
  const started = Date.now();
  const tally = { polls: 0, readings: 0, errors: new Map<string, { n: number; first: string; firstAt: number; lastAt: number }>() };
  try {
    for (;;) {
      const readings = await poller.poll();
      db.transaction(() => {
        for (const r of readings) writer.write(r);
        writer.flush();
      }).immediate();
      count(tally, readings);
      progress(tally, readings, endpoints.length);
      if (stop || Date.now() - started + intervalMs > durationMs) break;
      await new Promise<void>((res) => {
        const t = setTimeout(res, intervalMs);
        wake = () => {
          clearTimeout(t);
          res();
        };
      });
      wake = null;
      if (stop) break;
    }
    db.transaction(() => writer.finish()).immediate();
    assignClusters(db);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    http.close();
    db.close();
    if (process.stderr.isTTY) process.stderr.write('\n');
  }
  out(`collected ${tally.polls} poll${tally.polls === 1 ? '' : 's'} of ${endpoints.length} endpoint${endpoints.length === 1 ? '' : 's'}: ${tally.readings} readings\n`);
  for (const [ep, e] of tally.errors) {
    out(`  ${ep}: ${e.n} failed reading${e.n === 1 ? '' : 's'} ${new Date(e.firstAt).toISOString()}..${new Date(e.lastAt).toISOString()} (${e.first})\n`);
  }
}

function count(t: { polls: number; readings: number; errors: Map<string, { n: number; first: string; firstAt: number; lastAt: number }> }, rs: FleetSample[]): void {
  t.polls++;
  t.readings += rs.length;
  for (const r of rs) {
    if (r.errors.length === 0 || r.dbSizeBytes !== null) continue;
    const e = t.errors.get(r.endpoint);
    if (e) {
      e.n++;
      e.lastAt = r.tsMs;
    } else t.errors.set(r.endpoint, { n: 1, first: r.errors[0]!, firstAt: r.tsMs, lastAt: r.tsMs });
  }
}

function progress(t: { polls: number; readings: number }, rs: FleetSample[], n: number): void {
  if (!process.stderr.isTTY) return;
  const down = rs.filter((r) => r.dbSizeBytes === null).length;
  process.stderr.write(`\r${safeText(`poll ${t.polls}: ${n - down}/${n} members answered, ${t.readings} readings stored`)}`);
}
