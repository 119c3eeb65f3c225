// Numbered migrations. PRAGMA user_version holds the number of the last one applied.
// Append only: never edit a migration that has shipped; add the next number instead.
// The schema is documented in docs/schema.md; keep the two in step.

export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** It reads every status reading (a backfill): on a large store the upgrade takes minutes, and says so first. */
  readsEveryReading?: boolean;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'sources, events, requests, status and etcdctl records',
    sql: `
CREATE TABLE sources (
  id            INTEGER PRIMARY KEY,
  path          TEXT NOT NULL,
  sha256        TEXT NOT NULL UNIQUE,
  kind          TEXT NOT NULL,
  member        TEXT,
  size_bytes    INTEGER NOT NULL,
  ingested_at   TEXT NOT NULL,
  records       INTEGER NOT NULL DEFAULT 0,
  issues        INTEGER NOT NULL DEFAULT 0,
  first_ts_ms   INTEGER,
  last_ts_ms    INTEGER,
  time_bases    TEXT NOT NULL DEFAULT ''
);

CREATE TABLE events (
  id          INTEGER PRIMARY KEY,
  source_id   INTEGER NOT NULL REFERENCES sources(id),
  line        INTEGER NOT NULL,
  ts_ms       INTEGER,
  utc_offset_min INTEGER,
  time_basis  TEXT,
  member      TEXT,
  level       TEXT,
  kind        TEXT NOT NULL,
  message     TEXT NOT NULL,
  raw         TEXT NOT NULL,
  detail      TEXT
  CHECK (line >= 0)
);
CREATE INDEX events_kind_ts ON events(kind, ts_ms);

CREATE TABLE etcd_requests (
  id          INTEGER PRIMARY KEY,
  source_id   INTEGER NOT NULL REFERENCES sources(id),
  line        INTEGER NOT NULL,
  seq         INTEGER NOT NULL,
  ts_ms       INTEGER,
  member      TEXT,
  op          TEXT NOT NULL,
  key         TEXT,
  range_end   TEXT,
  value_size  INTEGER,
  lease       TEXT,
  in_txn      INTEGER NOT NULL,
  outcome     TEXT NOT NULL,
  error       TEXT,
  took_ms     REAL,
  CHECK (seq >= 0)
);
CREATE INDEX etcd_requests_key ON etcd_requests(key);

CREATE TABLE status_samples (
  id                 INTEGER PRIMARY KEY,
  source_id          INTEGER NOT NULL REFERENCES sources(id),
  line               INTEGER NOT NULL,
  seq                INTEGER NOT NULL,
  ts_ms              INTEGER,
  time_basis         TEXT,
  format             TEXT NOT NULL,
  endpoint           TEXT NOT NULL,
  member_id          TEXT,
  cluster_id         TEXT,
  version            TEXT,
  db_size_bytes      INTEGER,
  db_size_approx     INTEGER NOT NULL,
  db_size_in_use_bytes INTEGER,
  revision           INTEGER,
  raft_term          INTEGER,
  raft_index         INTEGER,
  raft_applied_index INTEGER,
  is_leader          INTEGER,
  leader_id          TEXT,
  is_learner         INTEGER,
  errors             TEXT NOT NULL,
  alarms             TEXT NOT NULL,
  CHECK (seq >= 0)
);
CREATE INDEX status_samples_ts ON status_samples(ts_ms);

CREATE TABLE health_samples (
  id          INTEGER PRIMARY KEY,
  source_id   INTEGER NOT NULL REFERENCES sources(id),
  line        INTEGER NOT NULL,
  seq         INTEGER NOT NULL,
  ts_ms       INTEGER,
  time_basis  TEXT,
  format      TEXT NOT NULL,
  endpoint    TEXT NOT NULL,
  healthy     INTEGER NOT NULL,
  took_ms     REAL,
  error       TEXT,
  CHECK (seq >= 0)
);

CREATE TABLE snapshot_status (
  id               INTEGER PRIMARY KEY,
  source_id        INTEGER NOT NULL REFERENCES sources(id),
  line             INTEGER NOT NULL,
  seq              INTEGER NOT NULL,
  ts_ms            INTEGER,
  time_basis       TEXT,
  format           TEXT NOT NULL,
  hash             TEXT NOT NULL,
  revision         INTEGER NOT NULL,
  total_keys       INTEGER NOT NULL,
  total_size_bytes INTEGER NOT NULL,
  total_size_approx INTEGER NOT NULL,
  CHECK (seq >= 0)
);

CREATE TABLE alarms (
  id          INTEGER PRIMARY KEY,
  source_id   INTEGER NOT NULL REFERENCES sources(id),
  line        INTEGER NOT NULL,
  seq         INTEGER NOT NULL,
  ts_ms       INTEGER,
  time_basis  TEXT,
  member_id   TEXT NOT NULL,
  alarm       TEXT NOT NULL,
  CHECK (seq >= 0)
);

CREATE TABLE members (
  id          INTEGER PRIMARY KEY,
  source_id   INTEGER NOT NULL REFERENCES sources(id),
  line        INTEGER NOT NULL,
  seq         INTEGER NOT NULL,
  ts_ms       INTEGER,
  time_basis  TEXT,
  member_id   TEXT NOT NULL,
  status      TEXT,
  name        TEXT,
  peer_urls   TEXT NOT NULL,
  client_urls TEXT NOT NULL,
  is_learner  INTEGER,
  CHECK (seq >= 0)
);

CREATE TABLE issues (
  id          INTEGER PRIMARY KEY,
  source_id   INTEGER NOT NULL REFERENCES sources(id),
  line        INTEGER NOT NULL,
  reason      TEXT NOT NULL,
  excerpt     TEXT NOT NULL
);
`,
  },
  {
    version: 2,
    name: 'etcd snapshot/backend files read directly (bbolt)',
    sql: `
CREATE TABLE snapshot_files (
  source_id            INTEGER PRIMARY KEY REFERENCES sources(id),
  ts_ms                INTEGER,
  time_basis           TEXT,
  file_size            INTEGER NOT NULL,
  trailer              TEXT NOT NULL,
  byte_order           TEXT NOT NULL,
  page_size            INTEGER NOT NULL,
  high_water_pages     INTEGER NOT NULL,
  free_pages           INTEGER NOT NULL,
  db_size_bytes        INTEGER NOT NULL,
  db_size_in_use_bytes INTEGER NOT NULL,
  hash                 TEXT NOT NULL,
  revision             INTEGER NOT NULL,
  total_keys           INTEGER NOT NULL,
  key_revisions        INTEGER NOT NULL,
  key_puts             INTEGER NOT NULL,
  key_tombstones       INTEGER NOT NULL,
  key_bytes            INTEGER NOT NULL,
  distinct_keys        INTEGER NOT NULL,
  first_revision       INTEGER,
  last_revision        INTEGER,
  consistent_index     TEXT,
  term                 TEXT,
  scheduled_compact_rev INTEGER,
  finished_compact_rev INTEGER,
  cluster_version      TEXT,
  buckets              TEXT NOT NULL
);

CREATE TABLE snapshot_keys (
  id                  INTEGER PRIMARY KEY,
  source_id           INTEGER NOT NULL REFERENCES sources(id),
  key                 TEXT NOT NULL,
  revisions           INTEGER NOT NULL,
  puts                INTEGER NOT NULL,
  tombstones          INTEGER NOT NULL,
  first_mod_revision  INTEGER NOT NULL,
  last_mod_revision   INTEGER NOT NULL,
  create_revision     INTEGER,
  version             INTEGER,
  lease               TEXT,
  deleted             INTEGER NOT NULL,
  value_size_min      INTEGER,
  value_size_avg      REAL,
  value_size_max      INTEGER,
  bytes_held          INTEGER NOT NULL
);
CREATE INDEX snapshot_keys_source ON snapshot_keys(source_id);
`,
  },
  {
    // Ingest speed (bench/RESULTS-ingest.md). events(kind, ts_ms) and etcd_requests(key) were maintained
    // row by row during ingest (about 40% of SQLite's time on a NOSPACE log: every insert descends a
    // B-tree into one of many kind/key ranges) yet no analysis used them: loadEvidence scans with
    // `kind NOT IN (…)` and orders by ts_ms. Indexes on ts_ms are cheap to maintain (a log's times
    // increase, so new entries append at the right edge) and serve that ORDER BY and the --until cut;
    // the events one is partial, leaving out the kinds the analyses never load (most lines of a healthy log).
    version: 3,
    name: 'cheap ts_ms indexes instead of events(kind, ts_ms) and etcd_requests(key)',
    sql: `
DROP INDEX IF EXISTS events_kind_ts;
DROP INDEX IF EXISTS etcd_requests_key;
CREATE INDEX events_notable_ts ON events(ts_ms) WHERE kind NOT IN ('etcd.other', 'patroni.other', 'postgres.log');
CREATE INDEX etcd_requests_ts ON etcd_requests(ts_ms);
`,
  },
  {
    // Compacted history carved out of a snapshot's free pages (src/ingest/bbolt/carve.ts): evidence
    // of its own kind (recovered, best effort), never mixed into snapshot_keys' exact figures.
    version: 4,
    name: 'revisions recovered from the free pages of snapshot files',
    sql: `
CREATE TABLE snapshot_carve (
  source_id                     INTEGER PRIMARY KEY REFERENCES sources(id),
  free_pages_scanned            INTEGER NOT NULL,
  leaf_pages                    INTEGER NOT NULL,
  pages_carved                  INTEGER NOT NULL,
  pages_rejected                INTEGER NOT NULL,
  reject_reasons                TEXT NOT NULL,
  rows_carved                   INTEGER NOT NULL,
  live_copies                   INTEGER NOT NULL,
  duplicates                    INTEGER NOT NULL,
  conflicts                     INTEGER NOT NULL,
  inconsistent                  INTEGER NOT NULL,
  revisions_recovered           INTEGER NOT NULL,
  compacted_first_revision      INTEGER,
  compacted_last_revision       INTEGER,
  compacted_revisions_lost      INTEGER,
  compacted_revisions_recovered INTEGER,
  recovered_share               REAL
);

CREATE TABLE snapshot_recovered_revisions (
  source_id       INTEGER NOT NULL REFERENCES sources(id),
  main            INTEGER NOT NULL,
  sub             INTEGER NOT NULL,
  tombstone       INTEGER NOT NULL,
  key             TEXT NOT NULL,
  create_revision INTEGER NOT NULL,
  mod_revision    INTEGER NOT NULL,
  version         INTEGER NOT NULL,
  value_size      INTEGER NOT NULL,
  lease           TEXT,
  page_id         INTEGER NOT NULL,
  copies          INTEGER NOT NULL,
  PRIMARY KEY (source_id, main, sub)
) WITHOUT ROWID;
CREATE INDEX snapshot_recovered_key ON snapshot_recovered_revisions(source_id, key, main);
`,
  },
  {
    // Ingest speed (bench/RESULTS-ingest.md, 2026-11-24): migration 3's partial index predicate
    // `kind NOT IN (…)` cost about 0.13 s per 100 MB of log on its own; SQLite evaluates the IN list
    // through an ephemeral table built for every statement, and a statement writes 64 rows. The same
    // predicate as three `<>` terms is evaluated inline. loadEvidence's WHERE names the same three terms,
    // which is what lets SQLite use a partial index.
    version: 5,
    name: 'events_notable_ts with an inline predicate',
    sql: `
DROP INDEX IF EXISTS events_notable_ts;
CREATE INDEX events_notable_ts ON events(ts_ms)
  WHERE kind <> 'etcd.other' AND kind <> 'patroni.other' AND kind <> 'postgres.log';
`,
  },
  {
    // The snapshot reports join snapshot_keys to per-key aggregates of the recovered revisions. With
    // only (source_id) indexed, each join step scanned every key of the file: on a 2.1 GB compacted
    // snapshot (12,000 keys, 4.8 million recovered revisions) `snapshot` ran for minutes and `churn`
    // and `analyze` did not finish in 5 minutes. (source_id, key) serves those lookups and everything
    // the old index did.
    version: 6,
    name: 'snapshot_keys by (source_id, key)',
    sql: `
CREATE INDEX snapshot_keys_key ON snapshot_keys(source_id, key);
DROP INDEX IF EXISTS snapshot_keys_source;
`,
  },
  {
    // etcdctl/etcdutl 3.6 forms (src/sources/etcdctl): the member's quota and storage version from
    // `endpoint status` (QUOTA, STORAGE VERSION, "dbSizeQuota"), and from etcdutl's `snapshot status` the
    // snapshot's storage version and what TOTAL KEYS counts ('live-keys' in 3.6; NULL: the older count of
    // every bucket entry). NULL where the form has no such column.
    version: 8,
    name: 'status_samples quota/storage version; snapshot_status version and total-keys meaning',
    sql: `
ALTER TABLE status_samples ADD COLUMN db_size_quota_bytes INTEGER;
ALTER TABLE status_samples ADD COLUMN storage_version TEXT;
ALTER TABLE snapshot_status ADD COLUMN version TEXT;
ALTER TABLE snapshot_status ADD COLUMN total_keys_meaning TEXT;
`,
  },
  {
    // One content, one source: sha256 is of the content read (after gunzip), and content_bytes its length,
    // so a log and its .gz copy are one source whichever comes first. A sampling log that grew since it was
    // stored adds only its tail: a new source row for the whole grown content (so a third read is a
    // duplicate, and a further growth continues from it) whose rows start at first_line, and which names
    // the source it continues. Older rows keep NULL (content_bytes falls back to size_bytes). assumed_tz is
    // the --tz that zone-less times were read in (NULL: UTC), so time sanity can name the --tz that would
    // reconcile two sources.
    version: 10,
    name: 'sources: content_bytes, continues, first_line, assumed_tz',
    sql: `
ALTER TABLE sources ADD COLUMN content_bytes INTEGER;
ALTER TABLE sources ADD COLUMN continues INTEGER REFERENCES sources(id);
ALTER TABLE sources ADD COLUMN first_line INTEGER NOT NULL DEFAULT 1;
ALTER TABLE sources ADD COLUMN assumed_tz TEXT;
`,
  },
  {
    // Settings in force read from configuration files (Patroni's YAML: scope, namespace, dcs, hosts,
    // loop_wait, ttl, retry_timeout, log.*), each with the line of its key.
    version: 11,
    name: 'settings from configuration files',
    sql: `
CREATE TABLE settings (
  id        INTEGER PRIMARY KEY,
  source_id INTEGER NOT NULL REFERENCES sources(id),
  member    TEXT,
  scope     TEXT,
  name      TEXT NOT NULL,
  value     TEXT NOT NULL,
  line      INTEGER
);
CREATE INDEX settings_source ON settings(source_id);
`,
  },
  {
    // Issue 12: clusters apart. One store may hold several etcd clusters (a team's staging and production,
    // two Patroni clusters on their own etcd); nothing may mix them. `ingest --cluster NAME` is kept per source
    // (cluster_option, the strongest evidence); after every ingest and `sources rm` the clusters are told again
    // from all sources (src/analyze/clusters.ts): the user's names, the hex cluster ids of etcdctl headers and
    // etcd's "added member" lines, member ids seen in those, Patroni scopes in keys and configuration. Each
    // source gets its cluster (NULL: unassigned, or no cluster known at all) and how it was told; a status
    // sample gets its own cluster only where its file mixes clusters (a transcript of two).
    // Placed before 13 so that the array stays in version order (migrate() applies them in array order).
    version: 12,
    name: 'clusters: per source (and per status sample where a file mixes clusters)',
    sql: `
CREATE TABLE clusters (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  cluster_id TEXT,
  scope      TEXT,
  named_by   TEXT NOT NULL
);
ALTER TABLE sources ADD COLUMN cluster_option TEXT;
ALTER TABLE sources ADD COLUMN cluster INTEGER REFERENCES clusters(id);
ALTER TABLE sources ADD COLUMN cluster_basis TEXT;
ALTER TABLE status_samples ADD COLUMN cluster INTEGER REFERENCES clusters(id);
`,
  },
  {
    // Issue 13: what repeats is stored as counts. Routine and bursty lines (etcd.other, patroni.other,
    // postgres.log, Patroni's HA-loop lines, slow heartbeats, failed and slow applies, Patroni's NOSPACE and DCS
    // errors, slow requests) are folded per source, minute, member and what they say (kind, message, op, key,
    // outcome, error) into ONE row: the group's first line, with its raw text, and `count` lines behind it, the
    // last of them at last_line / last_ts_ms (src/store/rows.ts). A NOSPACE log was stored at about twice its
    // size with a row per line; the figures stay exact (sum `count`). Rows of older stores are single lines
    // (count 1, last_line NULL = line). `ingest --keep-raw` stores every line as before.
    version: 13,
    name: 'per-minute aggregates: count, last_line, last_ts_ms on events and etcd_requests',
    sql: `
ALTER TABLE events ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
ALTER TABLE events ADD COLUMN last_line INTEGER;
ALTER TABLE events ADD COLUMN last_ts_ms INTEGER;
ALTER TABLE etcd_requests ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
ALTER TABLE etcd_requests ADD COLUMN last_line INTEGER;
ALTER TABLE etcd_requests ADD COLUMN last_ts_ms INTEGER;
`,
  },
  {
    // Issue 16: a member's data directory. One row per write (or other request) in a WAL segment, in raft
    // order, with its index and term: puts with key, value size and lease, deletes, txn ops by branch, lease
    // grants/revokes/checkpoints, compactions, alarms, auth/cluster requests (src/sources/wal/). wal_segments
    // says what a segment covers (indexes, the snapshot markers and hard state it holds, where damage stopped
    // the read); raft_snaps the index/term of member/snap/*.snap files; snapshot_leases the `lease` bucket of a
    // backend or snapshot read with a data dir (TTL, remaining TTL).
    version: 16,
    name: 'WAL entries, segments, raft snapshots and backend leases (member data directories)',
    sql: `
CREATE TABLE wal_segments (
  source_id      INTEGER PRIMARY KEY REFERENCES sources(id),
  name           TEXT NOT NULL,
  seq            INTEGER,
  start_index    INTEGER,
  member_id      TEXT,
  cluster_id     TEXT,
  records        INTEGER NOT NULL,
  entries        INTEGER NOT NULL,
  first_index    INTEGER,
  last_index     INTEGER,
  first_term     INTEGER,
  last_term      INTEGER,
  hard_term      INTEGER,
  hard_vote      TEXT,
  hard_commit    INTEGER,
  snapshot_index INTEGER,
  snapshot_term  INTEGER,
  file_bytes     INTEGER NOT NULL,
  read_bytes     INTEGER NOT NULL,
  damage_offset  INTEGER,
  damage_reason  TEXT,
  undecoded      INTEGER NOT NULL,
  mtime_ms       INTEGER
);
CREATE TABLE wal_entries (
  id          INTEGER PRIMARY KEY,
  source_id   INTEGER NOT NULL REFERENCES sources(id),
  member_id   TEXT,
  raft_index  INTEGER NOT NULL,
  term        INTEGER NOT NULL,
  seq         INTEGER NOT NULL,
  op          TEXT NOT NULL,
  key         TEXT,
  range_end   TEXT,
  value_size  INTEGER,
  lease       TEXT,
  ttl         INTEGER,
  revision    INTEGER,
  branch      TEXT,
  request_id  TEXT,
  username    TEXT,
  detail      TEXT,
  byte_offset INTEGER NOT NULL
);
CREATE INDEX wal_entries_source ON wal_entries(source_id, raft_index);
CREATE TABLE raft_snaps (
  source_id   INTEGER PRIMARY KEY REFERENCES sources(id),
  name        TEXT NOT NULL,
  raft_index  INTEGER NOT NULL,
  term        INTEGER NOT NULL,
  data_bytes  INTEGER NOT NULL,
  crc_ok      INTEGER NOT NULL,
  mtime_ms    INTEGER
);
CREATE TABLE snapshot_leases (
  source_id     INTEGER NOT NULL REFERENCES sources(id),
  lease         TEXT NOT NULL,
  ttl           INTEGER NOT NULL,
  remaining_ttl INTEGER NOT NULL,
  PRIMARY KEY (source_id, lease)
);
`,
  },
  {
    // Issue 15: samples from live clusters (`collect`), a Prometheus import and saved /metrics pages. They carry
    // the compact revision (whether compaction advances), the live key count and the put counter, which etcdctl
    // prints nowhere. natural_key (`prometheus|<cluster>|<instance>|<ms>`, `collect|<cluster>|<endpoint>|<ms>`)
    // makes a re-import of an overlapping range add nothing (INSERT OR IGNORE); NULL for rows read from files.
    version: 17,
    name: 'status_samples: compact_revision, keys_total, puts_total, natural_key (live and Prometheus samples)',
    sql: `
ALTER TABLE status_samples ADD COLUMN compact_revision INTEGER;
ALTER TABLE status_samples ADD COLUMN keys_total INTEGER;
ALTER TABLE status_samples ADD COLUMN puts_total INTEGER;
ALTER TABLE status_samples ADD COLUMN natural_key TEXT;
CREATE UNIQUE INDEX status_samples_natural ON status_samples(natural_key) WHERE natural_key IS NOT NULL;
`,
  },
  {
    // Issue 15: `report --fleet` must not read every reading (200 clusters × 3 members × 30 days at 5 minutes is
    // 5.2 M). status_rollup keeps, per source, member (endpoint, member id, cluster id), time basis, exact or
    // humanized, and bucket of an hour and of a day: the count, first/last time, min/max of physical and in-use
    // size, revision, compact revision and quota, the readings with the lowest and the highest in-use size and the
    // last reading kept whole, and the error readings (a member that did not answer). Kept up to date in JS by
    // src/store/status-rollup.ts (catchUpStatusRollup after every ingest; the Prometheus/collect writer folds as it
    // writes) up to status_rollup_state.last_id; the trigger forgets a source's rows with it. Backfilled here.
    version: 19,
    name: 'status_rollup: hourly and daily rollup of status readings (fleet report)',
    readsEveryReading: true,
    sql: `
CREATE TABLE status_rollup (
  src            INTEGER NOT NULL,
  endpoint       TEXT NOT NULL,
  member_id      TEXT NOT NULL,
  cluster_id     TEXT NOT NULL,
  basis          TEXT NOT NULL,
  approx         INTEGER NOT NULL,
  width          INTEGER NOT NULL,
  bucket         INTEGER NOT NULL,
  cluster        INTEGER,
  format         TEXT NOT NULL,
  n              INTEGER NOT NULL,
  first_ts       INTEGER NOT NULL,
  last_ts        INTEGER NOT NULL,
  min_id         INTEGER NOT NULL,
  max_id         INTEGER NOT NULL,
  sized_n        INTEGER NOT NULL,
  phys_min       INTEGER,
  phys_max       INTEGER,
  used_min       INTEGER,
  used_max       INTEGER,
  rev_min        INTEGER,
  rev_max        INTEGER,
  compact_n      INTEGER NOT NULL,
  compact_min    INTEGER,
  compact_max    INTEGER,
  compact_max_ts INTEGER,
  quota_max      INTEGER,
  nospace_n      INTEGER NOT NULL,
  lo_ts INTEGER, lo_line INTEGER, lo_phys INTEGER, lo_inuse INTEGER, lo_rev INTEGER,
  hi_ts INTEGER, hi_line INTEGER, hi_phys INTEGER, hi_inuse INTEGER, hi_rev INTEGER,
  z_ts INTEGER, z_line INTEGER, z_phys INTEGER, z_inuse INTEGER, z_rev INTEGER, z_compact INTEGER, z_quota INTEGER, z_alarms TEXT, z_leader INTEGER,
  err_n          INTEGER NOT NULL,
  err_first_ts   INTEGER,
  err_last_ts    INTEGER,
  err_min        TEXT,
  PRIMARY KEY (src, endpoint, member_id, cluster_id, basis, approx, width, bucket)
) WITHOUT ROWID;
CREATE TABLE status_rollup_state (last_id INTEGER NOT NULL);
CREATE TRIGGER status_rollup_forget AFTER DELETE ON sources BEGIN
  DELETE FROM status_rollup WHERE src = OLD.id;
  UPDATE status_rollup_state SET last_id = MIN(last_id, COALESCE((SELECT MAX(id) FROM status_samples), 0));
END;
INSERT INTO status_rollup
WITH r AS (
  SELECT s.id, s.source_id, s.endpoint, COALESCE(s.member_id, '') AS mid, COALESCE(s.cluster_id, '') AS cid, COALESCE(s.time_basis, '') AS b,
    s.db_size_approx AS approx, w.width, s.ts_ms / w.width AS bucket, s.format, s.ts_ms AS ts, s.line, s.db_size_bytes AS phys, s.db_size_in_use_bytes AS inuse,
    COALESCE(s.db_size_in_use_bytes, s.db_size_bytes) AS u, s.revision AS rev, s.compact_revision AS cr, s.db_size_quota_bytes AS quota,
    s.alarms, s.is_leader, s.errors, (s.db_size_bytes IS NULL AND s.errors <> '[]' AND s.natural_key IS NOT NULL) AS err
  FROM status_samples s CROSS JOIN (SELECT 3600000 AS width UNION ALL SELECT 86400000) w WHERE s.ts_ms IS NOT NULL),
k AS (
  SELECT r.*,
    ROW_NUMBER() OVER (PARTITION BY source_id, endpoint, mid, cid, b, approx, width, bucket ORDER BY phys IS NULL, u, ts, id) AS lo_r,
    ROW_NUMBER() OVER (PARTITION BY source_id, endpoint, mid, cid, b, approx, width, bucket ORDER BY phys IS NULL, u DESC, ts, id) AS hi_r,
    ROW_NUMBER() OVER (PARTITION BY source_id, endpoint, mid, cid, b, approx, width, bucket ORDER BY phys IS NULL, ts DESC, line DESC, id) AS z_r,
    MAX(cr) OVER (PARTITION BY source_id, endpoint, mid, cid, b, approx, width, bucket) AS cmax
  FROM r)
SELECT source_id, endpoint, mid, cid, b, approx, width, bucket, NULL, MIN(format), COUNT(*), MIN(ts), MAX(ts), MIN(id), MAX(id),
  COUNT(phys), MIN(phys), MAX(phys), MIN(u), MAX(u), MIN(rev), MAX(rev), COUNT(cr), MIN(cr), MAX(cr), MIN(CASE WHEN cr = cmax THEN ts END),
  MAX(CASE WHEN quota > 0 THEN quota END), SUM(alarms LIKE '%NOSPACE%'),
  MAX(CASE WHEN lo_r = 1 AND phys IS NOT NULL THEN ts END), MAX(CASE WHEN lo_r = 1 AND phys IS NOT NULL THEN line END),
  MAX(CASE WHEN lo_r = 1 AND phys IS NOT NULL THEN phys END), MAX(CASE WHEN lo_r = 1 AND phys IS NOT NULL THEN inuse END),
  MAX(CASE WHEN lo_r = 1 AND phys IS NOT NULL THEN rev END),
  MAX(CASE WHEN hi_r = 1 AND phys IS NOT NULL THEN ts END), MAX(CASE WHEN hi_r = 1 AND phys IS NOT NULL THEN line END),
  MAX(CASE WHEN hi_r = 1 AND phys IS NOT NULL THEN phys END), MAX(CASE WHEN hi_r = 1 AND phys IS NOT NULL THEN inuse END),
  MAX(CASE WHEN hi_r = 1 AND phys IS NOT NULL THEN rev END),
  MAX(CASE WHEN z_r = 1 AND phys IS NOT NULL THEN ts END), MAX(CASE WHEN z_r = 1 AND phys IS NOT NULL THEN line END),
  MAX(CASE WHEN z_r = 1 AND phys IS NOT NULL THEN phys END), MAX(CASE WHEN z_r = 1 AND phys IS NOT NULL THEN inuse END),
  MAX(CASE WHEN z_r = 1 AND phys IS NOT NULL THEN rev END), MAX(CASE WHEN z_r = 1 AND phys IS NOT NULL THEN cr END),
  MAX(CASE WHEN z_r = 1 AND phys IS NOT NULL THEN quota END), MAX(CASE WHEN z_r = 1 AND phys IS NOT NULL THEN alarms END),
  MAX(CASE WHEN z_r = 1 AND phys IS NOT NULL THEN is_leader END),
  SUM(err), MIN(CASE WHEN err THEN ts END), MAX(CASE WHEN err THEN ts END), MIN(CASE WHEN err THEN errors END)
FROM k GROUP BY source_id, endpoint, mid, cid, b, approx, width, bucket;
UPDATE status_rollup SET cluster = (SELECT s.cluster FROM status_samples s WHERE s.id = status_rollup.min_id)
  WHERE src IN (SELECT id FROM sources WHERE cluster_basis LIKE '%mixed%');
INSERT INTO status_rollup_state VALUES (COALESCE((SELECT MAX(id) FROM status_samples), 0));
`,
  },
  {
    // Issue 15's import bench: the natural key of live, Prometheus and /metrics-page readings was a ~45-byte text
    // (`prometheus|c001|10.0.0.2:2379|1764480000000`) under a unique index in member order, so a 600-member import
    // inserted at 600 places of a 300 MB index at once and its pages went in and out of the 8 MB cache (5.2 M rows
    // written member by member: 20.5 s user + 7.3 s sys for the rows alone). Now the member part
    // (`prometheus|c001|10.0.0.2:2379`) is a row of status_series and the key is (ts_ms, that id): two integers,
    // unique in time order, so an import appends at the index's end (the same rows: 15.8 s user, 0.4 s sys).
    // Readings stored with the text key get their series id here and the text key NULL (the key is the text less
    // its `|<ts_ms>` tail; a row whose text does not end so keeps its text key). No REFERENCES on natural_series:
    // with foreign_keys on it would be looked up on every insert.
    version: 20,
    name: 'status_series: the natural key of live and Prometheus readings as (time, series id)',
    readsEveryReading: true,
    sql: `
CREATE TABLE status_series (
  id  INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE
);
ALTER TABLE status_samples ADD COLUMN natural_series INTEGER;
INSERT INTO status_series (key)
  SELECT DISTINCT substr(natural_key, 1, length(natural_key) - length(ts_ms) - 1) FROM status_samples
  WHERE natural_key IS NOT NULL AND ts_ms IS NOT NULL AND substr(natural_key, -length(ts_ms) - 1) = '|' || ts_ms ORDER BY 1;
UPDATE status_samples SET natural_series = (SELECT id FROM status_series WHERE key = substr(natural_key, 1, length(natural_key) - length(ts_ms) - 1)),
  natural_key = NULL
  WHERE natural_key IS NOT NULL AND ts_ms IS NOT NULL AND substr(natural_key, -length(ts_ms) - 1) = '|' || ts_ms;
CREATE UNIQUE INDEX status_samples_series_ts ON status_samples(ts_ms, natural_series) WHERE natural_series IS NOT NULL;
`,
  },
];
