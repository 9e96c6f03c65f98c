# bench/compare_report.sh: the report and plots of bench/compare, which
# sources this file after its runs. Reads compare's variables: R (figures by
# "server|run|field", medians over the rounds, and "server|run#round|field"
# per round), rounds, quiet_waits, legacy (--from of older output), ran, skipped, failed, runs_32, runs_1k,
# local_runs, data, report, run_date (optional) and the settings, and uses
# its spread(). Not meant to run on its own.

# The Redis each server is compared with: the same durability.
peer_of() {
  case "$1" in
    ember) echo redis-aof ;;
    ember-nofsync|memcached) echo redis-nopersist ;;
  esac
}

contains() {  # word list...: is word in list?
  local w=$1; shift
  for x in "$@"; do [ "$x" = "$w" ] && return 0; done
  return 1
}

ratio() {  # a b: "1.23x", or "" when either is missing or zero
  awk -v a="${1:-}" -v b="${2:-}" 'BEGIN {
    if (a == "" || b == "" || a == "-" || b == "-" || b + 0 == 0) exit
    printf "%.2fx", a / b }'
}

# server peer run field: the ratio of `field` for each round both ran,
# paired within the round, as "median [min-max]" ("1.05x [0.98-1.10]"; one
# round: "1.05x"); for a run without rounds (a load), the plain ratio.
paired_ratio() {
  local s=$1 p=$2 r=$3 f=$4 k a b pairs=()
  for ((k = 1; k <= ${rounds:-1}; k++)); do
    a=${R[$s|$r#$k|$f]:-}; b=${R[$p|$r#$k|$f]:-}
    [ -n "$a" ] && [ -n "$b" ] && pairs+=("$a $b")
  done
  if [ ${#pairs[@]} -eq 0 ]; then
    ratio "${R[$s|$r|$f]:-}" "${R[$p|$r|$f]:-}"
    return
  fi
  printf '%s\n' "${pairs[@]}" | awk '$2 + 0 != 0 { print $1 / $2 }' | spread |
    awk '{ if ($2 == $3) printf "%.2fx", $1
           else printf "%.2fx [%.2f-%.2f]", $1, $2, $3 }'
}

# A table of `field` for every run of `runs`: a column per server that ran
# (the median over the rounds), and after a server whose Redis peer ran, the
# ratio to it (paired_ratio).
figure_table() {  # field title runs...
  local field=$1 title=$2; shift 2
  local head="| $title |" rule="|---|" s p r row v
  for s in "${ran[@]}"; do
    head+=" $s |"; rule+="---|"
    p=$(peer_of "$s")
    if [ -n "$p" ] && contains "$p" "${ran[@]}"; then
      head+=" $s / $p |"; rule+="---|"
    fi
  done
  echo "$head"; echo "$rule"
  for r in "$@"; do
    row="| $r |"
    for s in "${ran[@]}"; do
      v=${R[$s|$r|$field]:--}
      row+=" $v |"
      p=$(peer_of "$s")
      if [ -n "$p" ] && contains "$p" "${ran[@]}"; then
        row+=" $(paired_ratio "$s" "$p" "$r" "$field") |"
      fi
    done
    echo "$row"
  done
  echo
}

write_report() {
  local runs=("${runs_32[@]}" "${runs_1k[@]}") timing
  timing="${warmup}s warm-up then ${duration}s per run"
  [ "$smoke" = 1 ] && timing="smoke: 2000 requests per run"
  local order="$rounds round(s); a round runs each workload against every"
  order+=" server back to back, the servers' order rotated by one a round"
  [ -n "${quiet_waits:-}" ] && order+=", each run once the servers are quiet (0.1 s with at most one CPU tick among them; waits of 5 s that ended without: $quiet_waits)"
  order+=". Figures are medians over the rounds"
  local mc="memcached is asked with meta gets (mg) and runs with -R 1000 (see bench/compare). "
  if [ "${legacy:-0}" = 1 ]; then
    order="one run per workload, each server's whole series in turn (output of an older compare)"
    mc="memcached was asked with classic gets. "
  fi
  echo "# Ember against Redis and memcached: ${run_date:-$(date '+%Y-%m-%d %H:%M')}, $host"
  echo
  echo "- Machine: $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)," \
       "$(nproc) cores; everything on one host over 127.0.0.1."
  echo "- Servers: ember-server ($(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo ?))," \
       "$(redis-server --version 2>/dev/null | awk '{print $1, $3}' || true)," \
       "$(memcached -V 2>/dev/null || true); $threads network thread(s) each" \
       "(ember also runs its writer thread). Not run: ${skipped[*]:-none}."
  echo "- Load: ember-bench (one epoll thread, $connections connections," \
       "pipeline per run), $timing;" \
       "16-byte keys; $keys keys of 32 bytes, then $keys_1k of 1 KiB, each" \
       "loaded once before its runs. Zipf runs: exponent 0.99."
  echo "- Rounds: $order."
  echo "- Run names: op-pDEPTH-VALUE[-zipf]; mix91 is 9 GET : 1 SET;" \
       "get1c: one connection. ${mc}Ratios: server / the Redis of the same durability, taken per round" \
       "and given as median [min-max] over the rounds (higher is" \
       "better for ops/s, lower for latency and memory)."
  echo "- Memory per key: (server VmRSS after loading the 32-byte keys -" \
       "VmRSS before) / keys. Ember's arena is shared memory mapped into" \
       "the server: when it was faulted in at start (already in the VmRSS" \
       "before the load, as ember does since it checks /dev/shm at start)," \
       "its arena_bytes are added (the growth alone is given below the table)."
  [ ${#failed[@]} -gt 0 ] && echo "- FAILED: ${failed[*]}"
  echo
  echo "## Throughput, ops/s"
  echo
  figure_table ops_per_s run "${runs[@]}"
  echo "## p50 latency, µs"
  echo
  figure_table p50_us run "${runs[@]}"
  echo "## p99 latency, µs"
  echo
  figure_table p99_us run "${runs[@]}"
  echo "## p99.9 latency, µs"
  echo
  figure_table p999_us run "${runs[@]}"
  echo "## Load phases and memory per key"
  echo
  local loads=(load-32); [ ${#runs_1k[@]} -gt 0 ] && loads+=(load-1k)
  figure_table ops_per_s "load ops/s" "${loads[@]}"
  figure_table rss_per_key_bytes "bytes per key (RSS)" load-32
  local g=""
  for s in "${ran[@]}" ember-sized; do
    [ -n "${R[$s|load-32|rss_growth_per_key_bytes]:-}" ] &&
      g+="${g:+, }$s ${R[$s|load-32|rss_growth_per_key_bytes]}"
  done
  [ -n "$g" ] && { echo "- RSS growth alone, without the arena, bytes per key: $g."; echo; }
  figure_table rss_after_mib "RSS after load, MiB" load-32
  if [ -n "${R[ember-sized|load-32|rss_per_key_bytes]:-}" ]; then
    echo "- ember with its arena sized for the keys" \
         "(arena_bytes ${R[ember-sized|load-32|arena_bytes]}, committed in /dev/shm" \
         "whether touched or not): ${R[ember-sized|load-32|rss_per_key_bytes]}" \
         "bytes per key (RSS), $(ratio "${R[ember-sized|load-32|rss_per_key_bytes]}" \
         "${R[redis-aof|load-32|rss_per_key_bytes]:-}") of redis-aof's," \
         "$(ratio "${R[ember-sized|load-32|rss_per_key_bytes]}" \
         "${R[memcached|load-32|rss_per_key_bytes]:-}") of memcached's."
    echo
  fi
  echo "## Local reads (same host, no socket)"
  echo
  echo "LocalClient::Get from ember's arena (the same 32-byte keys, uniform;" \
       "local-1t: one thread, local-2p: two processes of one thread) and" \
       "LMDB \`mdb_get\` (one thread) as the reference. Latency includes one" \
       "clock read per get."
  echo
  echo "| workload | ops/s | per reader | p50 µs | p99 µs | p99.9 µs | zero-copy hit ratio | keys |"
  echo "|---|---|---|---|---|---|---|---|"
  for l in "${local_runs[@]}"; do
    echo "| $l | ${R[local|$l|ops_per_s]:--} | ${R[local|$l|ops_per_s_per_reader]:-${R[local|$l|ops_per_s]:--}} |" \
         "${R[local|$l|p50_us]:--} | ${R[local|$l|p99_us]:--} | ${R[local|$l|p999_us]:--} |" \
         "${R[local|$l|hot_hit_ratio]:--} | ${R[local|$l|keys]:--} |"
  done
  echo
  local single=${R[redis-aof|get1c-p1-32|ops_per_s]:-}
  if [ -n "$single" ]; then
    echo "- local-1t against Redis (AOF) GET over one connection," \
         "no pipeline ($single ops/s): $(ratio "${R[local|local-1t|ops_per_s]:-}" "$single")."
  fi
  if [ -n "${R[local|local-1t|ops_per_s]:-}" ] && [ -n "${R[local|lmdb|ops_per_s]:-}" ]; then
    echo "- local-1t against LMDB mdb_get: $(ratio "${R[local|local-1t|ops_per_s]}" "${R[local|lmdb|ops_per_s]}")."
  fi
  echo
  if [ -n "${R[local|tiered-zipf|ops]:-}" ]; then
    local t=tiered-zipf
    echo "## Tiering (ember, arena ${R[local|$t|arena_bytes]:-?} bytes, ${R[local|$t|keys]} keys of 32 bytes, Zipf 0.99, LocalClient)"
    echo
    echo "| hot hit ratio | arena hits | server reads | hit p50 / p99 µs | server read p50 / p99 µs | cold hits | promotions | evictions |"
    echo "|---|---|---|---|---|---|---|---|"
    echo "| ${R[local|$t|hot_hit_ratio]} | ${R[local|$t|arena_hits]} | ${R[local|$t|server_reads]} |" \
         "${R[local|$t|hit_p50_us]} / ${R[local|$t|hit_p99_us]} |" \
         "${R[local|$t|server_p50_us]} / ${R[local|$t|server_p99_us]} |" \
         "${R[local|$t|cold_hits]:--} | ${R[local|$t|promotions]:--} | ${R[local|$t|evictions]:--} |"
    echo
  fi
  echo "## Every run"
  echo
  echo "| server | run | round | ops/s | mean µs | p50 | p99 | p99.9 | max | misses | errors | bench CPU s | server CPU s | server RSS MiB |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  local k x rs
  for s in "${ran[@]}"; do
    for r in load-32 "${runs_32[@]}" load-1k "${runs_1k[@]}"; do
      rs=(-); [ -n "${R[$s|$r|rounds]:-}" ] && rs=($(seq "$rounds"))
      for k in "${rs[@]}"; do
        x=$r; [ "$k" = - ] || x="$r#$k"
        [ -n "${R[$s|$x|ops]:-}" ] || continue
        echo "| $s | $r | $k | ${R[$s|$x|ops_per_s]} | ${R[$s|$x|mean_us]} |" \
             "${R[$s|$x|p50_us]} | ${R[$s|$x|p99_us]} | ${R[$s|$x|p999_us]} |" \
             "${R[$s|$x|max_us]} | ${R[$s|$x|misses]:--} | ${R[$s|$x|errors]:--} |" \
             "${R[$s|$x|cpu_s]:--} | ${R[$s|$x|server_cpu_s]:--} |" \
             "${R[$s|$x|server_rss_mib]:-${R[$s|$x|rss_after_mib]:--}} |"
      done
    done
  done
  echo
  echo "Raw ember-bench output and CDFs: \`$(basename "$data")/\`."
  if command -v gnuplot >/dev/null; then
    echo
    echo "## Plots"
    echo
    for p in throughput latency-cdf local-vs-remote; do
      echo "![$p]($(basename "$data")/$p.png)"
    done
  fi
}

# The run whose CDFs are plotted: GET at pipeline 1 if it ran.
cdf_run() {
  if contains get-p1-32 "${runs_32[@]}"; then echo get-p1-32; else echo "${runs_32[0]}"; fi
}

cdf_of() {  # server run: its first round's CDF file (older output: the run's)
  if [ -s "$data/$1.$2.r1.cdf" ]; then echo "$data/$1.$2.r1.cdf"; else echo "$data/$1.$2.cdf"; fi
}

make_plots() {
  if ! command -v gnuplot >/dev/null; then
    echo "compare: gnuplot not installed (Debian: gnuplot-nox); no plots" >&2
    return 0
  fi
  local s d f plot="" r c=$(cdf_run)
  # Throughput by pipeline depth, GET, 32 B, uniform: "depth ops/s" files.
  for s in "${ran[@]}"; do
    : >"$data/$s.depth.dat"
    for d in 1 4 16 64; do
      r=${R[$s|get-p$d-32|ops_per_s]:-}
      [ -n "$r" ] && echo "$d $r" >>"$data/$s.depth.dat"
    done
    plot+="${plot:+, }'$data/$s.depth.dat' using 1:2 with linespoints title '$s'"
  done
  [ -n "$plot" ] && gnuplot 2>>"$data/gnuplot.log" <<GP
set terminal pngcairo size 900,560
set output '$data/throughput.png'
set title 'GET, 32-byte values, uniform keys, $connections connections'
set xlabel 'pipeline depth'; set ylabel 'ops/s'
set logscale x 2; set key left top; set grid
plot $plot
GP
  # Latency CDFs of one run per server.
  plot=""
  for s in "${ran[@]}"; do
    f=$(cdf_of "$s" "$c")
    [ -s "$f" ] && plot+="${plot:+, }'$f' using 1:2 with lines title '$s'"
  done
  [ -n "$plot" ] && gnuplot 2>>"$data/gnuplot.log" <<GP
set terminal pngcairo size 900,560
set output '$data/latency-cdf.png'
set title 'Latency CDF: $c (round 1)'
set xlabel 'latency, µs'; set ylabel 'fraction of requests at or below'
set logscale x; set key right bottom; set grid
plot $plot
GP
  # Local against remote reads: the local workloads' CDFs (LocalClient,
  # LMDB) beside ember's and Redis's remote GET at pipeline 1.
  plot=""
  for l in "${local_runs[@]}"; do
    [ -s "$data/local.$l.cdf" ] &&
      plot+="${plot:+, }'$data/local.$l.cdf' using 1:2 with lines title 'local: $l'"
  done
  local c1=get1c-p1-32; contains "$c1" "${runs_32[@]}" || c1=$c
  for s in ember redis-aof; do
    f=$(cdf_of "$s" "$c1")
    [ -s "$f" ] && plot+="${plot:+, }'$f' using 1:2 with lines title 'remote: $s $c1'"
  done
  [ -n "$plot" ] && gnuplot 2>>"$data/gnuplot.log" <<GP
set terminal pngcairo size 900,560
set output '$data/local-vs-remote.png'
set title 'Read latency: local (same host, no socket) against remote'
set xlabel 'latency, µs'; set ylabel 'fraction of reads at or below'
set logscale x; set key right bottom; set grid
plot $plot
GP
  return 0
}
