#!/usr/bin/env bash
# NetWatch's statistics at scale: /stats/summary and /stats/top-talkers (the two NetWatch's
# dashboard polls that read every host), p50/p99 over the same 1 M packets from 256 k
# distinct sources, on netsnoop (SQLite, data POSTed through `netsnoop serve`) and, when a
# NetWatch checkout and PostgreSQL are given, on NetWatch's own backend (FastAPI +
# PostgreSQL, rows loaded with COPY). Other NetWatch endpoints are listed for reference.
# Prints a markdown report on stdout.
#
# Usage: bench/netwatch/run.sh [PACKETS=1000000] [SOURCES=262144] [REQUESTS=50]
# NetWatch side (optional): NETWATCH_DIR=checkout of MehdiElHarami/Network-Monitoring,
#   NETWATCH_PY=python with fastapi, uvicorn, sqlalchemy and psycopg2 installed,
#   PG_BIN=dir with initdb and pg_ctl (PostgreSQL 15/16); run as a user that may run them.
set -euo pipefail
cd "$(dirname "$0")/../.."
packets=${1:-1000000} sources=${2:-262144} requests=${3:-50}
span=7200
here=bench/netwatch
cargo build --release --locked -p netsnoop --bin netsnoop >&2
bin=$PWD/target/release/netsnoop
work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -n "${pg_data:-}" ]; then "$PG_BIN/pg_ctl" -D "$pg_data" -m fast stop >/dev/null 2>&1 || su postgres -s /bin/sh -c "$PG_BIN/pg_ctl -D $pg_data -m fast stop" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
end=$(( $(date +%s) - 60 ))
paths=(/stats/summary /stats/top-talkers "/stats/top-talkers?by=bytes" /stats/protocol-distribution /packets/recent?limit=30 /alerts)

wait_http() { for _ in $(seq 300); do curl -sf "$1" >/dev/null && return; sleep 0.2; done; echo "bench/netwatch: $1 never answered" >&2; exit 1; }

# netsnoop: serve, POST the packets, wait until the rollups hold all of them.
mkdir -p "$work/ns"
env -u NETSNOOP_TOKEN "$bin" serve --data-dir "$work/ns" --config "$work/ns/none.toml" \
  --listen 127.0.0.1:18931 2>"$work/ns/serve.log" >/dev/null &
pids+=($!)
wait_http http://127.0.0.1:18931/health
t0=$(date +%s.%N)
python3 "$here/data.py" post "$packets" "$sources" "$span" "$end" http://127.0.0.1:18931/packets
for _ in $(seq 600); do
  got=$(curl -sf http://127.0.0.1:18931/stats/summary | sed 's/.*"total_packets":\([0-9]*\).*/\1/')
  [ "$got" = "$packets" ] && break; sleep 0.5
done
[ "$got" = "$packets" ] || { echo "bench/netwatch: netsnoop holds $got of $packets packets" >&2; exit 1; }
load_ns=$(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN{printf "%.0f", e-s}')
summary_ns=$(curl -sf http://127.0.0.1:18931/stats/summary)

# NetWatch: PostgreSQL on a free port, NetWatch's backend under uvicorn.
nw=""
if [ -n "${NETWATCH_DIR:-}" ] && [ -n "${NETWATCH_PY:-}" ] && [ -n "${PG_BIN:-}" ]; then
  pg_data=$work/pg
  as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
  mkdir -p "$pg_data"; [ "$(id -u)" = 0 ] && chown postgres "$pg_data" "$work"
  as_pg "$PG_BIN/initdb -D $pg_data -A trust -U netwatch >/dev/null"
  as_pg "$PG_BIN/pg_ctl -D $pg_data -o '-p 18933 -k /tmp -c listen_addresses=127.0.0.1' -l $pg_data/log -w start >/dev/null"
  psql() { command psql -h 127.0.0.1 -p 18933 -U netwatch -d postgres -v ON_ERROR_STOP=1 -q "$@"; }
  t0=$(date +%s.%N)
  # NetWatch's own table (models.py), filled with the same packets.
  psql -c "CREATE TABLE packets (id SERIAL PRIMARY KEY, timestamp VARCHAR, src_ip VARCHAR, dst_ip VARCHAR, protocol VARCHAR, packet_size INTEGER)"
  psql -c "CREATE INDEX ix_packets_id ON packets (id)"
  python3 "$here/data.py" copy "$packets" "$sources" "$span" "$end" \
    | psql -c "COPY packets (timestamp, src_ip, dst_ip, protocol, packet_size) FROM STDIN"
  psql -c "ANALYZE packets"
  load_nw=$(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN{printf "%.0f", e-s}')
  (cd "$NETWATCH_DIR/backend" && DATABASE_URL=postgresql+psycopg2://netwatch@127.0.0.1:18933/postgres \
    exec "$NETWATCH_PY" -m uvicorn main:app --host 127.0.0.1 --port 18932 --log-level warning) &
  pids+=($!)
  wait_http http://127.0.0.1:18932/stats/protocol-distribution
  nw=1
  summary_nw=$(curl -sf http://127.0.0.1:18932/stats/summary)
fi

echo "## NetWatch's statistics at scale ($(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "$packets packets from $sources sources over 2 h; $requests requests per endpoint on one"
echo "keep-alive connection, endpoints alternating between the servers."
echo
echo "- netsnoop (SQLite): loaded through POST /packets in ${load_ns} s; /stats/summary: \`$summary_ns\`"
[ -n "$nw" ] && echo "- NetWatch (FastAPI + PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}')): loaded with COPY in ${load_nw} s; /stats/summary: \`$summary_nw\`"
echo
if [ -n "$nw" ]; then
  echo "| endpoint | netsnoop p50 | p99 | NetWatch p50 | p99 | NetWatch / netsnoop (p50) |"
  echo "|---|---:|---:|---:|---:|---:|"
else
  echo "| endpoint | netsnoop p50 | p99 |"
  echo "|---|---:|---:|"
fi
for path in "${paths[@]}"; do
  read -r n50 n99 < <(python3 "$here/latency.py" 127.0.0.1 18931 "$path" "$requests")
  if [ -n "$nw" ]; then
    nreq=$requests; case $path in /stats/summary|/stats/top-talkers) nreq=$(( requests < 10 ? requests : 10 ));; esac
    read -r w50 w99 < <(python3 "$here/latency.py" 127.0.0.1 18932 "$path" "$nreq")
    if [[ $w50 == HTTP-* ]]; then
      echo "| \`$path\` | $n50 ms | $n99 ms | ${w50/-/ } | (NetWatch's own error) | — |"
    else
      echo "| \`$path\` | $n50 ms | $n99 ms | $w50 ms | $w99 ms | $(awk -v a="$w50" -v b="$n50" 'BEGIN{printf "%.0f×", a/b}') |"
    fi
  else
    echo "| \`$path\` | $n50 ms | $n99 ms |"
  fi
done
