// etcdctl/etcdutl output in every -w format, and pasted transcripts that mix it with logs and prose.
export { createEtcdctlParser, looksLikeEtcdctlOutput, type EtcdctlParserOptions } from './parser.js';
export { createTranscriptParser } from './transcript.js';
