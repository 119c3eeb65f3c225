#!/usr/bin/env bash
# Do the fixtures and samples still ingest to the same rows? Ingests every text and snapshot file that
# OLD_REF's tree has under test/fixtures and samples, once with OLD_REF's build (a git worktree) and once
# with the current build, one store per file, and prints DIFF <file> where the per-table row counts or
# the events' (line, kind) sequence differ. Each difference is then explained (or fixed) by hand.
#
#   npm run build && bash scripts/compare-rows.sh 6e46bad
set -euo pipefail
cd "$(dirname "$0")/.."
OLD_REF=${1:?usage: compare-rows.sh OLD_REF}
NEW=$PWD
WORK=$(mktemp -d)
trap 'git -C "$NEW" worktree remove --force "$WORK/old" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
git worktree add -f "$WORK/old" "$OLD_REF" >/dev/null 2>&1
ln -s "$NEW/node_modules" "$WORK/old/node_modules"
(cd "$WORK/old" && npx tsc -p tsconfig.json >/dev/null)
q="SELECT 'events', count(*), total(coalesce(ts_ms,0)), group_concat(line||':'||kind, ',') FROM (SELECT * FROM events ORDER BY line, id)
   UNION ALL SELECT 'requests', count(*), 0, '' FROM etcd_requests UNION ALL SELECT 'status', count(*), total(coalesce(db_size_bytes,0)), '' FROM status_samples
   UNION ALL SELECT 'alarms', count(*), 0, '' FROM alarms UNION ALL SELECT 'members', count(*), 0, '' FROM members UNION ALL SELECT 'issues', count(*), 0, '' FROM issues"
same=0; diff=0
while IFS= read -r f; do
  for side in old new; do
    root=$([ "$side" = old ] && echo "$WORK/old" || echo "$NEW")
    db="$WORK/$side.db"; rm -f "$db"*
    node "$root/bin/etcd-forensics.js" ingest --db "$db" "$WORK/old/$f" >/dev/null 2>&1 || true
    if [ -f "$db" ]; then node "$root/bin/etcd-forensics.js" query --db "$db" --json "$q" > "$WORK/$side.json" 2>/dev/null || echo refused > "$WORK/$side.json"
    else echo refused > "$WORK/$side.json"; fi
  done
  if cmp -s "$WORK/old.json" "$WORK/new.json"; then same=$((same + 1)); continue; fi
  diff=$((diff + 1))
  # What differs: per-table counts, and for events (same lines) which kinds became which.
  node -e '
    const fs = require("fs");
    const read = (p) => { try { return JSON.parse(fs.readFileSync(p, "utf8")); } catch { return null; } };
    const [o, n] = [read(process.argv[1]), read(process.argv[2])];
    if (!o || !n) { console.log(`DIFF ${process.argv[3]}: ${o ? "" : "old refused "}${n ? "" : "new refused"}`); process.exit(0); }
    const rows = (r) => Object.fromEntries(r.map((x) => { const v = Object.values(x); return [v[0], v]; }));
    const [a, b] = [rows(o), rows(n)];
    const parts = [];
    for (const t of Object.keys(a)) if (a[t][1] !== b[t][1]) parts.push(`${t} ${a[t][1]} → ${b[t][1]}`);
    if (a.events[1] === b.events[1]) {
      if (a.events[2] !== b.events[2]) parts.push("event times differ");
      const ea = String(a.events[3] ?? "").split(","), eb = String(b.events[3] ?? "").split(",");
      const moved = new Map();
      ea.forEach((x, i) => { if (x !== eb[i]) { const k = `${x.split(":")[1]} → ${eb[i].split(":")[1]}`; moved.set(k, (moved.get(k) ?? 0) + 1); } });
      for (const [k, c] of moved) parts.push(`${k} ×${c}`);
    }
    console.log(`DIFF ${process.argv[3]}: ${parts.join("; ")}`);
  ' "$WORK/old.json" "$WORK/new.json" "$f"
done < <(git -C "$WORK/old" ls-files test/fixtures samples | grep -Ev '\.(md|env)$')
echo "$same files give the same rows, $diff differ"
