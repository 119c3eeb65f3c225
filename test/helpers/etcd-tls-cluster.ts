// A real 3-member etcd (system 3.4.23) on 127.0.0.1 whose client port speaks TLS and requires client
// certificates (--client-cert-auth), with a CA, a server and a client certificate made by openssl in a temp dir.
// Peers talk plain HTTP on loopback (the test is about the client side). Ports come from the kernel; each
// member can be stopped alone by its PID (stopMember), the rest at stop().
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ETCD_BIN, freePort } from './etcd-server.js';

export interface TlsFiles { ca: string; cert: string; key: string }

export interface TlsMember { name: string; endpoint: string; pid: number; logFile: string }

export interface EtcdTlsCluster {
  members: TlsMember[];
  tls: TlsFiles;
  dir: string;
  stopMember(m: TlsMember): Promise<void>;
  stop(): Promise<void>;
}

function openssl(dir: string, args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

/** CA, server certificate for 127.0.0.1 and a client certificate, all made here by openssl. */
export function makeCertificates(dir: string): TlsFiles & { serverCert: string; serverKey: string } {
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=etcd-forensics test CA']);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, cn] of [['server', '127.0.0.1'], ['client', 'etcd-forensics']] as const) {
    openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`]);
  }
  return { ca: join(dir, 'ca.crt'), cert: join(dir, 'client.crt'), key: join(dir, 'client.key'), serverCert: join(dir, 'server.crt'), serverKey: join(dir, 'server.key') };
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

export async function startEtcdTlsCluster(): Promise<EtcdTlsCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'etcd-forensics-tls-'));
  const certs = makeCertificates(dir);
  const planned = [];
  for (const name of ['etcd1', 'etcd2', 'etcd3']) {
    planned.push({ name, endpoint: `https://127.0.0.1:${await freePort()}`, peer: `http://127.0.0.1:${await freePort()}`, logFile: join(dir, `${name}.log`) });
  }
  const initial = planned.map((m) => `${m.name}=${m.peer}`).join(',');
  const procs = new Map<string, { child: ChildProcess; exited: Promise<void> }>();
  const members: TlsMember[] = [];
  for (const m of planned) {
    const fd = openSync(m.logFile, 'a');
    const child = spawn(ETCD_BIN, ['--name', m.name, '--data-dir', join(dir, m.name), '--listen-client-urls', m.endpoint, '--advertise-client-urls', m.endpoint,
      '--listen-peer-urls', m.peer, '--initial-advertise-peer-urls', m.peer, '--initial-cluster', initial, '--initial-cluster-state', 'new',
      '--initial-cluster-token', 'etcd-forensics-tls', '--logger', 'zap',
      '--cert-file', certs.serverCert, '--key-file', certs.serverKey, '--client-cert-auth', '--trusted-ca-file', certs.ca], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    if (child.pid === undefined) throw new Error(`could not spawn ${ETCD_BIN}`);
    running.add(child);
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.once('exit', () => running.delete(child));
    procs.set(m.name, { child, exited });
    members.push({ name: m.name, endpoint: m.endpoint, pid: child.pid, logFile: m.logFile });
  }
  const stopMember = async (m: TlsMember): Promise<void> => {
    const p = procs.get(m.name)!;
    if (!running.has(p.child)) return;
    p.child.kill('SIGTERM'); // the PID we spawned, nothing else
    const t = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
    await p.exited;
    clearTimeout(t);
  };
  const cluster: EtcdTlsCluster = {
    members, tls: { ca: certs.ca, cert: certs.cert, key: certs.key }, dir, stopMember,
    stop: async () => {
      await Promise.all(members.map(stopMember));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const ca = readFileSync(certs.ca);
  const cert = readFileSync(certs.cert);
  const key = readFileSync(certs.key);
  const healthy = (ep: string): Promise<boolean> => new Promise((resolve) => {
    const req = request(`${ep}/health`, { ca, cert, key, timeout: 1000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve(/"health":"?true/.test(body)));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if ((await Promise.all(members.map((m) => healthy(m.endpoint)))).every(Boolean)) return cluster;
    await new Promise((r) => setTimeout(r, 200));
  }
  const tails = members.map((m) => `${m.name}: ${readFileSync(m.logFile, 'utf8').slice(-1000)}`).join('\n');
  await cluster.stop();
  throw new Error(`TLS cluster did not become healthy:\n${tails}`);
}
