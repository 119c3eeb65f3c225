// A real single-member etcd on 127.0.0.1 for integration tests.
//
//   const etcd = await startEtcd({ quotaBytes: 64 * 1024 * 1024 });
//   try {
//     etcdctl(etcd, ['put', '/service/pg_demo/status', '{}']);
//     await putViaGateway(etcd, [{ key: '/a', value: 'b' }]);
//   } finally {
//     await etcd.stop();            // SIGTERM the PID we started (SIGKILL after 10 s), then rm -r dataDir
//   }
//
// stopProcess() stops the server but leaves dataDir, to read `${dataDir}/member/snap/db` at rest.
// Also here: etcdctl(server, args) (sync, v3), gateway(server, 'kv/range', body) (v3 JSON gateway
// over a keep-alive agent), putViaGateway (N puts, `concurrency` in flight), putTxnViaGateway (one
// txn, one revision), grantLease (decimal id), freePort.
//
// Ports come from the kernel (listen on port 0, read the port, close), so parallel test files do
// not collide; a start that loses the port race is retried with fresh ports. The server writes its
// log to `logFile` inside the temp dir (keep it with `keepDataDir: true` to inspect it after stop()).
// Nothing but the child we spawned is ever signalled, and a process 'exit' hook kills it if a test
// forgets to call stop().
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, openSync, closeSync, rmSync, readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ETCD_BIN = process.env['ETCD_BIN'] ?? '/usr/bin/etcd';
export const ETCDCTL_BIN = process.env['ETCDCTL_BIN'] ?? '/usr/bin/etcdctl';

export interface StartEtcdOptions {
  /** --quota-backend-bytes; etcd's default (2 GiB) when omitted. */
  quotaBytes?: number;
  /** Appended to the command line, e.g. ['--auto-compaction-retention=1']. */
  extraArgs?: string[];
  /** --logger (default 'zap', JSON lines); 'capnslog' is 3.4's own default text format. */
  logger?: 'zap' | 'capnslog';
  /** Keep the temp directory (data dir + log) after stop(). */
  keepDataDir?: boolean;
  /**
   * Parent of the temp dir (data dir + log). Default: /dev/shm when it exists (tmpfs: fsync is free;
   * single puts ran ~2x faster than on this VM's disk), else os.tmpdir(). Pass tmpdir() for real disk I/O.
   */
  parentDir?: string;
  /** How long to wait for /health before giving up (ms). */
  startTimeoutMs?: number;
  /** A snapshot file to start from: `etcdctl snapshot restore` into the data dir first (same name and peer URL). */
  restoreFrom?: string;
}

