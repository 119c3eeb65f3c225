// etcd server logs of every version: zap JSON, capnslog text, raft's and grpc-go's std-logger lines.
export { createEtcdLogParser, etcdLogSeamMismatch, looksLikeEtcdLogLine, parseEtcdLogLine } from './parser.js';
