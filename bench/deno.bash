# bench/deno.bash: the Deno client's scenarios, sourced by `bench/run deno`
# after bench/run has built the programs and defined its helpers; it
# starts its own server, runs its rounds, prints its report and exits.
#
# Deno's own KV client runs bench/deno_ops.ts: sets and gets of 1 KiB JSON
# values over the bench keys, each set followed by the get of its key,
# every answer checked (a get must answer the value and versionstamp just
# set) and only checked ops counted. Three faces of the same work:
#
#   rest-1, rest-8      wrk (bench/kv.lua getput: 50% GET, 50% PUT of the
#                       same keys, every answer checked) with 1 connection
#                       (-t1 -c1) and 8 (-t2 -c8): the REST baseline
#   connect-1           one deno process over KV Connect through lighttpd
#   connect-8p          8 deno processes at once over KV Connect: 8 clients,
#                       8 HTTP/2 connections
#   connect-8l          one deno process running 8 loops at once on its one
#                       Deno.Kv: one HTTP/2 connection that they share
#   sqlite-1, sqlite-8p, sqlite-8l
#                       the same on Deno's local KV, one SQLite file in
#                       the run's directory, seeded with the same keys
#   connect-sync-1, connect-sync-8p
#                       connect-1 and connect-8p against a second server
#                       whose store has sync = on: Deno's SQLite KV syncs
#                       its write-ahead log at each commit (WAL with
#                       SQLite's default synchronous = FULL), kv's
#                       shipped configuration (sync = off) does not
#
# Several processes are what several clients of a service are; the loops
# in one process are how one program spreads its work, and what Deno's
# local KV is built for (it serializes a process's writes on one
# connection; processes sharing its file contend for SQLite's lock).
# Each deno process opens its store and does one untimed set and get
# before a start time shared by the run's processes, then works for
# DURATION seconds; a scenario's ops/s is the sum of its processes'.
# Within each timed run the CPU time of the clients (the deno processes,
# or wrk), of lighttpd and of the kvd processes is read from /proc, to
# give each one's CPU time per op: on a machine of few cores, what the
# clients spend is taken from the server.
# After the rounds, bench/deno_ops.ts latency times single requests and
# calls one at a time: over one kept connection of cleartext HTTP/2, a REST
# PUT and GET and KV Connect's snapshot_read of the same key, sent with
# Deno's fetch; Deno's kv.set and kv.get over KV Connect and on SQLite.

# shellcheck shell=bash disable=SC2154,SC2034
# (the globals of bench/run, which sources this file, and keep_work, which
# its cleanup reads)

readonly DENO_TOKEN=bench
readonly DENO_SCENARIOS="rest-1 connect-1 connect-sync-1 sqlite-1 rest-8 connect-8p connect-sync-8p connect-8l sqlite-8p sqlite-8l"

declare -A d_label=(
	[rest-1]="REST GET/PUT, wrk, 1 connection"
	[connect-1]="Deno over KV Connect, 1 client"
	[sqlite-1]="Deno on its SQLite KV, 1 client"
	[rest-8]="REST GET/PUT, wrk, 8 connections"
	[connect-8p]="Deno over KV Connect, 8 processes"
	[connect-sync-1]="Deno over KV Connect, sync = on, 1 client"
	[connect-sync-8p]="Deno over KV Connect, sync = on, 8 processes"
	[connect-8l]="Deno over KV Connect, 1 process of 8 loops"
	[sqlite-8p]="Deno on its SQLite KV, 8 processes"
	[sqlite-8l]="Deno on its SQLite KV, 1 process of 8 loops"
)
# processes and loops of each Deno scenario; connections of each wrk one
declare -A d_procs=([connect-1]=1 [sqlite-1]=1 [connect-8p]=8 [connect-8l]=1 [sqlite-8p]=8 [sqlite-8l]=1
	[connect-sync-1]=1 [connect-sync-8p]=8)
declare -A d_loops=([connect-1]=1 [sqlite-1]=1 [connect-8p]=1 [connect-8l]=8 [sqlite-8p]=1 [sqlite-8l]=8
	[connect-sync-1]=1 [connect-sync-8p]=1)
declare -A d_conns=([rest-1]=1 [rest-8]=8)
# the baselines of the ratios: Deno's SQLite KV, and REST at as many
# connections
declare -A d_vs_sqlite=([connect-1]=sqlite-1 [connect-8p]=sqlite-8p [connect-8l]=sqlite-8l
	[connect-sync-1]=sqlite-1 [connect-sync-8p]=sqlite-8p)
