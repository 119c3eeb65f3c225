// HTTP(S) for the live sources: etcd's gateway and /metrics, Prometheus' API. node:http/https rather than the
// global fetch: client certificates and a private CA need undici's Agent with fetch, which Node 20 does not
// expose without the npm package; https.request takes them directly. Bodies are capped (a misdirected URL
// serving gigabytes stops with an error, not an exhausted heap) and every request has a deadline.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { Agent as HttpAgent } from 'node:http';
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';

export interface TlsFiles {
  cacert: string | null;
  cert: string | null;
  key: string | null;
  insecureSkipVerify: boolean;
}

export interface HttpClientOptions {
  tls: TlsFiles;
  /** Extra headers on every request (Authorization). */
  headers?: Record<string, string>;
  timeoutMs: number;
  maxBodyBytes?: number;
}

export interface HttpResponse {
  status: number;
  body: string;
}

export class HttpFailure extends Error {}

function readPem(path: string | null, what: string): Buffer | undefined {
  if (path === null) return undefined;
  try {
    return readFileSync(path);
  } catch (e) {
    throw new InputError(`${what} ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

export interface HttpClient {
  request(url: string, opts?: { method?: 'GET' | 'POST'; body?: string; headers?: Record<string, string> }): Promise<HttpResponse>;
  close(): void;
}

export function createHttpClient(o: HttpClientOptions): HttpClient {
  const ca = readPem(o.tls.cacert, '--cacert');
  const cert = readPem(o.tls.cert, '--cert');
  const key = readPem(o.tls.key, '--key');
  const https = new HttpsAgent({ keepAlive: true, maxSockets: 8, ca, cert, key, rejectUnauthorized: !o.tls.insecureSkipVerify });
  const http = new HttpAgent({ keepAlive: true, maxSockets: 8 });
  const max = o.maxBodyBytes ?? 256 * 1024 * 1024;
  return {
    request(url, r = {}) {
      return new Promise<HttpResponse>((resolve, reject) => {
        let u: URL;
        try {
          u = new URL(url);
        } catch {
          reject(new HttpFailure(`not a URL: ${url}`));
          return;
        }
        const secure = u.protocol === 'https:';
        if (!secure && u.protocol !== 'http:') {
          reject(new HttpFailure(`not http or https: ${u.protocol}`));
          return;
        }
        const headers: Record<string, string> = { ...o.headers, ...r.headers };
        if (r.body !== undefined) {
          headers['content-type'] ??= 'application/json';
          headers['content-length'] = String(Buffer.byteLength(r.body));
        }
        const req = (secure ? httpsRequest : httpRequest)(u, { method: r.method ?? 'GET', headers, agent: secure ? https : http }, (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let n = 0;
          res.on('data', (c: Buffer) => {
            n += c.length;
            if (n > max) {
              req.destroy(new HttpFailure(`answer larger than ${max} bytes`));
              return;
            }
            chunks.push(c);
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', (e) => reject(new HttpFailure(e.message)));
        });
        req.setTimeout(o.timeoutMs, () => req.destroy(new HttpFailure(`no answer within ${o.timeoutMs} ms`)));
        req.on('error', (e: NodeJS.ErrnoException) => reject(e instanceof HttpFailure ? e : new HttpFailure(e.code ? `${e.code}: ${e.message}` : e.message)));
        if (r.body !== undefined) req.write(r.body);
        req.end();
      });
    },
    close() {
      https.destroy();
      http.destroy();
    },
  };
}
