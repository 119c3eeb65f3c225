// The envelope layer's contract: a wrapper (CRI, docker json-file, journald, syslog, a shipper's prefix)
// is taken off each line and the inner line is handed on with what the wrapper knew: its time, host and
// tag. Types only; the formats live next to this file.
import type { OuterContext, ParseContext } from '../../model.js';

/** One inner line, numbered by the outer line it came from (the first, for joined lines). */
export interface InnerLine {
  text: string;
  lineNo: number;
  outer: OuterContext | null;
}

/** Stateful: CRI partial lines and multi-line journald records are joined before they are handed on. */
export interface Unwrapper {
  readonly name: string;
  push(line: string, lineNo: number): InnerLine[];
  end(): InnerLine[];
}

export interface EnvelopeFormat {
  /** As shown to the user: `cri`, `docker-json`, `journald-json`, `syslog-rfc5424`, … */
  readonly name: string;
  /** Does this one line carry the wrapper? Detection counts these over the sampled lines. */
  matches(line: string): boolean;
  /**
   * Multi-line formats (journald json-pretty, export) cannot be judged line by line: they judge the
   * whole sample and return the share of lines they account for (0..1). Optional.
   */
  matchSample?(sample: readonly string[]): number;
  /**
   * Judged only when no other format accounts for the sample: a learnt shipper prefix would otherwise
   * also fit the constant start of another wrapper's time (`2026-11-23T23:`).
   */
  readonly lastResort?: boolean;
  create(ctx: ParseContext, sample: readonly string[]): Unwrapper;
}
