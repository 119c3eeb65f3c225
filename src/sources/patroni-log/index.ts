// Patroni logs: its default Python logging format, custom formats, JSON, journald; PostgreSQL lines inside.
export { createPatroniLogParser, looksLikePatroniLogLine, parseSystemctlActiveLine } from './parser.js';
