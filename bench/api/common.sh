# Shared by bench/api/run.sh and compare.sh (sourced): starting a server, and the
# endpoints whose latency is measured. Callers define `pids=()` and clean it up.

# serve BIN DIR PORT: `netsnoop serve` over DIR on PORT, once /health answers.
serve() {
  local bin=$1 dir=$2 port=$3
  env -u NETSNOOP_TOKEN "$bin" serve --data-dir "$dir" --config "$dir/none.toml" \
    --listen "127.0.0.1:$port" 2>"$dir/serve.log" >/dev/null &
  pids+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && return; sleep 0.1; done
  echo "bench/api: server on $port did not start: $(cat "$dir/serve.log")" >&2; exit 1
}

# endpoints SINCE: the statistics and listing paths measured, one per line.
endpoints() {
  printf '%s\n' "/stats/summary" "/stats/summary?since=$1" "/stats/top-talkers" \
    "/stats/top-talkers?since=$1" "/stats/protocol-distribution" "/stats/traffic-over-time" \
    "/stats/traffic-over-time?bucket=30s" "/packets/recent?limit=20" "/alerts" "/flows"
}
