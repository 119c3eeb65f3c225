// etcd server logs of every version: zap JSON, capnslog text, raft's and grpc-go's std-logger lines.
export { createEtcdLogParser, looksLikeEtcdLogLine, parseEtcdLogLine } from './parser.js';
