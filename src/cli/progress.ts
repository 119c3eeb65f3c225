// A progress bar on stderr for long ingests, only when stderr is a terminal: piped or redirected
// output (CI logs, `2> file`) gets nothing, so it stays byte-for-byte comparable.
import cliProgress from 'cli-progress';
import { safeText } from '../report/terminal-safe.js';

export interface Progress {
  update(bytes: number): void;
  stop(): void;
}

const NO_PROGRESS: Progress = { update: () => {}, stop: () => {} };

/** totalBytes null (stdin) or 0: no bar, since there is nothing to measure against. */
export function createProgress(totalBytes: number | null, rawLabel: string): Progress {
  // The label is a file name: data. Braces would be taken for the bar's own {tokens}.
  const label = safeText(rawLabel).replace(/[{}]/g, '?');
  if (!process.stderr.isTTY || !totalBytes || totalBytes <= 0) return NO_PROGRESS;
  const bar = new cliProgress.SingleBar({
    stream: process.stderr,
    format: `${label.length > 40 ? `…${label.slice(-39)}` : label} [{bar}] {percentage}% | {done}/{size} MB | ETA {eta_formatted}`,
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 50,
  }, cliProgress.Presets.shades_classic);
  const mb = (n: number): string => (n / 1e6).toFixed(1);
  bar.start(totalBytes, 0, { done: mb(0), size: mb(totalBytes) });
  return {
    update: (bytes) => bar.update(Math.min(bytes, totalBytes), { done: mb(bytes), size: mb(totalBytes) }),
    stop: () => bar.stop(),
  };
}
