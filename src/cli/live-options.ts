// Options shared by `collect` and `ingest --prometheus`: durations, TLS files and credentials, with etcdctl's
// ETCDCTL_* environment variables as defaults. A password is never taken from the command line.
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import type { TlsFiles } from '../ingest/http-client.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `10s`, `5m`, `1h30m`, `30d`, or a plain number of seconds. */
export function parseDurationOption(option: string, text: string, minMs = 1): number {
  const t = text.trim();
  let ms = 0;
  if (/^\d+(?:\.\d+)?$/.test(t)) ms = Number(t) * 1000;
  else {
    const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;
    let m: RegExpExecArray | null;
    let at = 0;
    while ((m = re.exec(t)) !== null) {
      ms += Number(m[1]) * UNIT_MS[m[2]!]!;
      at = re.lastIndex;
    }
    if (at !== t.length || t === '') ms = NaN;
  }
  if (!Number.isFinite(ms) || ms < minMs || ms > 10 * 365 * 86_400_000) {
    throw new UsageError(`${option} ${text}: expected a duration such as 10s, 5m, 1h or 30d`);
  }
  return Math.round(ms);
}

export interface TlsCliOptions {
  cacert?: string;
  cert?: string;
  key?: string;
  insecureSkipTlsVerify?: boolean;
}

const env = (name: string): string | undefined => (process.env[name] === undefined || process.env[name] === '' ? undefined : process.env[name]);

export function tlsFromOptions(o: TlsCliOptions, envPrefix: string | null): TlsFiles {
  const e = (n: string): string | undefined => (envPrefix === null ? undefined : env(`${envPrefix}${n}`));
  const insecureEnv = e('INSECURE_SKIP_TLS_VERIFY');
  const cert = o.cert ?? e('CERT') ?? null;
  const key = o.key ?? e('KEY') ?? null;
  if ((cert === null) !== (key === null)) throw new UsageError('--cert and --key: give both (a client certificate needs its key) or neither');
  return {
    cacert: o.cacert ?? e('CACERT') ?? null, cert, key,
    insecureSkipVerify: o.insecureSkipTlsVerify === true || insecureEnv === 'true' || insecureEnv === '1',
  };
}

/**
 * `--user NAME` (or ETCDCTL_USER, which may be `name:password` as etcdctl takes it) with the password from
 * --password-file or the environment variable `passwordEnv`. `--user name:password` on the command line is
 * refused: the command line is visible to every user of the machine (ps, /proc).
 */
export function credentialsFromOptions(o: { user?: string; passwordFile?: string }, userEnv: string | null, passwordEnv: string): { user: string; password: string } | null {
  if (o.user !== undefined && o.user.includes(':')) {
    throw new UsageError(`--user: give the name only; the password comes from --password-file or ${passwordEnv}, never the command line`);
  }
  const fromEnv = userEnv === null ? undefined : env(userEnv);
  const raw = o.user ?? fromEnv;
  if (raw === undefined) {
    if (o.passwordFile !== undefined) throw new UsageError('--password-file: give --user too');
    return null;
  }
  const [user, envPw] = raw.includes(':') ? [raw.slice(0, raw.indexOf(':')), raw.slice(raw.indexOf(':') + 1)] : [raw, undefined];
  let password: string | undefined;
  if (o.passwordFile !== undefined) {
    try {
      password = readFileSync(o.passwordFile, 'utf8').replace(/\r?\n$/, '');
    } catch (e) {
      throw new UsageError(`--password-file ${o.passwordFile}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  } else password = env(passwordEnv) ?? envPw;
  if (password === undefined) throw new UsageError(`--user ${user}: no password (--password-file FILE or ${passwordEnv})`);
  return { user, password };
}
