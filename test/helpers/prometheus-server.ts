// A real Prometheus (Debian's `prometheus` package, 2.42 on bookworm) on 127.0.0.1 for integration tests.
//
//   const prom = await startPrometheus({ scrapeIntervalS: 2, jobs: [{ name: 'etcd-a', targets: ['127.0.0.1:40001'] }] });
//   try { … prom.url … } finally { await prom.stop(); }   // SIGTERM the PID we started (SIGKILL after 10 s), rm -r the dir
//
// The listen port comes from the kernel (freePort) and the TSDB lives in a temp dir; a start that loses the
// port race is retried. `storageDir` starts it on an existing TSDB (promtool's backfilled blocks, bench).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './etcd-server.js';

export const PROMETHEUS_BIN = process.env['PROMETHEUS_BIN'] ?? '/usr/bin/prometheus';

export interface PrometheusJob {
  name: string;
  targets: string[];
  /** Extra labels on every series of the job (e.g. { cluster: 'prod' }). */
  labels?: Record<string, string>;
  scheme?: 'http' | 'https';
}

export interface StartPrometheusOptions {
  scrapeIntervalS?: number;
  jobs?: PrometheusJob[];
  /** An existing TSDB directory to serve (kept on stop). */
  storageDir?: string;
  /** --storage.tsdb.retention.time (default 15d; backfilled data older than that is deleted at start). */
  retention?: string;
  extraArgs?: string[];
}

export interface PrometheusServer {
  url: string;
  pid: number;
  dir: string;
  logFile: string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

function configYaml(o: StartPrometheusOptions): string {
  const s = o.scrapeIntervalS ?? 5;
  const jobs = (o.jobs ?? []).map((j) => [
    `  - job_name: ${JSON.stringify(j.name)}`,
    `    scrape_interval: ${s}s`,
    `    scrape_timeout: ${Math.max(1000, s * 1000 - 500)}ms`,
    `    scheme: ${j.scheme ?? 'http'}`,
    '    static_configs:',
    `      - targets: ${JSON.stringify(j.targets)}`,
    ...(j.labels ? [`        labels: ${JSON.stringify(j.labels)}`] : []),
  ].join('\n'));
  return [`global:\n  scrape_interval: ${s}s\n  evaluation_interval: ${s}s`, 'scrape_configs:', ...jobs, ''].join('\n');
}

export async function startPrometheus(o: StartPrometheusOptions = {}): Promise<PrometheusServer> {
  let last: unknown;
  for (let i = 0; i < 3; i++) {
    try {
      return await startOnce(o);
    } catch (e) {
      last = e;
    }
  }
  throw last instanceof Error ? last : new Error(String(last));
}

async function startOnce(o: StartPrometheusOptions): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), 'etcd-forensics-prom-'));
  const storage = o.storageDir ?? join(dir, 'data');
  mkdirSync(storage, { recursive: true });
  const cfg = join(dir, 'prometheus.yml');
  writeFileSync(cfg, configYaml(o));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logFile = join(dir, 'prometheus.log');
  const fd = openSync(logFile, 'a');
  const child = spawn(PROMETHEUS_BIN, [
    `--config.file=${cfg}`, `--storage.tsdb.path=${storage}`, `--web.listen-address=127.0.0.1:${port}`,
    `--storage.tsdb.retention.time=${o.retention ?? '15d'}`, ...(o.extraArgs ?? []),
  ], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not spawn ${PROMETHEUS_BIN}`);
  running.add(child);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.once('exit', () => running.delete(child));
  const stop = async (): Promise<void> => {
    if (running.has(child)) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && running.has(child)) {
    try {
      const r = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      if (r.status === 200) return { url, pid: child.pid, dir, logFile, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const tail = readFileSync(logFile, 'utf8').slice(-2000);
  await stop();
  throw new Error(`prometheus did not become ready on ${url}; log tail:\n${tail}`);
}
