// Every wrapper we know, in the order detection prefers them when two match equally: a CRI line is also
// a `kubectl logs --timestamps` line (time, space, text), and so is a journald short-iso line; the learnt
// shipper prefix comes last.
import type { EnvelopeFormat } from './types.js';
import { criFormat } from './cri.js';
import { dockerJsonFormat } from './docker.js';
import { journaldExportFormat, journaldJsonFormat, journaldJsonPrettyFormat } from './journald.js';
import { journaldShortIsoFormat, journaldShortPreciseFormat, rsyslogRfc3339Format } from './syslog.js';
import { syslogRfc5424Format } from './rfc5424.js';
import { kubectlTimestampsFormat } from './kubectl.js';
import { shipperPrefixFormat } from './shipper.js';

export const ENVELOPE_FORMATS: readonly EnvelopeFormat[] = [
  criFormat,
  dockerJsonFormat,
  journaldJsonFormat,
  journaldJsonPrettyFormat,
  journaldExportFormat,
  journaldShortIsoFormat,
  rsyslogRfc3339Format,
  journaldShortPreciseFormat,
  syslogRfc5424Format,
  kubectlTimestampsFormat,
  shipperPrefixFormat,
];
