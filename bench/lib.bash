# bench/lib.bash: the pieces of bench/run that bench/compare shares with
# it: building kvd and the seeder, kv stores and their lighttpd servers on
# loopback, stopping them, and reading wrk's RESULT lines. Sourced, never
# run.
#
# The sourcing script defines log and die (messages to stderr; die exits)
# and sets these globals before calling anything here:
#   me          the name its messages start with (bench/run)
#   top         the root of the source tree
#   work        the run's temporary directory
#   cache_size  the cache size of every store of the run
#   KV_PROCS    FastCGI processes per lighttpd server
#   VALUE_BYTES the size of each seeded value
#   server_pids the array the servers' pids are added to (stop_server
#               them all on exit)
# build sets kvd, noop and seeder; start_server sets port and pid.
# shellcheck shell=bash disable=SC2034,SC2154
# (SC2034, SC2154: the globals are shared with the sourcing script.)

# build: sets kvd, noop and seeder. In the source tree when it is
# configured and builds; otherwise out of tree in /tmp/kvbuild-bench (only
# the three programs, so missing files elsewhere in the tree do not matter).
build() {
	if [[ -f "$top/Makefile" ]] &&
		make -C "$top" -s src/kvd bench/noop bench/seed >/tmp/kvbench-make.log 2>&1; then
		kvd=$top/src/kvd noop=$top/bench/noop seeder=$top/bench/seed
		return 0
	fi
	log "the in-tree build failed (see /tmp/kvbench-make.log); building in /tmp/kvbuild-bench"
	local b=/tmp/kvbuild-bench
	mkdir -p "$b"
	(
		cd "$b"
		[[ -f Makefile ]] || "$top/configure" -q
		make -s src/kvd bench/noop bench/seed
	) >&2 || die "the out-of-tree build failed too"
	kvd=$b/src/kvd noop=$b/bench/noop seeder=$b/bench/seed
}

# group_alive PGID: some process of the group is alive (zombies aside: the
# workers lighttpd leaves behind are reaped by init, not by us).
group_alive() {
	ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { alive = 1 } END { exit !alive }'
}

# stop_server PID: SIGTERM to lighttpd (through `timeout`, which leads the
# process group of lighttpd and its FastCGI processes), then up to 20 s for
# the whole group to exit, then SIGKILL to whatever is left. The workers
# outlive lighttpd by a moment while they close the store: killing them
# then left a Berkeley DB mutex held, and the next kvd on that store hung.
stop_server() {
	local pid=$1 deadline=$((SECONDS + 20))
	kill -TERM "$pid" 2>/dev/null || true
	while group_alive "$pid" && ((SECONDS < deadline)); do
		sleep 0.05
	done
	if group_alive "$pid"; then
		log "processes of group $pid still alive after 20 s; killing them"
		kill -KILL -- "-$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

# free_port: a loopback port nobody listens on now, below the kernel's
# ephemeral range; start_server retries when the race is lost.
free_port() {
	local port tries=0
	while ((tries++ < 200)); do
		port=$((20000 + RANDOM % 12000))
		if ! (exec 9<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	die "no free port found"
}

# write_conf NAME OPEN SYNC STORE [LINES]: $work/NAME/kv.conf for a store
# (auth off, and LINES), and the store directory (created empty if missing).
write_conf() {
	local dir=$work/$1
	mkdir -p "$dir/htdocs" "$4"
	cat >"$dir/kv.conf" <<-EOF
		# written by $me
		store = $4
		open = $2
		sync = $3
		cache_size = $cache_size
		auth = off
		${5:-}
	EOF
}

# seed NAME N [PREFIX [BYTES]]: writes bench.k00000 .. bench.k(N-1) (or
# PREFIX.k00000 .., of BYTES each) through bench/seed with
# $work/NAME/kv.conf, before any server runs on the store (but for the
# recursive delete's); the first process to join the environment sets its
# cache size, so it is the configuration's.
seed() {
	local t0=$SECONDS bytes=${4:-$VALUE_BYTES}
	"$seeder" "$work/$1/kv.conf" "$2" "$bytes" ${3:+"$3"} 2>&1 |
		sed "s|^|$me: $1: |" >&2 ||
		die "$1: seeding $2 keys failed"
	log "$1: seeded $2 keys of $bytes bytes${3:+ under $3} in $((SECONDS - t0)) s"
}

# wait_ready NAME PID DIR: polls the service until it answers 200; returns
# 2 when the server died because its port was taken (the caller retries).
wait_ready() {
	local name=$1 pid=$2 dir=$3 status deadline=$((SECONDS + 30))
	while ((SECONDS < deadline)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null || true
			break
		fi
		status=$(curl -s -o /dev/null --max-time 5 -w '%{http_code}' \
			"http://127.0.0.1:$port/kv/" 2>/dev/null) || true
		[[ "$status" == 200 ]] && return 0
		sleep 0.05
	done
	if cat "$dir/stderr.log" "$dir/error.log" 2>/dev/null | grep -q 'Address already in use'; then
		log "$name: port $port was taken, retrying"
		return 2
	fi
	stop_server "$pid"
	cat "$dir/stderr.log" "$dir/error.log" >&2 2>/dev/null || true
	die "$name: no 200 from http://127.0.0.1:$port/kv/ (last status: ${status:-none})"
}

# start_server NAME BIN: lighttpd from conf/lighttpd.conf serving BIN with
# $work/NAME/kv.conf. Its run directory is $work/NAME (error.log:
# lighttpd's log; stderr.log: the stderr of lighttpd and of the FastCGI
# processes). Sets the globals port and pid.
start_server() {
	local name=$1 bin=$2 dir=$work/$1 store
	store=$(awk '$1 == "store" { print $3 }' "$dir/kv.conf")
	for _ in 1 2 3 4 5; do
		port=$(free_port)
		: >"$dir/stderr.log"
		rm -f "$dir/error.log"
		KV_PORT=$port KV_RUNDIR=$dir KV_BIN=$bin KV_CONF=$dir/kv.conf \
			KV_DATA=$store KV_ERRORS=$top/conf/errors KV_PROCS=$KV_PROCS \
			timeout -k 10 1800 lighttpd -D -f "$top/conf/lighttpd.conf" \
			</dev/null >>"$dir/stderr.log" 2>&1 &
		pid=$!
		server_pids+=("$pid")
		if wait_ready "$name" "$pid" "$dir"; then
			log "$name: lighttpd pid $pid on 127.0.0.1:$port ($KV_PROCS processes of $(basename "$bin"), $(grep -E '^(open|sync)' "$dir/kv.conf" | tr '\n' ' '))"
			return 0
		fi
	done
	die "$name: no free port after 5 attempts"
}

# worker_pids PID: the kvd processes under the server started as PID (the
# `timeout` that leads the server's process group).
worker_pids() {
	ps -e -o pid=,pgid=,comm= | awk -v g="$1" '$2 == g && $3 == "kvd" { print $1 }'
}

# field LINE NAME: the value of NAME=... in a RESULT line
field() {
	local f fs
	read -ra fs <<<"$1"
	for f in "${fs[@]}"; do
		if [[ "$f" == "$2="* ]]; then
			echo "${f#*=}"
			return 0
		fi
	done
}

# median "N1 N2 ...": the median of a space-separated list
median() {
	local -a v
	read -ra v <<<"$1"
	printf '%s\n' "${v[@]}" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ratio A B: A / B to two places
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}