declare -A d_vs_rest=([connect-1]=rest-1 [connect-8p]=rest-8 [connect-8l]=rest-8)

read -ra d_scenarios <<<"$DENO_SCENARIOS"
if [[ -n "${SCENARIOS:-}" ]]; then
	for s in $SCENARIOS; do
		[[ -n "${d_label[$s]:-}" ]] || die "SCENARIOS: no scenario '$s' in bench/run deno (its scenarios: $DENO_SCENARIOS)"
	done
	d_scenarios=()
	for s in $DENO_SCENARIOS; do
		[[ " $SCENARIOS " == *" $s "* ]] && d_scenarios+=("$s")
	done
fi

# The CLI's cache of compiled programs, in the run's directory.
export DENO_DIR=$work/deno-dir DENO_NO_UPDATE_CHECK=1 NO_COLOR=1

write_conf deno per_process off "$work/store-deno"
seed deno "$KEYS"
start_server deno "$kvd"
port_deno=$port pid_deno=$pid
connect_url=http://127.0.0.1:$port_deno/kv/.connect
write_conf deno-sync per_process on "$work/store-deno-sync"
seed deno-sync "$KEYS"
start_server deno-sync "$kvd"
sync_url=http://127.0.0.1:$port/kv/.connect pid_sync=$pid

sqlite_dir=$work/sqlite
mkdir -p "$sqlite_dir"
sqlite_file=$sqlite_dir/kv.sqlite3

