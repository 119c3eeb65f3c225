#!/usr/bin/env bash
# Installs the Debian packages the tests start for real (etcd, etcdctl, Patroni; PostgreSQL 15 is on
# the machine) when they are missing. Runs as `pretest`, so `npm test` works on a fresh machine.
# Tests never skip silently: if this fails, npm test fails.
set -euo pipefail
need=()
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || need+=(etcd-client)
command -v patroni >/dev/null 2>&1 || need+=(patroni)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v jq >/dev/null 2>&1 || need+=(jq)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v cmark-gfm >/dev/null 2>&1 || need+=(cmark-gfm)
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)   # test/fleet-prometheus.test.ts, bench/fleet-bench.ts (promtool)
if [ "${#need[@]}" -gt 0 ]; then
  echo "installing ${need[*]} (needed by the tests)" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
# Debian's etcd-server package starts a system etcd on 127.0.0.1:2379; the tests pick their own ports,
# but stop it so it cannot be mistaken for a test server.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet etcd 2>/dev/null; then
  systemctl stop etcd || true
fi
# Debian's prometheus package starts a system Prometheus on :9090 (and its node exporter); the tests start their
# own on kernel-picked ports, so stop these so they cannot be mistaken for a test server.
for unit in prometheus prometheus-node-exporter; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$unit" 2>/dev/null; then systemctl stop "$unit" || true; fi
done
etcd --version | head -1 >&2
# etcd 3.5.16 (Debian trixie) unpacked next to the system's 3.4.23: test/helpers/etcd-cluster.ts runs both
# (test/runbook-e2e.test.ts, test/capture-matrix.test.ts). Fetched without touching the system's apt state;
# if the fetch fails or trixie no longer has 3.5.16, this fails and so does npm test.
DEBIAN_CACHE=${CACHE_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/etcd-forensics/debian}
have_3516() { compgen -G "$DEBIAN_CACHE/trixie/etcd-server-3.5.16-*/usr/bin/etcd" >/dev/null && compgen -G "$DEBIAN_CACHE/trixie/etcd-client-3.5.16-*/usr/bin/etcdctl" >/dev/null; }
if ! have_3516; then
  echo "fetching etcd 3.5.16 from Debian trixie into $DEBIAN_CACHE/trixie (needed by the tests)" >&2
  bash "$(dirname "$0")/fetch-debian-packages.sh" trixie etcd-server etcd-client >&2
  have_3516 || { echo "etcd 3.5.16 is not under $DEBIAN_CACHE/trixie after the fetch (trixie's etcd-server moved on?); the tests need it" >&2; exit 1; }
fi
