// Golden files: regenerated only on purpose with UPDATE_GOLDEN=1; otherwise compared byte for byte.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT } from './cli.js';

export const GOLDEN_DIR = join(ROOT, 'test', 'golden');

/** Paths differ between machines: print them relative to the repository. */
export function normalize(text: string): string {
  return text.split(`${ROOT}/`).join('');
}

export function assertGolden(name: string, actual: string): void {
  const file = join(GOLDEN_DIR, name);
  const text = normalize(actual);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) {
    if (!process.env.UPDATE_GOLDEN && process.env.CI) assert.fail(`golden file ${name} is missing (run UPDATE_GOLDEN=1 npm test)`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    return;
  }
  assert.equal(text, readFileSync(file, 'utf8'), `output differs from test/golden/${name} (UPDATE_GOLDEN=1 to accept)`);
}
