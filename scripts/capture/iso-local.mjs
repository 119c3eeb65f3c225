// Local time with its offset and milliseconds, as the capture scripts stamp lines:
// "2026-11-24T07:26:54.179+08:00".
export function isoLocal(d = new Date()) {
  const off = -d.getTimezoneOffset();
  const p = (n, w = 2) => String(Math.trunc(Math.abs(n))).padStart(w, '0');
  const sign = off >= 0 ? '+' : '-';
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(
    d.getSeconds(),
  )}.${p(d.getMilliseconds(), 3)}${sign}${p(off / 60)}:${p(off % 60)}`;
}