# deno_ops MODE TARGET ARGS...: bench/deno_ops.ts with the permissions its
# target needs (the network for a URL, the directory for a file; latency
# both).
deno_ops() {
	local mode=$1 target=$2
	shift 2
	local -a perms=(--allow-read="$sqlite_dir" --allow-write="$sqlite_dir")
	if [[ "$mode" == latency ]]; then
		perms+=(--allow-net=127.0.0.1 --allow-env=DENO_KV_ACCESS_TOKEN)
	elif [[ "$target" == http://* ]]; then
		perms=(--allow-net=127.0.0.1 --allow-env=DENO_KV_ACCESS_TOKEN)
	fi
	DENO_KV_ACCESS_TOKEN=$DENO_TOKEN timeout -k 5 $((DURATION + 120)) \
		deno run --unstable-kv "${perms[@]}" "$top/bench/deno_ops.ts" "$mode" "$target" "$@"
}

t0=$SECONDS
deno_ops seed "$sqlite_file" "$KEYS" "$VALUE_BYTES" >"$sqlite_dir/seed.log" 2>&1 ||
	die "sqlite: seeding failed: $(tail -3 "$sqlite_dir/seed.log")"
log "sqlite: seeded $KEYS keys of $VALUE_BYTES bytes in $sqlite_file in $((SECONDS - t0)) s"

declare -A r_ops=() r_set50=() r_get50=() r_p50=() r_failed=() r_first=()
declare -A r_cpu_client=() r_cpu_lighttpd=() r_cpu_kvd=()

# ticks PID...: sets tick_sum to the CPU time (user and system, in clock
# ticks) the processes have used so far; those gone count nothing. With
# builtins only: on a loaded machine each fork can cost a good part of a
# window.
ticks() {
	local p line
	local -a f
	tick_sum=0
	for p in "$@"; do
		{ read -r line <"/proc/$p/stat"; } 2>/dev/null || continue
		read -ra f <<<"${line##*) }"
		tick_sum=$((tick_sum + f[11] + f[12]))
	done
}

# now_ms: milliseconds since the epoch, without a fork
now_ms() {
	now=${EPOCHREALTIME/./}
	now=$((now / 1000))
}

# server_pids PGID COMM: the processes named COMM of the server led by PGID
server_pids() {
	ps -e -o pid=,pgid=,comm= | awk -v g="$1" -v c="$2" '$2 == g && $3 == c { print $1 }'
}

# cpu_window SCENARIO SERVER_PGID FROM_MS TO_MS CLIENT_PIDS...: samples
# the CPU time of the clients, of the server's lighttpd and of its kvd
# processes at FROM_MS and at TO_MS (milliseconds since the epoch), while
# the clients work; sets the globals w_client w_lighttpd w_kvd (ticks)
# and w_secs (the window's length).
cpu_window() {
	local s=$1 pgid=$2 from=$3 to=$4 now c0 l0 k0
	shift 4
	local -a l k
	mapfile -t l < <([[ -n "$pgid" ]] && server_pids "$pgid" lighttpd)
	mapfile -t k < <([[ -n "$pgid" ]] && server_pids "$pgid" kvd)
	now_ms
	((from > now)) && sleep "$(awk -v d=$((from - now)) 'BEGIN { print d / 1000 }')"
	now_ms
	from=$now
	ticks "$@"
	c0=$tick_sum
	ticks "${l[@]}"
	l0=$tick_sum
	ticks "${k[@]}"
	k0=$tick_sum
	((to > now)) && sleep "$(awk -v d=$((to - now)) 'BEGIN { print d / 1000 }')"
	ticks "$@"
	w_client=$((tick_sum - c0))
	ticks "${l[@]}"
	w_lighttpd=$((tick_sum - l0))
	ticks "${k[@]}"
	w_kvd=$((tick_sum - k0))
	now_ms
	w_secs=$(awk -v d=$((now - from)) 'BEGIN { print d / 1000 }')
}

# cpu_record SCENARIO OPS_PER_S: the window's CPU time per op, in
# microseconds, for the client, lighttpd and kvd.
cpu_record() {
	local s=$1 rate=$2 tick_us
	if ((w_client < 0)) || awk -v w="$w_secs" 'BEGIN { exit !(w < 0.5) }'; then
		log "$s: the CPU window missed the run (a process ended before it, or it lasted $w_secs s); no CPU figures this round"
		return 0
	fi
	tick_us=$((1000000 / $(getconf CLK_TCK)))
	r_cpu_client[$s]+="$(awk -v t="$w_client" -v u="$tick_us" -v r="$rate" -v w="$w_secs" 'BEGIN { printf "%.0f", t * u / (r * w) }') "
	r_cpu_lighttpd[$s]+="$(awk -v t="$w_lighttpd" -v u="$tick_us" -v r="$rate" -v w="$w_secs" 'BEGIN { printf "%.0f", t * u / (r * w) }') "
	r_cpu_kvd[$s]+="$(awk -v t="$w_kvd" -v u="$tick_us" -v r="$rate" -v w="$w_secs" 'BEGIN { printf "%.0f", t * u / (r * w) }') "
}

# run_rest SCENARIO ROUND [SECONDS]: wrk getput; its ops are the checked
# answers.
run_rest() {
	local s=$1 r=$2 secs=${3:-$DURATION} conns=${d_conns[$1]} out=$work/deno-$1-$2.txt line
	local threads=$((conns < THREADS ? conns : THREADS)) requests us non2xx bad errors ops t0 wrk_pid
	t0=$(date +%s%3N)
	wrk -t"$threads" -c"$conns" -d"${secs}s" --latency -s "$top/bench/kv.lua" \
		"http://127.0.0.1:$port_deno/kv/" -- getput "$KEYS" "$VALUE_BYTES" >"$out" 2>&1 &
	wrk_pid=$!
	cpu_window "$s" "$pid_deno" $((t0 + 300)) $((t0 + secs * 1000 - 300)) "$wrk_pid"
	wait "$wrk_pid" || die "wrk failed for $s (see $out): $(tail -3 "$out")"
	line=$(grep '^RESULT ' "$out") || die "no RESULT line from wrk for $s (see $out)"
	[[ "$r" == warm-up ]] && return 0
	requests=$(field "$line" requests) us=$(field "$line" duration_us)
	non2xx=$(field "$line" non2xx) bad=$(field "$line" bad) errors=$(field "$line" errors)
	ops=$(awk -v n="$requests" -v f="$((non2xx + bad))" -v us="$us" 'BEGIN { printf "%.1f", (n - f) / (us / 1e6) }')
	r_ops[$s]+="$ops "
	r_p50[$s]+="$(field "$line" p50_us) "
	cpu_record "$s" "$ops"
	r_failed[$s]=$((${r_failed[$s]:-0} + non2xx + bad + errors))
	if [[ -z "${r_first[$s]:-}" && -n "$(field "$line" first_non2xx)" ]]; then
		r_first[$s]=$(field "$line" first_non2xx)
	fi
	log "round $r/$ROUNDS: $s $ops ops/s, p50 $(field "$line" p50_us) us, failed $((non2xx + bad + errors))"
}

# run_deno SCENARIO ROUND [SECONDS]: its deno processes at once, from one
# start time late enough for all of them to be ready; a process that is
# late all the same works its DURATION from when it is ready, and the log
# says so.
run_deno() {
	local s=$1 r=$2 secs=${3:-$DURATION} procs=${d_procs[$1]} loops=${d_loops[$1]} target
	local clients start p rc=0 lines ops failed late
	local -a pids=()
	case $s in
	sqlite-*) target=$sqlite_file ;;
	connect-sync-*) target=$sync_url ;;
	*) target=$connect_url ;;
	esac
	clients=$((procs * loops))
	start=$(($(date +%s%3N) + 1500 + 300 * procs))
	for ((p = 0; p < procs; p++)); do
		deno_ops run "$target" "$KEYS" "$VALUE_BYTES" $((p * loops)) "$loops" "$clients" \
			"$start" "$secs" >"$work/deno-$s-$r-$p.txt" 2>&1 &
		pids+=($!)
	done
	# The deno processes themselves (each runs under timeout, in a
	# subshell), found by their start time in their command line.
	local -a deno_pids=()
	sleep 1
	mapfile -t deno_pids < <(ps -e -o pid=,comm=,args= |
		awk -v t=" $start " '$2 == "deno" && index($0, "deno_ops.ts run ") && index($0, t) { print $1 }')
	local pgid=""
	case $s in
	connect-sync-*) pgid=$pid_sync ;;
	connect-*) pgid=$pid_deno ;;
	esac
	cpu_window "$s" "$pgid" $((start + 300)) $((start + secs * 1000 - 300)) "${deno_pids[@]}"
	for p in "${pids[@]}"; do
		wait "$p" || rc=$?
	done
	((${#deno_pids[@]} == procs)) || log "$s: found ${#deno_pids[@]} of its $procs deno processes to sample"
	lines=$(cat "$work"/deno-"$s"-"$r"-*.txt | grep '^RESULT ' || true)
	if (($(grep -c '^RESULT ' <<<"$lines") != procs)); then
		die "$s: a deno process gave no result (exit status $rc; see $work/deno-$s-$r-*.txt): $(grep -hv '^RESULT ' "$work"/deno-"$s"-"$r"-*.txt | head -5)"
	fi
	if [[ "$r" == warm-up ]]; then
		((rc == 0)) || die "$s: ops failed in the warm-up: $(grep -h '^RESULT ' "$work"/deno-"$s"-"$r"-*.txt | head -1)"
		return 0
	fi
	ops=0 failed=0 late=0
	local set50="" get50="" line
	while read -r line; do
		ops=$(awk -v a="$ops" -v b="$(field "$line" rate)" 'BEGIN { printf "%.1f", a + b }')
		failed=$((failed + $(field "$line" failed)))
		late=$(($(field "$line" late_ms) > late ? $(field "$line" late_ms) : late))
		set50+="$(field "$line" set_p50_us) "
		get50+="$(field "$line" get_p50_us) "
		if [[ -z "${r_first[$s]:-}" && -n "$(field "$line" first_failure)" ]]; then
			r_first[$s]=$(field "$line" first_failure)
		fi
	done <<<"$lines"
	r_ops[$s]+="$ops "
	cpu_record "$s" "$ops"
	r_set50[$s]+="$(median "$set50") "
	r_get50[$s]+="$(median "$get50") "
	r_failed[$s]=$((${r_failed[$s]:-0} + failed))
	((late == 0)) || log "$s: a process was ready $late ms after the common start"
	log "round $r/$ROUNDS: $s $ops ops/s, p50 set $(median "$set50") us, get $(median "$get50") us, failed $failed"
}

run_scenario() { # run_scenario SCENARIO ROUND [SECONDS]
	if [[ "$1" == rest-* ]]; then
		run_rest "$@"
	else
		run_deno "$@"
	fi
}

# A short run of each first: the stores' caches and the CLI's.
for s in "${d_scenarios[@]}"; do
	run_scenario "$s" warm-up 1
done

loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)
for ((round = 1; round <= ROUNDS; round++)); do
	for s in "${d_scenarios[@]}"; do
		run_scenario "$s" "$round"
	done
done
loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------------------
# Single requests and calls, one at a time (bench/deno_ops.ts latency):
# where a KV Connect op's time goes.
readonly LATENCY_N=300
out=$(deno_ops latency "$connect_url" "$sqlite_file" "$KEYS" "$VALUE_BYTES" "$LATENCY_N" 2>&1) ||
	die "latency: $out"
lat_line=$(grep '^LATENCY ' <<<"$out") || die "latency: no result: $out"
log "$lat_line"

# ---------------------------------------------------------------------------
# Report

failed=0
table=$(
	echo "| scenario | ops/s (median) | vs Deno's SQLite | vs REST | p50 ms: set / get (REST: both) | failed | ops/s per round |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | --- |"
	for s in "${d_scenarios[@]}"; do
		ops=$(median "${r_ops[$s]}")
		vs_sqlite="" vs_rest=""
		b=${d_vs_sqlite[$s]:-}
		[[ -n "$b" && -n "${r_ops[$b]:-}" ]] && vs_sqlite=$(ratio "$ops" "$(median "${r_ops[$b]}")")
		b=${d_vs_rest[$s]:-}
		[[ -n "$b" && -n "${r_ops[$b]:-}" ]] && vs_rest=$(ratio "$ops" "$(median "${r_ops[$b]}")")
		if [[ "$s" == rest-* ]]; then
			p50=$(awk -v a="$(median "${r_p50[$s]}")" 'BEGIN { printf "%.2f", a / 1000 }')
		else
			p50=$(awk -v a="$(median "${r_set50[$s]}")" -v b="$(median "${r_get50[$s]}")" \
				'BEGIN { printf "%.2f / %.2f", a / 1000, b / 1000 }')
		fi
		read -ra per_round <<<"${r_ops[$s]}"
		rounds=$(printf '%.0f ' "${per_round[@]}")
		printf '| %s | %.0f | %s | %s | %s | %d | %s |\n' "${d_label[$s]}" "$ops" "$vs_sqlite" \
			"$vs_rest" "$p50" "${r_failed[$s]}" "${rounds% }"
	done
)
cpu=$(
	echo "| scenario | client µs/op | lighttpd µs/op | kvd µs/op | together µs/op |"
	echo "| --- | ---: | ---: | ---: | ---: |"
	for s in "${d_scenarios[@]}"; do
		[[ -n "${r_cpu_client[$s]:-}" ]] || continue
		cpu_c=$(median "${r_cpu_client[$s]}") cpu_l=$(median "${r_cpu_lighttpd[$s]}")
		cpu_k=$(median "${r_cpu_kvd[$s]}")
		if [[ "$s" == sqlite-* ]]; then
			printf '| %s | %.0f | | | %.0f |\n' "${d_label[$s]}" "$cpu_c" "$cpu_c"
		else
			printf '| %s | %.0f | %.0f | %.0f | %.0f |\n' "${d_label[$s]}" "$cpu_c" "$cpu_l" "$cpu_k" \
				"$(awk -v a="$cpu_c" -v b="$cpu_l" -v d="$cpu_k" 'BEGIN { print a + b + d }')"
		fi
	done
)
for s in "${d_scenarios[@]}"; do
	if ((${r_failed[$s]} != 0)); then
		failed=1
		log "$s: ${r_failed[$s]} ops failed or unexpected answers; the first: ${r_first[$s]:-?}"
	fi
done

ms() { awk -v a="$(field "$lat_line" "$1")" 'BEGIN { printf "%.2f", a / 1000 }'; }
latencies="One at a time (bench/deno_ops.ts latency, medians of $LATENCY_N, ms): over one kept connection of cleartext HTTP/2 from Deno's fetch, REST PUT $(ms rest_put), REST GET $(ms rest_get), KV Connect snapshot_read of the same key $(ms connect_read); Deno's client over KV Connect kv.set $(ms kv_set), kv.get $(ms kv_get); on its SQLite KV kv.set $(ms sqlite_set), kv.get $(ms sqlite_get)"

logs=""
for f in "$work"/deno/{stderr,error}.log "$work"/deno-sync/{stderr,error}.log; do
	[[ -f "$f" ]] || continue
	n=$(grep -Evc 'server started|\]: started: |server stopped|caught SIGTERM' "$f" || true)
	if ((n > 0)); then
		logs+="$(basename "$(dirname "$f")")/$(basename "$f"): $n lines"$'\n'
		logs+=$(grep -Ev 'server started|\]: started: |server stopped|caught SIGTERM' "$f" | awk 'NR <= 20')$'\n'
	fi
done

echo
echo "$(deno --version | awk 'NR == 1'); $KEYS keys of $VALUE_BYTES-byte JSON values; $ROUNDS interleaved rounds of ${DURATION} s; lighttpd with $KV_PROCS kvd processes, open = per_process, sync = off (but where the scenario says sync = on), auth = off; command: $cmd"
echo "load average: $loadavg_start at the start, $loadavg_end at the end"
echo
echo "$table"
echo
echo "CPU time per op (user and system, medians of the rounds; each round's from /proc over its timed window but 0.3 s at each end, divided by the ops the scenario's rate gives that window; client: the deno processes, or wrk):"
echo
echo "$cpu"
echo
echo "$latencies"
if [[ -n "$logs" ]]; then
	echo
	echo "Server logs (beyond start/stop lines):"
	printf '%s' "$logs"
fi
if ((failed)); then
	keep_work=1
	die "some ops failed"
fi
exit 0
