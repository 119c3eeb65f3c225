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
etcd --version | head -1 >&2
