#!/usr/bin/env python3
"""Derive Patroni log files in other Python logging formats from a REAL Patroni 3.0.2 log.

Patroni formats every plain record with `logging.Formatter(log.format, log.dateformat)`
(patroni/log.py, `_get_plain_formatter`, v3.0.2 … v4.1.4). This script re-creates each record of a
real default-format log (`%(asctime)s %(levelname)s: %(message)s`, host time = UTC) as a
`logging.LogRecord` with the same time, level, message and traceback text, and formats it again with
`logging.Formatter` and another format/dateformat/TZ: the same library code Patroni runs.

Record splitting: a head line `YYYY-MM-DD HH:MM:SS,mmm LEVEL: msg`; following lines belong to the
message (`pg_controldata:\\n…`) until `Traceback (most recent call last):`, from which on they are the
exception text (set as `exc_text`, which Formatter appends after a newline, as logger.exception does).

Fields the plain log does not carry are filled as documented here, not observed:
  - %(name)s: the Patroni module whose logger call (or HA-cycle result string, logged by
    patroni/__main__.py) matches the message, looked up in the installed Patroni 3.0.2 source with
    `ast` (as scripts/capture/derive-patroni.sh does); `patroni` when nothing matches;
  - %(threadName)s = MainThread, %(process)d = PATRONI_PID (pg1's Patroni pid in the capture).

Besides the Formatter forms, two "collapsed" forms reproduce what a write-up or a terminal copy does
to a traceback: every line's leading whitespace removed (in the journald form: the traceback's lines
only), `Traceback (most recent call last):` removed.

    python3 scripts/capture/derive-patroni-formats.py [SRC_LOG] [OUT_DIR]
      SRC_LOG default test/fixtures/patroni-3.0.2/pg1/patroni.log
      OUT_DIR default test/fixtures/patroni-derived
"""
import ast
import calendar
import json
import logging
import os
import re
import sys
import time

SRC = sys.argv[1] if len(sys.argv) > 1 else 'test/fixtures/patroni-3.0.2/pg1/patroni.log'
OUT = sys.argv[2] if len(sys.argv) > 2 else 'test/fixtures/patroni-derived'
PATRONI_SRC = os.environ.get('PATRONI_SRC', '/usr/lib/python3/dist-packages/patroni')
PID = int(os.environ.get('PATRONI_PID', '5152'))

# (file, format, dateformat, TZ): the forms people configure (`log.format`, `log.dateformat`).
FORMS = [
    ('formats/brackets.log', '[%(asctime)s][%(levelname)s] %(message)s', None, 'UTC'),  # patroni/patroni#3420
    ('formats/dash-name.log', '%(asctime)s - %(name)s - %(levelname)s - %(message)s', None, 'UTC'),
    ('formats/pipes-thread-pid.log', '%(asctime)s | %(threadName)s | %(process)d | %(levelname)s | %(message)s', None, 'UTC'),
    ('formats/zone-abbrev-shanghai.log', '%(asctime)s %(levelname)s: %(message)s', '%Y-%m-%d %H:%M:%S %Z', 'Asia/Shanghai'),
    ('formats/iso-offset-newyork.log', '%(asctime)s %(levelname)s: %(message)s', '%Y-%m-%dT%H:%M:%S%z', 'America/New_York'),
    ('formats/basicconfig.log', '%(levelname)s:%(name)s:%(message)s', None, 'UTC'),  # logging.BASIC_FORMAT
]
HEAD = re.compile(r'^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d),(\d{3}) ([A-Z]+): ?(.*)$')


def records(path):
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    if lines and lines[-1] == '':
        lines.pop()
    rec = None
    for line in lines:
        m = HEAD.match(line)
        if m:
            if rec:
                yield rec
            y, mo, d, h, mi, s, ms = (int(m.group(i)) for i in range(1, 8))
            rec = {'created': calendar.timegm((y, mo, d, h, mi, s)) + ms / 1000, 'msecs': ms,
                   'level': m.group(8), 'message': m.group(9), 'exc': []}
        elif rec is not None:
            if rec['exc'] or line.startswith('Traceback (most recent call last):'):
                rec['exc'].append(line)
            else:
                rec['message'] += '\n' + line
    if rec:
        yield rec


