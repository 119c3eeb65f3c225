export * from './text-format.js';
export * from './etcd-metrics.js';
export * from './query-range.js';
