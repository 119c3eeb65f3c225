// A real 3-member etcd cluster on 127.0.0.1 for integration tests, of a given etcd version.
//
//   const cluster = await startEtcdCluster({ version: ETCD_VERSIONS['3.5.16'], quotaBytes: 16 * 1024 * 1024 });
//   try {
//     clusterEtcdctl(cluster, cluster.members[0]!, ['put', '/a', 'b']);
//   } finally {
//     await cluster.stop();          // SIGTERM each PID we started (SIGKILL after 10 s), then rm -r the temp dir
//   }
//
// Every member's client and peer ports come from the kernel (listen on port 0, read it, close), so
// parallel test files do not collide; a start that loses a port race (or does not become healthy) is
// stopped and retried with fresh ports. Each member logs zap JSON lines (3.4 needs `--logger zap`; it
// defaults to capnslog) to `<member>.log` in the temp dir: the file an operator would collect. Nothing
// but the children we spawned is ever signalled, and a process 'exit' hook kills them if a test forgets stop().
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultParentDir, freePort, isHealthy } from './etcd-server.js';

export interface EtcdVersion {
  version: string;
  etcd: string;
  etcdctl: string;
}

// Where scripts/fetch-debian-packages.sh unpacks (its CACHE_ROOT default): <root>/trixie/<package>-<version>/.
const DEBIAN_CACHE = process.env['CACHE_ROOT'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'etcd-forensics', 'debian');

/** The unpacked dir of a Debian package at an upstream version (any Debian revision: 3.5.16-4, 3.5.16-5, ...). */
function unpacked(suite: string, pkg: string, upstream: string): string {
  const dir = join(DEBIAN_CACHE, suite);
  const found = existsSync(dir) ? readdirSync(dir).filter((d) => d.startsWith(`${pkg}-${upstream}-`)).sort() : [];
  return join(dir, found[found.length - 1] ?? `${pkg}-${upstream}-MISSING`);
}

/**
 * The versions the tests run: the system's 3.4.23 (Debian bookworm) and 3.5.16 unpacked from Debian trixie by
 * `bash scripts/fetch-debian-packages.sh trixie etcd-server etcd-client` (scripts/ensure-test-deps.sh runs it).
 */
export const ETCD_VERSIONS = {
  '3.4.23': { version: '3.4.23', etcd: '/usr/bin/etcd', etcdctl: '/usr/bin/etcdctl' },
  '3.5.16': {
    version: '3.5.16',
    etcd: join(unpacked('trixie', 'etcd-server', '3.5.16'), 'usr', 'bin', 'etcd'),
    etcdctl: join(unpacked('trixie', 'etcd-client', '3.5.16'), 'usr', 'bin', 'etcdctl'),
  },
} as const satisfies Record<string, EtcdVersion>;

export interface StartClusterOptions {
  version: EtcdVersion;
  /** Number of members (default 3). */
  size?: number;
  /** --quota-backend-bytes for every member; etcd's default (2 GiB) when omitted. */
  quotaBytes?: number;
  /** Appended to every member's command line. */
  extraArgs?: string[];
  /** Parent of the temp dir; default /dev/shm when writable (fsync is free), else os.tmpdir(). */
  parentDir?: string;
  /** How long to wait for every member's /health (ms). */
  startTimeoutMs?: number;
}

export interface ClusterMember {
  name: string;
  /** http://127.0.0.1:<client port> */
  endpoint: string;
  peerUrl: string;
  pid: number;
  dataDir: string;
  /** The member's stdout+stderr: zap JSON lines. */
  logFile: string;
}

