// Patroni's own write budget, from the loop_wait/ttl in force (its YAML, the settings table): each HA loop
// every member writes its members/<name> key (Patroni 2.1.6–3.0.x every loop; later ones when the key's data
// changed), and the leader writes /status and its /leader key. Lease keep-alives (ttl) add no revision. Compared
// with the measured revision rate this says whether Patroni alone explains the writes, or other writers exist.
import type { Churn, Growth } from './types.js';
import { patroniNames, patroniNumber, type SettingsInForce } from './settings.js';

export interface PatroniBudget {
  loopWait: number | null;
  members: number | null;
  /** Revisions per second Patroni itself writes at most. */
  perSecond: number | null;
  /** Measured revisions per second ÷ the budget. */
  ratio: number | null;
  text: string;
}

const DEFAULT_LOOP_WAIT = 10; // patroni/config.py: loop_wait 10, ttl 30, retry_timeout 10
const PATRONI_KEY = /\/(members\/[^/]+|members\/\*|status|leader|config|initialize|failover|sync|history|optime(\/.*)?|failsafe)$/;

export function patroniBudget(settings: SettingsInForce, churn: Churn, growth: Growth): PatroniBudget {
  const lw = patroniNumber(settings, 'loop_wait');
  const ttl = patroniNumber(settings, 'ttl');
  const retry = patroniNumber(settings, 'retry_timeout');
  const memberKeys = new Set(churn.keys.map((k) => /\/members\/([^/]+)$/.exec(k.key)?.[1]).filter((x): x is string => !!x));
  const names = patroniNames(settings);
  const members = memberKeys.size || names.length || null;
  if (lw.length === 0 && memberKeys.size === 0) {
    return { loopWait: null, members: null, perSecond: null, ratio: null, text: '' };
  }
  const loopWait = lw[0]?.value ?? DEFAULT_LOOP_WAIT;
  const lwText = lw.length ? `loop_wait ${loopWait} s (${lw[0]!.where}${distinct(lw) > 1 ? `; other values elsewhere: ${lw.filter((x) => x.value !== loopWait).map((x) => `${x.value} s at ${x.where}`).join(', ')}` : ''})`
    : `loop_wait ${DEFAULT_LOOP_WAIT} s (Patroni's default: no Patroni configuration in the data)`;
  const extra = [ttl[0] ? `ttl ${ttl[0].value} s (${ttl[0].where}; lease keep-alives add no revision)` : '', retry[0] ? `retry_timeout ${retry[0].value} s (${retry[0].where})` : '']
    .filter(Boolean).join(', ');
  if (members === null) {
    return { loopWait, members: null, perSecond: null, ratio: null, text: `Patroni settings: ${lwText}${extra ? `, ${extra}` : ''}; no member count in the data, so no write budget.` };
  }
  const perSecond = (members + 2) / loopWait;
  const measured = growth.revisionsPerSecond;
  const ratio = measured !== null && measured > 0 ? measured / perSecond : null;
  // churn.ts names Patroni's groups by their key ('patroni members key', 'patroni status key', …).
  const others = churn.groups.filter((g) => !g.rule.startsWith('patroni') && !PATRONI_KEY.test(g.group)).slice(0, 3);
  const othersText = others.length ? ` Writes outside Patroni's keys: ${others.map((g) => `${g.group} ${(100 * g.share).toFixed(1)}%`).join(', ')} (${others[0]!.evidence.completeness} evidence).` : '';
  const verdict = ratio === null ? `no measured rate to compare with${others.length ? ' (but writes outside Patroni\'s keys are in the data: other writers exist)' : ''}`
    : ratio > 1.5 ? `measured ${measured!.toFixed(2)} revisions/s is ${ratio.toFixed(1)}× that budget: other writers exist, or Patroni's loop runs faster than this loop_wait says`
      : ratio >= 0.3 ? `measured ${measured!.toFixed(2)} revisions/s is ${ratio.toFixed(2)}× that budget: Patroni alone explains the writes`
        : `measured ${measured!.toFixed(2)} revisions/s is ${ratio.toFixed(2)}× that budget: Patroni writes less than every loop (members/status only when changed, Patroni ≥ 3.1)`;
  return {
    loopWait, members, perSecond, ratio,
    text: `Patroni's write budget: ${members} member(s)${memberKeys.size ? ' (members/<name> keys written)' : ' (Patroni configurations)'} × one write per ${lwText}, ` +
      `plus /status and /leader by the leader = ${perSecond.toFixed(2)} revisions/s (${Math.round(perSecond * 3600)}/h)${extra ? `; ${extra}` : ''}; ${verdict}.${othersText}`,
  };
}

function distinct(xs: { value: number }[]): number {
  return new Set(xs.map((x) => x.value)).size;
}
