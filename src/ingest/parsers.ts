// The registry of text parsers by source kind.
import type { ParseContext, StreamParser } from '../model.js';
import type { TextKind } from './detect.js';
import { createEtcdLogParser } from '../sources/etcd-log/index.js';
import { createPatroniLogParser } from '../sources/patroni-log/index.js';
import { createEtcdctlParser } from '../sources/etcdctl/index.js';
import { createTranscriptParser } from '../sources/etcdctl/index.js';

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
