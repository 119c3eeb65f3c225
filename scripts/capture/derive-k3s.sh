#!/usr/bin/env bash
# k3s fixtures are REAL lines people posted publicly (test/fixtures/k3s-derived/README.md names each source).
# Two files are kept verbatim. One is derived mechanically: the k3s#9251 paste (k3s-9251-paste.txt) shows
# `journalctl -u k3s` output whose date and host columns the poster cut off, leaving `bash[463359]: ` before
# each k3s line; this takes that remainder of the journald short prefix off, nothing else (the terminal's
# `>` cut marks at the end of each line stay: the lines are truncated in the paste itself).
# Usage: bash scripts/capture/derive-k3s.sh   (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=test/fixtures/k3s-derived
sed -E 's/^bash\[[0-9]+\]: //' "$dir/k3s-9251-paste.txt" > "$dir/k3s-9251.log"
echo "wrote $dir/k3s-9251.log"
