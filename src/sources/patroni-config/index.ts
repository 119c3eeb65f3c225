// Patroni's YAML configuration: scope, namespace, DCS kind and hosts, loop_wait/ttl/retry_timeout, log settings.
export { looksLikePatroniConfig, parsePatroniConfig, patroniConfigSettings } from './parser.js';
export type { PatroniConfig, PatroniSetting } from './parser.js';