export interface EtcdCluster {
  version: EtcdVersion;
  members: ClusterMember[];
  /** Every member's client URL, comma-separated (etcdctl --endpoints). */
  endpoints: string;
  /** The temp dir holding every member's data dir and log. */
  baseDir: string;
  /** Stop every member by PID and remove the temp dir. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startEtcdCluster(options: StartClusterOptions): Promise<EtcdCluster> {
  for (const bin of [options.version.etcd, options.version.etcdctl]) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run bash scripts/ensure-test-deps.sh`);
  }
  const reported = spawnSync(options.version.etcd, ['--version'], { encoding: 'utf8' }).stdout ?? '';
  if (!reported.includes(`etcd Version: ${options.version.version}`)) {
    throw new Error(`${options.version.etcd} is not etcd ${options.version.version}: ${reported.split('\n')[0] ?? ''}`);
  }
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

async function startOnce(options: StartClusterOptions): Promise<EtcdCluster> {
  const size = options.size ?? 3;
  const baseDir = mkdtempSync(join(options.parentDir ?? defaultParentDir(), 'etcd-forensics-cluster-'));
  const planned: Omit<ClusterMember, 'pid'>[] = [];
  for (let i = 1; i <= size; i++) {
    const name = `etcd${i}`;
    planned.push({
      name,
      endpoint: `http://127.0.0.1:${await freePort()}`,
      peerUrl: `http://127.0.0.1:${await freePort()}`,
      dataDir: join(baseDir, name),
      logFile: join(baseDir, `${name}.log`),
    });
  }
  const initialCluster = planned.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  const children: { child: ChildProcess; exited: Promise<void> }[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(children.map(async ({ child, exited }) => {
      if (!running.has(child)) return;
      child.kill('SIGTERM'); // signals child.pid, a process we spawned, and nothing else
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }));
  };
  const members: ClusterMember[] = [];
  for (const m of planned) {
    const args = [
      '--name', m.name,
      '--data-dir', m.dataDir,
      '--listen-client-urls', m.endpoint,
      '--advertise-client-urls', m.endpoint,
      '--listen-peer-urls', m.peerUrl,
      '--initial-advertise-peer-urls', m.peerUrl,
      '--initial-cluster', initialCluster,
      '--initial-cluster-token', 'etcd-forensics-test',
      '--initial-cluster-state', 'new',
      '--logger', 'zap',
      ...(options.quotaBytes !== undefined ? ['--quota-backend-bytes', String(options.quotaBytes)] : []),
      ...(options.extraArgs ?? []),
    ];
    const fd = openSync(m.logFile, 'a');
    const child = spawn(options.version.etcd, args, { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    if (child.pid === undefined) {
      await stopAll();
      throw new Error(`could not spawn ${options.version.etcd}`);
    }
    running.add(child);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.once('exit', () => running.delete(child));
    children.push({ child, exited });
    members.push({ ...m, pid: child.pid });
  }
  const cluster: EtcdCluster = {
    version: options.version,
    members,
    endpoints: members.map((m) => m.endpoint).join(','),
    baseDir,
    stop: async () => {
      await stopAll();
      rmSync(baseDir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    if (children.some(({ child }) => !running.has(child))) break;
    const healthy = await Promise.all(members.map((m) => isHealthy(m.endpoint)));
    if (healthy.every(Boolean)) return cluster;
    await new Promise((r) => setTimeout(r, 200));
  }
  const tails = members.map((m) => `${m.name}: ${readFileSync(m.logFile, 'utf8').slice(-1500)}`).join('\n');
  await cluster.stop();
  throw new Error(`etcd ${options.version.version} cluster did not become healthy; log tails:\n${tails}`);
}

export interface EtcdctlResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Run this version's etcdctl (v3 API) with `--endpoints` set to the given members; never throws. */
export function clusterEtcdctl(cluster: EtcdCluster, on: ClusterMember | ClusterMember[] | 'all', args: string[]): EtcdctlResult {
  const endpoints = on === 'all' ? cluster.endpoints : Array.isArray(on) ? on.map((m) => m.endpoint).join(',') : on.endpoint;
  const r = spawnSync(cluster.version.etcdctl, [`--endpoints=${endpoints}`, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ETCDCTL_API: '3' },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
