// etcdctl/etcdutl output in every -w format, and pasted transcripts that mix it with logs and prose.
export { createEtcdctlParser, createEtcdctlOutputParser, looksLikeEtcdctlOutput, type EtcdctlParserOptions } from './parser.js';
export { parseCommandLine, type ShellCommand } from './command.js';
export { createTranscriptParser } from './transcript.js';