def module_table():
    """Message templates → dotted module name, from the installed Patroni source."""
    def to_regex(t):
        parts = re.split(r'(%[-0-9.]*[srdf]|\{[0-9]*(?::[^}]*)?\})', t)
        literal = sum(len(p) for i, p in enumerate(parts) if i % 2 == 0)
        return re.compile('^' + ''.join('.*' if i % 2 else re.escape(p) for i, p in enumerate(parts)) + '$', re.S), literal
    logged, results = [], []
    base = os.path.dirname(PATRONI_SRC)
    for root, _, files in os.walk(PATRONI_SRC):
        for fn in sorted(files):
            if not fn.endswith('.py'):
                continue
            path = os.path.join(root, fn)
            name = os.path.relpath(path, base)[:-3].replace(os.sep, '.')
            tree = ast.parse(open(path, encoding='utf-8').read())
            in_calls = set()
            for n in ast.walk(tree):
                if (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.args
                        and isinstance(n.func.value, ast.Name) and n.func.value.id == 'logger'
                        and isinstance(n.args[0], ast.Constant) and isinstance(n.args[0].value, str)):
                    rx, lit = to_regex(n.args[0].value.rstrip('\n'))
                    in_calls.add(id(n.args[0]))
                    if lit >= 6:
                        logged.append((rx, lit, name))
            if fn in ('ha.py', 'async_executor.py'):
                for n in ast.walk(tree):
                    if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in in_calls:
                        rx, lit = to_regex(n.value)
                        if lit >= 8:
                            results.append((rx, lit, 'patroni.__main__'))
    return logged, results


def name_of(msg, table):
    if msg == '' or re.match(r"^<\w+ error: '.*', code: \d+>$", msg):
        return 'patroni.dcs.etcd'  # AbstractEtcd._handle_exception
    if msg.endswith(' in progress'):
        return 'patroni.__main__'
    for templates in table:
        best = max(((lit, mod) for rx, lit, mod in templates if rx.match(msg)), default=None)
        if best:
            return best[1]
    return 'patroni'


def make_record(r, table):
    rec = logging.makeLogRecord({
        'name': name_of(r['message'], table), 'levelname': r['level'], 'levelno': logging.getLevelName(r['level']),
        'msg': r['message'], 'args': None, 'created': r['created'], 'msecs': r['msecs'],
        'threadName': 'MainThread', 'process': PID,
    })
    exc = list(r['exc'])
    while exc and exc[-1] == '':
        exc.pop()
    rec.exc_text = '\n'.join(exc) if exc else None
    return rec


def main():
    table = module_table()
    recs = list(records(SRC))
    os.makedirs(os.path.join(OUT, 'formats'), exist_ok=True)
    os.makedirs(os.path.join(OUT, 'collapsed'), exist_ok=True)
    for path, fmt, datefmt, tz in FORMS:
        os.environ['TZ'] = tz
        time.tzset()
        formatter = logging.Formatter(fmt, datefmt)
        with open(os.path.join(OUT, path), 'w', encoding='utf-8') as f:
            for r in recs:
                f.write(formatter.format(make_record(r, table)) + '\n')
    # `log: {type: json}` with Patroni's default format: python-json-logger's JsonFormatter takes the
    # fields named in the format (asctime, levelname, message) in order, asctime from
    # logging.Formatter.formatTime, then `exc_info` from the record's exc_text, and json.dumps them
    # (default separators, ensure_ascii). python-json-logger is not installed here, so this one
    # form is written with json.dumps, following pythonjsonlogger/jsonlogger.py (2.0.x) add_fields.
    os.environ['TZ'] = 'UTC'
    time.tzset()
    formatter = logging.Formatter()
    with open(os.path.join(OUT, 'formats/json-default-keys.jsonl'), 'w', encoding='utf-8') as f:
        for r in recs:
            rec = make_record(r, table)
            d = {'asctime': formatter.formatTime(rec), 'levelname': rec.levelname, 'message': rec.getMessage()}
            if rec.exc_text:
                d['exc_info'] = rec.exc_text
            f.write(json.dumps(d) + '\n')
    # Collapsed tracebacks: the brackets form, and the derived journald form, with indentation and
    # the `Traceback (most recent call last):` header removed.
    with open(os.path.join(OUT, 'formats/brackets.log'), encoding='utf-8') as f, \
            open(os.path.join(OUT, 'collapsed/brackets-collapsed.log'), 'w', encoding='utf-8') as out:
        for line in f.read().split('\n')[:-1]:
            if line.strip() != 'Traceback (most recent call last):':
                out.write(line.lstrip() + '\n')
    # In journald only the traceback lines are collapsed (from the header to the next record): the
    # indented `pg_controldata:` lines are entries a reader cannot tell from other messages.
    journal = os.path.join(OUT, 'journald/pg1.journal.txt')
    prefix = re.compile(r'^(\w{3} +\d+ [\d:]{8} \S+ [^\s\[:]+\[\d+\]: )(.*)$')
    with open(journal, encoding='utf-8') as f, \
            open(os.path.join(OUT, 'collapsed/pg1.journal-collapsed.txt'), 'w', encoding='utf-8') as out:
        in_tb = False
        for line in f.read().split('\n')[:-1]:
            m = prefix.match(line)
            if m and m.group(2).strip() == 'Traceback (most recent call last):':
                in_tb = True
                continue
            if not m or HEAD.match(m.group(2)):
                in_tb = False
            out.write((m.group(1) + m.group(2).lstrip() if m and in_tb else line) + '\n')
    print(f'{len(recs)} records from {SRC}', file=sys.stderr)


main()
