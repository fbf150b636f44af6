#!/usr/bin/env bash
# What sending a write's statements to PostgreSQL together (a pipeline) would save,
# measured before building it (issue 12; ARCHITECTURE.md, "The write path", thirteenth
# session).
#
#   ./scripts/pg-pipeline.sh [ROUNDS] [SECONDS] [RATE]      (defaults 4, 15, 200)
#
# On a fresh database of the local PostgreSQL (the app's migrations, one team of 5),
# pgbench runs the statements of one unwatched team `expenses/create` as the server
# sends them today, one round trip each (BEGIN, the stream head taken, the caller, the
# expense, the notify policy's read, the head advanced, the event, the budget look-up,
# COMMIT), and the same write in three pipelined flights (BEGIN + head + caller; the
# expense + policy + budget; head and event in one statement + COMMIT), alternated,
# ROUNDS times each, at RATE transactions a second for SECONDS, pgbench on CPU 1. It
# prints, per transaction, the CPU and the wake-ups (voluntary switches) of the
# connection's backend and of pgbench itself, read from /proc over SECONDS from the
# client's first commit. pgbench (libpq) stands in for the server's driver; sqlx on tokio costs more per
# round trip. The database is dropped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-4}
seconds=${2:-15}
rate=${3:-200}
base=$(./scripts/postgres.sh)
base=${base%/*}
db="ll_pg_pipeline_$$"
url="$base/$db"
work=$(mktemp -d)
cleanup() {
  rm -rf "$work"
  psql "$base/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT
psql "$base/postgres" -qc "CREATE DATABASE $db"
for f in app/migrations/postgres/*.sql; do psql "$url" -q -v ON_ERROR_STOP=1 -f "$f"; done
psql "$url" -q -v ON_ERROR_STOP=1 <<'SQL'
INSERT INTO users (email, display_name, password_hash, created_at)
  SELECT 'member' || i || '@example.com', 'Member ' || i, 'not a hash', 0 FROM generate_series(1, 5) i;
INSERT INTO workspaces (name, kind, created_by, created_at) VALUES ('Team', 'team', 1, 0);
INSERT INTO memberships (workspace_id, user_id, role, joined_at)
  SELECT 1, i, CASE WHEN i = 1 THEN 'owner' ELSE 'member' END, 0 FROM generate_series(1, 5) i;
SQL

# A 500-byte envelope, about an expense's; no colons (pgbench reads `:name` as a variable).
envelope="'{\"v\"=1,\"stream\"=\"workspace-1\",\"kind\"=\"expense-created\",\"payload\"={\"amount_minor\"=1234,\"currency\"=\"EUR\",\"category\"=\"food\",\"description\"=\"lunch\"},\"pad\"=\"$(printf 'x%.0s' $(seq 1 380))\"}'"
lock="INSERT INTO stream_heads (stream, last_seq) VALUES ('workspace-1', 0) ON CONFLICT (stream) DO UPDATE SET last_seq = stream_heads.last_seq;"
caller="SELECT u.email, u.display_name, u.token_version, m.role FROM users u LEFT JOIN memberships m ON m.user_id = u.id AND m.workspace_id = 1 WHERE u.id = 1;"
expense="INSERT INTO expenses (workspace_id, amount_minor, currency, category, description, spent_on, created_by, created_at, updated_at) VALUES (1, :amount, 'EUR', 'food', 'lunch', '2026-12-07', 1, 0, 0) RETURNING id;"
policy="SELECT w.name, m.user_id, p.mode FROM workspaces w LEFT JOIN memberships m ON m.workspace_id = w.id AND m.user_id <> 1 LEFT JOIN notification_preferences p ON p.workspace_id = w.id AND p.user_id = m.user_id AND p.topic = 'expenses' WHERE w.id = 1 ORDER BY m.user_id;"
budget="SELECT id FROM budgets WHERE workspace_id = 1 AND category = 'food' AND currency = 'EUR';"
advance="INSERT INTO stream_heads (stream, last_seq) VALUES ('workspace-1', 1) ON CONFLICT (stream) DO UPDATE SET last_seq = stream_heads.last_seq + 1 RETURNING last_seq"

cat > "$work/serial.sql" <<SQL
\set amount random(100, 10000)
BEGIN;
$lock
$caller
$expense
$policy
$advance \gset
INSERT INTO events (stream, seq, kind, envelope, created_at) VALUES ('workspace-1', :last_seq, 'expense-created', $envelope, 0);
$budget
COMMIT;
SQL
cat > "$work/pipelined.sql" <<SQL
\set amount random(100, 10000)
\startpipeline
BEGIN;
$lock
$caller
\endpipeline
\startpipeline
$expense
$policy
$budget
\endpipeline
\startpipeline
WITH h AS ($advance) INSERT INTO events (stream, seq, kind, envelope, created_at) SELECT 'workspace-1', h.last_seq, 'expense-created', $envelope, 0 FROM h;
COMMIT;
\endpipeline
SQL

cpu() { awk '{print $1}' "/proc/$1/schedstat"; }
wakes() { awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$1/status"; }
measure() {
  local script=$1
  taskset -c 1 pgbench -n -M prepared -f "$work/$script.sql" -T $((seconds + 4)) -R "$rate" "$url" > "$work/out" 2>&1 &
  local bench=$!
  local backend=""
  until [ -n "$backend" ]; do
    # pgbench gone before its connection showed: it failed, and says why.
    kill -0 "$bench" 2>/dev/null || { cat "$work/out" >&2; exit 1; }
    # The client's connection, once it has committed a write (pgbench's first
    # connection, which only looks around, closes again).
    backend=$(psql "$url" -Atc "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgbench' AND datname = current_database() AND query LIKE 'COMMIT%'")
  done
  local b0 c0 bw0 cw0 b1 c1 bw1 cw1
  b0=$(cpu "$backend"); c0=$(cpu "$bench"); bw0=$(wakes "$backend"); cw0=$(wakes "$bench")
  sleep "$seconds" # the measured window
  b1=$(cpu "$backend"); c1=$(cpu "$bench"); bw1=$(wakes "$backend"); cw1=$(wakes "$bench")
  wait "$bench"
  local tx=$((seconds * rate))
  awk -v s="$script" -v r="$rate" -v tx="$tx" -v b=$((b1 - b0)) -v c=$((c1 - c0)) -v bw=$((bw1 - bw0)) -v cw=$((cw1 - cw0)) \
    -v lat="$(awk '/latency average/ {print $4}' "$work/out")" \
    'BEGIN { printf "%-9s at %d/s: backend %4.0f µs and %.1f wake-ups per write; pgbench %4.0f µs and %.1f wake-ups; latency %s ms\n", s, r, b / 1000 / tx, bw / tx, c / 1000 / tx, cw / tx, lat }'
}
for _ in $(seq "$rounds"); do
  measure serial
  measure pipelined
done
