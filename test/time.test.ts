// The timestamp reader: the regex-free fast path must agree with the general one on every form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseTimestamp } from '../src/units/time.js';

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

test('explicit-zone timestamps: the fast path equals Date.parse of the same instant, in every zap/Patroni form', () => {
  fc.assert(fc.property(
    fc.integer({ min: 2000, max: 2099 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 }),
    fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 59 }),
    fc.option(fc.stringMatching(/^[0-9]{1,9}$/), { nil: null }), fc.integer({ min: -12 * 60, max: 14 * 60 }),
    fc.constantFrom('T', ' '), fc.constantFrom('', ' '), fc.constantFrom('hhmm', 'hh:mm', 'Z'),
    (y, mo, d, h, mi, s, frac, off, sep, space, zoneForm) => {
      const offset = zoneForm === 'Z' ? 0 : off;
      const sign = offset < 0 ? '-' : '+';
      const a = Math.abs(offset);
      const zone = zoneForm === 'Z' ? 'Z' : `${sign}${pad(Math.floor(a / 60))}${zoneForm === 'hh:mm' ? ':' : ''}${pad(a % 60)}`;
      const text = `${y}-${pad(mo)}-${pad(d)}${sep}${pad(h)}:${pad(mi)}:${pad(s)}${frac === null ? '' : `.${frac}`}${space}${zone}`;
      const ms = frac === null ? 0 : Math.floor(Number(`0.${frac}`) * 1000 + 1e-6);
      const expected = Date.UTC(y, mo - 1, d, h, mi, s, ms) - offset * 60_000;
      assert.deepEqual(parseTimestamp(text, { tz: null }), { ms: expected, offsetMin: offset, basis: 'explicit' }, text);
    },
  ));
});

test('zone-less and malformed timestamps take the general path', () => {
  assert.deepEqual(parseTimestamp('2023-09-24 04:30:23,123', { tz: null }), { ms: Date.UTC(2023, 8, 24, 4, 30, 23, 123), offsetMin: null, basis: 'assumed-zone' });
  assert.deepEqual(parseTimestamp('2023-09-24 04:30:23,123', { tz: '+08:00' })?.ms, Date.UTC(2023, 8, 23, 20, 30, 23, 123));
  assert.equal(parseTimestamp('2023-09-24T04:30:23.+0800', { tz: null }), null);
  assert.equal(parseTimestamp('2023-09-24T04:3x:23Z', { tz: null }), null);
});

test('impossible calendar times are not times: Date.UTC would roll them into another day', () => {
  for (const t of ['2026-02-29T00:00:00Z', '2026-04-31 10:00:00 +0800', '2026-00-10T00:00:00Z', '2026-12-32T00:00:00Z',
    '2026-11-30T24:00:00Z', '2026-11-30T23:60:00Z', '2026-11-30T23:59:61Z', '2026-11-30T10:00:00+1500', '2026-11-30T10:00:00+08:60']) {
    assert.equal(parseTimestamp(t, { tz: null }), null, t);
  }
  assert.equal(parseTimestamp('2024-02-29T00:00:00Z', { tz: null })?.ms, Date.UTC(2024, 1, 29));
  assert.equal(parseTimestamp('2026-11-30 10:00:00', { tz: null })?.ms, Date.UTC(2026, 10, 30, 10));
  assert.equal(parseTimestamp('2026-11-31 10:00:00', { tz: null }), null);
  assert.equal(parseTimestamp('2026-11-30T10:00:00-1200', { tz: null })?.ms, Date.UTC(2026, 10, 30, 22));
});
