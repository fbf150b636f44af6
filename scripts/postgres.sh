#!/usr/bin/env bash
# Prints a PostgreSQL URL the test suite can create databases on, starting (or, on a
# machine without one, installing) the local server first. Uses TEST_POSTGRES_URL when set.
set -euo pipefail

if [ -n "${TEST_POSTGRES_URL:-}" ]; then
  echo "$TEST_POSTGRES_URL"
  exit 0
fi
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sudo -u postgres sh -c "$*"; fi; }
url="postgres://postgres@127.0.0.1:5432/test"

ready() { command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; }

if ! ready; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    echo "postgres: installing PostgreSQL" >&2
    as_root apt-get update -qq >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  echo "postgres: starting cluster $version/main" >&2
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
  for _ in $(seq 1 60); do ready && break; sleep 0.5; done
  ready || { echo "postgres: the server did not come up" >&2; exit 1; }
fi

# A fresh Debian install asks for a password on TCP; this machine kind trusts local TCP.
if ! psql "$url" -Atc 'SELECT 1' >/dev/null 2>&1; then
  echo "postgres: allowing passwordless TCP from 127.0.0.1 for the test suite" >&2
  hba=$(as_postgres "psql -Atc 'SHOW hba_file'")
  if ! as_root grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    as_root sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
    as_postgres "psql -Atc 'SELECT pg_reload_conf()'" >/dev/null
  fi
  psql "postgres://postgres@127.0.0.1:5432/postgres" -Atc 'CREATE DATABASE test' >/dev/null 2>&1 || true
fi
echo "$url"
