#!/usr/bin/env bash
# Derive the Patroni log forms this machine cannot produce from REAL captured default-format lines:
#
#  1. JSON (Patroni >= 3.3, `log.type: json`, python-json-logger). Debian ships Patroni 3.0.2, which
#     has no JSON logging, and python-json-logger 2.0.1, older than the >= 2.0.2 Patroni requires.
#     So each record of the real patroni.log is re-emitted the way Patroni 3.3+ would format it with
#     the documented example `format: [message, module, {asctime: '@timestamp'}, {levelname: level}]`
#     and `static_fields: {app: patroni}`:
#       - keys in python-json-logger's order: the format fields (renamed in place), then the static
#         fields, then `exc_info`;
#       - `exc_info` = the traceback text exactly as the plain log shows it (Patroni's QueueHandler
#         formats the record once, clears exc_info and leaves the text in exc_text, which
#         python-json-logger emits as `exc_info`);
#       - `@timestamp` = the plain line's asctime text, unchanged (same Formatter.formatTime);
#       - `module` is not in the plain log: it is looked up by matching the message against the
#         logger calls in the installed Patroni source (HA-cycle results are logged by __main__);
#         "unknown" when nothing matches;
#       - json.dumps defaults (", " and ": " separators, ensure_ascii).
#  2. journald: what `journalctl -u patroni` shows for a Patroni without `log.dir` (stderr to the
#     journal): each line, and each traceback line as an entry of its own, behind
#     `Mon DD HH:MM:SS <host> patroni[<pid>]: `, with the PostgreSQL stderr lines of the same run
#     (Patroni's child inherits its stderr) interleaved by time. The journal time is the record's
#     own time truncated to the second; host = the Patroni member name.
#
#   bash scripts/capture/derive-patroni.sh [SRC_DIR] [OUT_DIR]
#     SRC_DIR default test/fixtures/patroni-3.0.2 (reads pg1/patroni.log, pg1/stderr.log)
#     OUT_DIR default test/fixtures/patroni-derived
set -euo pipefail
SRC=${1:-test/fixtures/patroni-3.0.2}
OUT=${2:-test/fixtures/patroni-derived}
NODE=${NODE:-pg1}
PID=${PATRONI_PID:-5152} # pg1's Patroni pid in the committed capture
PATRONI_SRC=${PATRONI_SRC:-/usr/lib/python3/dist-packages/patroni}
mkdir -p "$OUT/json" "$OUT/journald"

python3 - "$SRC/$NODE/patroni.log" "$SRC/$NODE/stderr.log" "$OUT" "$NODE" "$PID" "$PATRONI_SRC" <<'PY'
import json, os, re, sys, time
from collections import OrderedDict

log_path, stderr_path, out, node, pid, patroni_src = sys.argv[1:7]
HEAD = re.compile(r'^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ([A-Z]+): ?(.*)$')
PG = re.compile(r'^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.\d+ UTC \[\d+\] ')

def records(path):
    # A record: its head line, then message lines (a message may contain newlines, e.g.
    # 'pg_controldata:\n%s\n'), then from `Traceback (most recent call last):` on, the exception text.
    rec = None
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    if lines and lines[-1] == '': lines.pop()  # the file's final newline
    for line in lines:
        m = HEAD.match(line)
        if m:
            if rec: yield rec
            rec = {'asctime': m.group(1), 'level': m.group(2), 'message': m.group(3), 'lines': [line], 'exc': []}
        elif rec is not None:
            rec['lines'].append(line)
            if rec['exc'] or line.startswith('Traceback (most recent call last):'): rec['exc'].append(line)
            else: rec['message'] += '\n' + line
    if rec: yield rec

def tidy(r):
    while r['exc'] and r['exc'][-1] == '': r['exc'].pop()
    return r

# Message templates per module, from the installed Patroni source (ast): the first argument of every
# logger.<level>() call belongs to the module that calls it; other string constants of ha.py and
# async_executor.py are HA-cycle results, which patroni/__main__.py logs (`logger.info(self.ha.run_cycle())`).
import ast
def to_regex(t):
    parts = re.split(r'(%[-0-9.]*[srdf]|\{[0-9]*(?::[^}]*)?\})', t)
    literal = sum(len(p) for i, p in enumerate(parts) if i % 2 == 0)
    return re.compile('^' + ''.join('.*' if i % 2 else re.escape(p) for i, p in enumerate(parts)) + '$', re.S), literal
logged, results = [], []
for root, _, files in os.walk(patroni_src):
    for fn in files:
        if not fn.endswith('.py'): continue
        tree = ast.parse(open(os.path.join(root, fn), encoding='utf-8').read())
        in_calls = set()
        for n in ast.walk(tree):
            if (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.args
                    and isinstance(n.func.value, ast.Name) and n.func.value.id == 'logger'
                    and isinstance(n.args[0], ast.Constant) and isinstance(n.args[0].value, str)):
                rx, lit = to_regex(n.args[0].value.rstrip('\n'))
                in_calls.add(id(n.args[0]))
                if lit >= 6: logged.append((rx, lit, fn[:-3]))
        if fn in ('ha.py', 'async_executor.py'):
            for n in ast.walk(tree):
                if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in in_calls:
                    rx, lit = to_regex(n.value)
                    if lit >= 8: results.append((rx, lit, '__main__'))

def module_of(msg):
    if msg == '' or re.match(r"^<\w+ error: '.*', code: \d+>$", msg):
        return 'etcd'  # AbstractEtcd._handle_exception: logger.exception(name) / logger.error(e)
    if msg.endswith(' in progress'):
        return '__main__'  # ha.py: self._async_executor.scheduled_action + ' in progress'
    # The most specific template wins (most literal characters): '%s' alone matches anything.
    for templates in (logged, results):
        best = max(((lit, mod) for rx, lit, mod in templates if rx.match(msg)), default=None)
        if best: return best[1]
    return 'unknown'

recs = [tidy(r) for r in records(log_path)]
unknown = 0
with open(os.path.join(out, 'json', f'{node}.jsonl'), 'w', encoding='utf-8') as f:
    for r in recs:
        mod = module_of(r['message'])
        unknown += mod == 'unknown'
        d = OrderedDict([('message', r['message']), ('module', mod), ('@timestamp', r['asctime']),
                         ('level', r['level']), ('app', 'patroni')])
        if r['exc']: d['exc_info'] = '\n'.join(r['exc'])
        f.write(json.dumps(d) + '\n')

# journald: Patroni records and PostgreSQL stderr lines, merged by time (stable).
entries = []
for i, r in enumerate(recs):
    t = time.strptime(r['asctime'][:19], '%Y-%m-%d %H:%M:%S')
    entries.extend((r['asctime'][:19], 0, i, j, l) for j, l in enumerate(r['lines']))
with open(stderr_path, encoding='utf-8') as f:
    cur = None
    for i, line in enumerate(f.read().split('\n')):
        m = PG.match(line)
        if m: cur = m.group(1)
        if cur and line != '': entries.append((cur, 1, i, 0, line))
entries.sort(key=lambda e: (e[0], e[1], e[2], e[3]))
with open(os.path.join(out, 'journald', f'{node}.journal.txt'), 'w', encoding='utf-8') as f:
    for ts, _, _, _, line in entries:
        t = time.strptime(ts, '%Y-%m-%d %H:%M:%S')
        f.write(f"{time.strftime('%b %d %H:%M:%S', t)} {node} patroni[{pid}]: {line}\n")
print(f'{len(recs)} records, {unknown} with module "unknown", {len(entries)} journal lines', file=sys.stderr)
PY
