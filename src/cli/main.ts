// The command-line program. The only code that writes to stdout/stderr or sets the exit code.
// Commands are loaded lazily so `--help` and small commands start fast.
import { Command, CommanderError } from 'commander';
import { EXIT, describeFailure, type FailureContext } from './exit-codes.js';
import { DEFAULT_WAIT_S, MAX_WAIT_S, parseSecondsOption } from './options.js';
import { safeLine, safeLines } from './format.js';


export function defaultDbPath(): string {
  return process.env.ETCD_FORENSICS_DB || './etcd-forensics.db';
}

function buildProgram(): Command {
  const program = new Command('etcd-forensics')
    .description('Forensics and capacity planning for etcd NOSPACE incidents (Patroni + etcd + PostgreSQL)')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      // Commander echoes arguments back ("unknown option '…'"): they are data too.
      writeOut: (s) => process.stdout.write(safeLines(s)),
      writeErr: (s) => process.stderr.write(safeLines(s)),
    });

  program.command('ingest')
    .description('store Patroni logs, etcd logs, etcdctl outputs and etcd snapshot files (kind detected from content)')
    .argument('[paths...]', 'files, directories (recursive), .gz files, or - for stdin')
    .option('--db <file>', 'the store', defaultDbPath())
    .option('--kind <kind>', 'override detection: patroni-log | etcd-log | etcdctl | transcript | etcd-snapshot')
    .option('--tz <zone>', 'zone of timestamps that carry none (IANA name or ±hh:mm); default UTC, recorded as assumed')
    .option('--member <name>', 'the member (node) these inputs come from')
    .option('--at <time>', 'time of etcdctl output that has no timestamp line (ISO-8601)')
    .option('--cluster <name>', 'the etcd cluster these inputs belong to (overrides the cluster ids found in them)')
    .option('--strict', 'store nothing from an input that has any skipped line')
    .option('--keep-raw', 'store every log line as a row with its text (default: repeated routine lines are counted per minute)')
    .option('--prometheus <url>', 'import etcd metrics from Prometheus query_range instead of files (issue 15)')
    .option('--since <time>', '--prometheus: start of the range, 30d back or ISO-8601 (default 30d)')
    .option('--until <time>', '--prometheus: end of the range (default now)')
    .option('--step <duration>', '--prometheus: resolution (default 5m)')
    .option('--selector <matchers>', `--prometheus: label matchers, e.g. '{job="etcd"}'`)
    .option('--bearer-token-file <file>', '--prometheus: bearer token')
    .option('--user <name>', '--prometheus: basic auth user (password from --password-file or PROMETHEUS_PASSWORD)')
    .option('--password-file <file>', '--prometheus: basic auth password file')
    .option('--cacert <file>', '--prometheus: CA bundle')
    .option('--cert <file>', '--prometheus: client certificate')
    .option('--key <file>', '--prometheus: client key')
    .option('--insecure-skip-tls-verify', '--prometheus: do not verify the server certificate')
    .action(async (paths: string[], opts) => {
      if (opts.prometheus !== undefined) return (await import('./import-prometheus.js')).runPrometheusImport(paths, opts);
      if (paths.length === 0) throw new (await import('../errors.js')).UsageError('ingest: give paths (or - for stdin), or --prometheus URL');
      return (await import('./ingest.js')).runIngest(paths, opts);
    });

  program.command('collect')
    .description('poll live etcd members (HTTP/JSON gateway and /metrics) and store a reading per member per poll')
    .option('--db <file>', 'the store', defaultDbPath())
    .option('--endpoints <list>', 'comma-separated client URLs or host:port (default $ETCDCTL_ENDPOINTS, else 127.0.0.1:2379)')
    .option('--interval <duration>', 'time between polls', '10s')
    .option('--duration <duration>', 'stop after this long (default: until SIGINT/SIGTERM)')
    .option('--once', 'one poll, then stop')
    .option('--cluster <name>', 'the name of the cluster polled (default: its hex cluster id)')
    .option('--cacert <file>', 'CA bundle (default $ETCDCTL_CACERT)')
    .option('--cert <file>', 'client certificate (default $ETCDCTL_CERT)')
    .option('--key <file>', 'client key (default $ETCDCTL_KEY)')
    .option('--insecure-skip-tls-verify', 'do not verify the server certificate')
    .option('--user <name>', 'etcd user (default $ETCDCTL_USER); password from --password-file or $ETCDCTL_PASSWORD')
    .option('--password-file <file>', 'file holding the password')
    .option('--command-timeout <duration>', 'a member that takes longer is recorded as failed for that poll', '5s')
    .action(async (opts) => (await import('./collect.js')).runCollect(opts));

  program.command('sources')
    .description('list what has been ingested; `sources rm <id|path>…` forgets sources and every row they produced')
    .argument('[action...]', 'nothing to list, or rm followed by source ids or paths')
    .option('--db <file>', 'the store', defaultDbPath())
    .option('--json', 'JSON output')
    .option('--tz <zone>', 'show times in this zone (IANA name or ±hh:mm); default UTC')
    .action(async (args: string[], opts) => (await import('./sources.js')).runSources(args, opts));

  program.command('query')
    .description('run read-only SQL against the store')
    .argument('<sql>', 'a SELECT statement')
    .option('--db <file>', 'the store', defaultDbPath())
    .option('--json', 'JSON output')
    .option('--timeout <seconds>', 'stop the statement when it has run this long (0: no limit)', '30')
    .action(async (sql: string, opts) => (await import('./query.js')).runQuery(sql, opts));

  program.command('snapshot')
    .description('what ingested snapshot/backend files hold: page accounting, free space, keys by revisions and bytes')
    .option('--db <file>', 'the store', defaultDbPath())
    .option('--json', 'JSON output')
    .option('--top <n>', 'keys to list', '10')
    .action(async (opts) => (await import('./snapshot.js')).runSnapshot(opts));

  program.command('wal')
    .description("who wrote what in a member's WAL window (ingest its data dir first): writes per key, key group and lease, lease storms, compactions, backend leases, growth between two snapshots")
    .option('--db <file>', 'the store', defaultDbPath())
    .option('--json', 'JSON output')
    .option('--top <n>', 'keys and key groups to list', '10')
    .action(async (opts) => (await import('./wal.js')).runWal(opts));

  const analyses: [string, string][] = [
    ['analyze', 'everything: incident, churn, growth, projection, hindsight alerts, timeline, recommendations'],
    ['churn', 'keys and key groups ranked by revisions written'],
    ['growth', 'DB size and revisions over time, bytes per revision'],
    ['project', 'when the quota will be reached, and when the etcd mixin alerts would have fired'],
    ['timeline', 'the incident across all sources, in order'],
    ['recommend', 'auto-compaction, quota, defragmentation, alert rules and the recovery runbook'],
  ];
  for (const [name, description] of analyses) {
    program.command(name)
      .description(description)
      .option('--db <file>', 'the store', defaultDbPath())
      .option('--json', 'JSON output (the contract for scripts; has schemaVersion)')
      .option('--until <time>', 'analyse only what was known at this time (ISO-8601), to back-test')
      .option('--quota <size>', 'the backend quota (bytes, 2GiB, 8GiB); else found in the data, else 2 GiB')
      .option('--tz <zone>', 'show times in this zone (IANA name or ±hh:mm); default UTC')
      .option('--backtest', 'project: replay the forecast from earlier origins and list each one (error, coverage)')
      .option('--full', 'every row of every section, lines as long as they are (else fit the terminal, 80 columns when piped)')
      .option('--section <name>', 'one section: verdict, incident, churn, growth, projection, hindsight, refused, timeline, recommend, assumptions')
      .option('--limit <n>', `rows per section (analyze shows 10, timeline 200, unless --section or --full)`)
      .option('--width <columns>', 'fit lines to this many columns (default: the terminal width on a TTY, else 80)')
      .option('--cluster <name>', 'analyse one cluster (name, hex cluster id or Patroni scope); default: each cluster apart')
      .action(async (opts) => (await import('./analyze.js')).runAnalysis(name, opts));
  }
  program.command('report')
    .description('the whole analysis as a document: Markdown (renders on GitHub) or one self-contained HTML file')
    .option('--db <file>', 'the store', defaultDbPath())
    .option('--format <format>', 'md | html', 'md')
    .option('--tz <zone>', 'show times in this zone (IANA name or ±hh:mm); default UTC')
    .option('-o, --output <file>', 'write the report to this file instead of stdout')
    .option('--until <time>', 'analyse only what was known at this time (ISO-8601), to back-test')
    .option('--quota <size>', 'the backend quota (bytes, 2GiB, 8GiB); else found in the data, else 2 GiB')
    .option('--cluster <name>', 'report on one cluster (name, hex cluster id or Patroni scope); default: each cluster apart')
    .option('--fleet', 'one page over every cluster: time to quota, compaction, fragmentation, settings; md | html | json')
    .action(async (opts) => (opts.fleet ? (await import('./fleet-report.js')).runFleetReport(opts) : (await import('./report.js')).runReport(opts)));
  // Every command that opens the store waits for another one holding it (--wait); the value is checked
  // before the command runs, and the store path is kept for the line that names it if the store fails.
  for (const c of program.commands) {
    if (c.options.some((o) => o.long === '--db')) c.option('--wait <seconds>', 'wait this long for another command that holds the store', String(DEFAULT_WAIT_S));
  }
  program.hook('preAction', async (_program, command) => {
    const o = command.opts<{ db?: string; wait?: string }>();
    failureContext.db = o.db ?? null;
    if (o.wait === undefined) return;
    failureContext.waitMs = parseSecondsOption('--wait', o.wait, MAX_WAIT_S) * 1000;
    (await import('../store/open.js')).setStoreWait(failureContext.waitMs);
  });
  return program;
}

const failureContext: FailureContext = { db: null, waitMs: DEFAULT_WAIT_S * 1000 };

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? EXIT.ok : EXIT.input;
    }
    const failure = describeFailure(e, failureContext);
    process.stderr.write(safeLine(`etcd-forensics: ${failure.line}\n`));
    if (process.env.ETCD_FORENSICS_DEBUG) process.stderr.write(`${safeLines(String((e as Error).stack))}\n`);
    return failure.code;
  }
}

// A reader that stops early (`| head`) closes the pipe: stop quietly, as other Unix tools do, not with a stack.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') process.stderr.write(safeLine(`etcd-forensics: writing the output: ${e.message}\n`));
  process.exit(e.code === 'EPIPE' ? EXIT.ok : EXIT.input);
});

main(process.argv).then((code) => {
  process.exitCode = code;
});