export interface EtcdServer {
  /** http://127.0.0.1:<client port> */
  endpoint: string;
  pid: number;
  /** --data-dir; the backend is `${dataDir}/member/snap/db`. */
  dataDir: string;
  /** The server's stdout+stderr. */
  logFile: string;
  /** Stop the server by PID and wait for it to exit; removes the temp dir unless keepDataDir. */
  stop(): Promise<void>;
  /** Stop the server by PID but keep its files (to read member/snap/db at rest); stop() cleans up later. */
  stopProcess(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A port the kernel just handed out on 127.0.0.1 (free at the time of the call). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

export async function startEtcd(options: StartEtcdOptions = {}): Promise<EtcdServer> {
  let lastError: unknown = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

async function startOnce(options: StartEtcdOptions): Promise<EtcdServer> {
  const baseDir = mkdtempSync(join(options.parentDir ?? defaultParentDir(), 'etcd-forensics-etcd-'));
  const dataDir = join(baseDir, 'data');
  const logFile = join(baseDir, 'etcd.log');
  const clientPort = await freePort();
  const peerPort = await freePort();
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name', 'test',
    '--data-dir', dataDir,
    '--listen-client-urls', clientUrl,
    '--advertise-client-urls', clientUrl,
    '--listen-peer-urls', peerUrl,
    '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', `test=${peerUrl}`,
    '--initial-cluster-state', 'new',
    '--logger', options.logger ?? 'zap',
    ...(options.quotaBytes !== undefined ? ['--quota-backend-bytes', String(options.quotaBytes)] : []),
    ...(options.extraArgs ?? []),
  ];
  if (options.restoreFrom !== undefined) {
    const r = spawnSync(ETCDCTL_BIN, ['snapshot', 'restore', options.restoreFrom, '--data-dir', dataDir, '--name', 'test',
      '--initial-cluster', `test=${peerUrl}`, '--initial-advertise-peer-urls', peerUrl], { env: { ...process.env, ETCDCTL_API: '3' }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`etcdctl snapshot restore ${options.restoreFrom}: ${r.stderr}`);
  }
  const logFd = openSync(logFile, 'a');
  const child = spawn(ETCD_BIN, args, { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  if (child.pid === undefined) throw new Error(`could not spawn ${ETCD_BIN}`);
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => running.delete(child));

  const stopProcess = async (): Promise<void> => {
    if (!running.has(child)) return;
    child.kill('SIGTERM'); // signals child.pid, the process we spawned, and nothing else
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const server: EtcdServer = {
    endpoint: clientUrl,
    pid: child.pid,
    dataDir,
    logFile,
    stopProcess,
    stop: async () => {
      await stopProcess();
      if (options.keepDataDir !== true) rmSync(baseDir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + (options.startTimeoutMs ?? 20_000);
  while (Date.now() < deadline) {
    if (!running.has(child)) break;
    if (await isHealthy(clientUrl)) return server;
    await sleep(100);
  }
  const tail = readFileSync(logFile, 'utf8').slice(-2000);
  await server.stop();
  throw new Error(`etcd did not become healthy on ${clientUrl}; log tail:\n${tail}`);
}

export function defaultParentDir(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

export async function isHealthy(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await response.json()) as { health?: unknown };
    return body.health === 'true' || body.health === true;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Run etcdctl (v3 API) against the server; returns stdout, throws with stderr on failure. */
export function etcdctl(server: Pick<EtcdServer, 'endpoint'>, args: string[], input?: string): string {
  const result = spawnSync(ETCDCTL_BIN, ['--endpoints', server.endpoint, ...args], {
    encoding: 'utf8',
    input,
    env: { ...process.env, ETCDCTL_API: '3' },
    maxBuffer: 256 * 1024 * 1024,
  });
  if (result.status !== 0) {
    throw new Error(`etcdctl ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  }
  return result.stdout;
}

export interface GatewayPut {
  key: string;
  value: string | Buffer;
  /** decimal lease id */
  lease?: string;
}

// node:http with a keep-alive agent: about 3x the puts/s of global fetch against the gateway.
const gatewayAgent = new Agent({ keepAlive: true, maxSockets: 64 });

/** One v3 JSON gateway call (`POST /v3/<path>`), returning the parsed JSON body. */
export function gateway(server: Pick<EtcdServer, 'endpoint'>, path: string, body: unknown): Promise<unknown> {
  const url = new URL(`${server.endpoint}/v3/${path}`);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent: gatewayAgent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if ((response.statusCode ?? 0) >= 300) reject(new Error(`POST /v3/${path}: HTTP ${response.statusCode} ${text}`));
          else resolve(JSON.parse(text) as unknown);
        });
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

const b64 = (value: string | Buffer): string => Buffer.from(value).toString('base64');

/** Sequential puts through the JSON gateway, `concurrency` requests in flight. One revision each. */
export async function putViaGateway(
  server: Pick<EtcdServer, 'endpoint'>,
  puts: readonly GatewayPut[],
  concurrency = 8,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < puts.length) {
      const put = puts[next++];
      if (put === undefined) break;
      await gateway(server, 'kv/put', {
        key: b64(put.key),
        value: b64(put.value),
        ...(put.lease !== undefined ? { lease: put.lease } : {}),
      });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
}

/** Grant a lease through the gateway; returns its id as a decimal string. */
export async function grantLease(server: Pick<EtcdServer, 'endpoint'>, ttlSeconds: number): Promise<string> {
  const body = (await gateway(server, 'lease/grant', { TTL: ttlSeconds })) as { ID?: unknown };
  if (typeof body.ID !== 'string') throw new Error(`lease/grant returned no ID: ${JSON.stringify(body)}`);
  return body.ID;
}

/** Puts several distinct keys in one txn: one revision, sub-revisions 0..n-1 in the given order. */
export async function putTxnViaGateway(server: Pick<EtcdServer, 'endpoint'>, puts: readonly GatewayPut[]): Promise<void> {
  const success = puts.map((put) => ({
    request_put: { key: b64(put.key), value: b64(put.value), ...(put.lease !== undefined ? { lease: put.lease } : {}) },
  }));
  await gateway(server, 'kv/txn', { success });
}
