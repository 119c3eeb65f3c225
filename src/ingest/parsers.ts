// The registry of text parsers by source kind.
import type { ParseContext, StreamParser } from '../model.js';
import type { TextKind } from './detect.js';
import { createEtcdLogParser } from './etcd-log.js';
import { createPatroniLogParser } from './patroni-log.js';
import { createEtcdctlParser } from './etcdctl.js';
import { createTranscriptParser } from './transcript.js';

export function createParser(kind: TextKind, ctx: ParseContext): StreamParser {
  switch (kind) {
    case 'etcd-log':
      return createEtcdLogParser(ctx);
    case 'patroni-log':
      return createPatroniLogParser(ctx);
    case 'etcdctl':
      return createEtcdctlParser(ctx);
    case 'transcript':
      return createTranscriptParser(ctx);
  }
}
