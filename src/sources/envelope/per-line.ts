// Most wrappers are a prefix on each line, read on its own: this turns "unwrap one line" into the
// stream the pipeline wants. A line without the wrapper (a journald continuation, a stray line of a
// paste) passes as it is.
import type { OuterContext } from '../../model.js';
import type { Unwrapper } from './types.js';

export interface UnwrappedLine {
  text: string;
  outer: OuterContext | null;
}

export function perLineUnwrapper(name: string, unwrapLine: (line: string) => UnwrappedLine | null): Unwrapper {
  return {
    name,
    push: (line, lineNo) => {
      const u = unwrapLine(line);
      return [u ? { text: u.text, lineNo, outer: u.outer } : { text: line, lineNo, outer: null }];
    },
    end: () => [],
  };
}
