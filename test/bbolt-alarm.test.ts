// A real NOSPACE: etcd 3.4 with a 1 MB quota is filled until puts fail with "database space
// exceeded"; the alarm is persisted in the `alarm` bucket (key = AlarmMember protobuf) and must read
// back as `etcdctl alarm list` prints it: `memberID:13803658152347727308 alarm:NOSPACE`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEtcdBackend } from '../src/sources/bbolt/index.js';
import { etcdctl, putViaGateway, startEtcd, type EtcdServer } from './helpers/etcd-server.js';

describe('NOSPACE alarm in a real snapshot', { timeout: 120_000 }, () => {
  let etcd: EtcdServer;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bbolt-alarm-'));
    etcd = await startEtcd({ quotaBytes: 1024 * 1024 });
  });

  after(async () => {
    await etcd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the alarm bucket reads back as alarm list prints it', async (t) => {
    let failure = '';
    for (let i = 0; i < 200 && failure === ''; i++) {
      try {
        await putViaGateway(etcd, [{ key: `/service/pg_demo/history/${i}`, value: Buffer.alloc(64 * 1024, i) }], 1);
      } catch (error) {
        failure = error instanceof Error ? error.message : String(error);
      }
    }
    assert.match(failure, /database space exceeded/);
    const listed = etcdctl(etcd, ['alarm', 'list']).trim(); // memberID:… alarm:NOSPACE
    const path = join(dir, 'nospace.db');
    etcdctl(etcd, ['snapshot', 'save', path]);
    const summary = readEtcdBackend(path);
    t.diagnostic(`alarm list: ${listed}; file ${summary.dbSize} bytes; alarm bucket inline: ${summary.buckets.find((b) => b.name === 'alarm')?.inline}`);
    assert.deepEqual(summary.alarms.map((a) => `memberID:${a.memberId} alarm:${a.alarm}`), [listed]);
    const status = JSON.parse(etcdctl(etcd, ['snapshot', 'status', '-w', 'json', path])) as { hash: number; totalKey: number };
    assert.equal(summary.snapshotStatus.hash, status.hash);
    assert.equal(summary.snapshotStatus.totalKey, status.totalKey);
    assert.equal(summary.buckets.find((b) => b.name === 'alarm')?.entries, 1, 'the alarm row counts in TOTAL KEYS');
  });
});
