// `collect` against a real etcd 3.4.23 with authentication enabled (root user, password, `auth enable`, all by
// etcdctl in the test): the password comes from --password-file or ETCDCTL_PASSWORD, or etcdctl's `ETCDCTL_USER=
// name:password`, never the command line; a wrong password is an error reading that names the refusal, and
// collection still ends with exit 0 (a member that refuses is recorded, as one that is down is).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { etcdctl, startEtcd } from './helpers/etcd-server.js';
import { runCli, tempDir } from './helpers/cli.js';

interface Reading { revision: number | null; db_size_bytes: number | null; errors: string }

function readings(db: string): Reading[] {
  const d = new Database(db, { readonly: true });
  try {
    return d.prepare('SELECT revision, db_size_bytes, errors FROM status_samples ORDER BY id').all() as Reading[];
  } finally {
    d.close();
  }
}

test('collect with etcd auth: password file, ETCDCTL_PASSWORD and ETCDCTL_USER=name:password work; a wrong password is an error reading', { timeout: 120_000 }, async () => {
  const server = await startEtcd();
  const t = tempDir('ef-collect-auth-');
  try {
    etcdctl(server, ['user', 'add', 'root:s3cret']);
    etcdctl(server, ['user', 'grant-role', 'root', 'root']);
    etcdctl(server, ['auth', 'enable']);
    // Auth is on: etcdctl without a user is refused a write, with one it is taken.
    assert.throws(() => etcdctl(server, ['put', '/probe', 'x']));
    etcdctl(server, ['--user', 'root:s3cret', 'put', '/probe', 'x']);
    const good = join(t.dir, 'good'), bad = join(t.dir, 'bad');
    writeFileSync(good, 's3cret\n');
    writeFileSync(bad, 'wrong\n');
    const env = { ETCDCTL_USER: undefined, ETCDCTL_PASSWORD: undefined } as NodeJS.ProcessEnv;
    const cases: { name: string; args: string[]; env: NodeJS.ProcessEnv; ok: boolean }[] = [
      { name: 'password file', args: ['--user', 'root', '--password-file', good], env, ok: true },
      { name: 'ETCDCTL_USER + ETCDCTL_PASSWORD', args: [], env: { ETCDCTL_USER: 'root', ETCDCTL_PASSWORD: 's3cret' }, ok: true },
      { name: 'ETCDCTL_USER=name:password', args: [], env: { ETCDCTL_USER: 'root:s3cret', ETCDCTL_PASSWORD: undefined }, ok: true },
      { name: 'wrong password', args: ['--user', 'root', '--password-file', bad], env, ok: false },
    ];
    for (const c of cases) {
      const db = join(t.dir, `${c.name.replace(/\W+/g, '-')}.db`);
      const r = runCli(['collect', '--db', db, '--endpoints', server.endpoint, '--once', ...c.args], { env: c.env });
      assert.equal(r.code, 0, `${c.name}: ${r.stderr}`);
      const [x] = readings(db);
      assert.ok(x, c.name);
      if (c.ok) {
        assert.deepEqual(JSON.parse(x.errors), [], `${c.name}: ${x.errors}`);
        assert.ok(x.revision !== null && x.revision >= 2, `${c.name}: revision ${x.revision}`);
      } else {
        assert.equal(x.revision, null);
        assert.match(x.errors, /authenticate as root: HTTP 4\d\d .*authentication failed/);
        assert.match(r.stdout + r.stderr, /1 failed reading/);
      }
    }
    // The password never on the command line.
    const pw = runCli(['collect', '--db', join(t.dir, 'x.db'), '--endpoints', server.endpoint, '--once', '--user', 'root:s3cret']);
    assert.equal(pw.code, 2);
    assert.match(pw.stderr, /--user: give the name only/);
  } finally {
    t.cleanup();
    await server.stop();
  }
});
