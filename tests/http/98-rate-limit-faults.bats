bats_require_minimum_version 1.7.0
load '../lib/helper'

# The rate limiter's file (kv-ratelimit.N in the store directory) broken
# while the server serves: removed, truncated, scribbled over, its lock
# held by a stopped process. No kvd dies, every request answers within
# 2 s, and the limit holds again at once:
# - a damaged file is rebuilt: the limiter resets (every bucket full
#   again, so a client that had spent its budget gets one burst more, at
#   most twice the burst in all) and says so in the log;
# - a removed file is followed by every process to the new one: one
#   budget, where processes that kept the old file and processes started
#   since would each give a whole burst;
# - a lock held over 50 ms lets requests pass uncounted (fail open,
#   logged), without RateLimit-* headers; once its holder dies the next
#   locker takes it over (EOWNERDEAD) and counting goes on.
# Requests are sent one at a time, each with curl --max-time 2, while 60
# more (8 at a time, their own token) run beside the fault.

# One request earned back every 5 s, as in 98-rate-limit.bats.
RATE=12 BURST=10

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

kvd_pids() {
	pgrep -g "$KV_SERVER_PID" -x kvd | sort
}

# The test program that holds the lock (a check program: built here when
# `make` alone ran).
HOLDER=${KV_BUILDDIR:-$KV_SRCDIR}/tests/ratelimit_holder

TOKENS='warm bg removed truncated inplace shorter longer held'

setup_file() {
	local name conf="auth = on
rate = $RATE/m
burst = $BURST"
	for name in $TOKENS; do
		local var="TOK_${name^^}"
		printf -v "$var" '%s' "$(kv_new_token)"
		export "${var?}"
		conf+="
[token $name]
hash = $(kv_token_hash "${!var}")
read = *"
	done
	if [[ ! -x "$HOLDER" ]]; then
		make -s -C "${KV_BUILDDIR:-$KV_SRCDIR}" tests/ratelimit_holder >&2 || return 1
	fi
	export KV_EXTRA_CONF=$conf KV_PROCS=4 HOLDER
	kv_setup_file
	# The processes map the table before the faults (those that serve
	# one of these).
	parallel_requests warm 40 16 >/dev/null
	# Whichever layout's file the kvd under test made: the file can run
	# against an older build, to see it fail.
	local f
	for f in "$KV_STORE"/kv-ratelimit.*; do
		[[ "$f" == *.new ]] || RL_PATH=$f
	done
	[[ -n "${RL_PATH:-}" ]] || {
		echo "no rate-limit file in $KV_STORE" >&2
		return 1
	}
	RL_SIZE=$(stat -c %s "$RL_PATH")
	export RL_PATH RL_SIZE
	kvd_pids >"$BATS_FILE_TMPDIR/pids.before"
	echo "kvd processes: $(wc -l <"$BATS_FILE_TMPDIR/pids.before"), mapping the table:" \
		"$(grep -l kv-ratelimit $(sed 's|.*|/proc/&/maps|' "$BATS_FILE_TMPDIR/pids.before") | wc -l)" >&3
}
teardown_file() { kv_teardown_file; }

# parallel_requests NAME N [P]: N requests as token NAME, P (8) at a time,
# each within 2 s; prints "status seconds" for each.
parallel_requests() {
	local tok="TOK_${1^^}" i cfg="$BATS_TEST_TMPDIR/$1.curl"
	for ((i = 0; i < $2; i++)); do
		((i > 0)) && echo next
		echo "url = \"$KV_URL/$1.k$i\""
		echo "header = \"Authorization: Bearer ${!tok}\""
		echo 'output = "/dev/null"'
		echo 'max-time = 2'
		echo 'write-out = "%{http_code} %{time_total}\n"'
	done >"$cfg"
	curl -sS --parallel --parallel-immediate --parallel-max "${3:-8}" -K "$cfg" \
		2>>"$BATS_TEST_TMPDIR/curl.err" || true
}

# with_traffic CMD...: runs CMD while 60 requests of token bg run beside
# it; fails unless every one of them was answered 404 or 429 within 2 s.
with_traffic() {
	local out="$BATS_TEST_TMPDIR/traffic.out" bad
	parallel_requests bg 60 >"$out" &
	local pid=$!
	sleep 0.1
	"$@"
	wait "$pid"
	bad=$(awk '$1 != 404 && $1 != 429' "$out")
	[[ -z "$bad" ]] || {
		fail "requests beside the fault answered otherwise than 404 or 429: $bad"
		return 1
	}
}

# spend NAME: requests as token NAME, one at a time, until a 429 (at most
# three bursts). Sets allowed and elapsed_ms; fails on any other answer,
# or none within 2 s.
spend() {
	local tok="TOK_${1^^}" i c start limited=0
	allowed=0
	start=$(now_ms)
	for ((i = 0; i < 3 * BURST; i++)); do
		c=$(curl -sS -o /dev/null --max-time 2 -w '%{http_code}' \
			-H "Authorization: Bearer ${!tok}" "$KV_URL/no.such.key") || c=000
		case $c in
		404) allowed=$((allowed + 1)) ;;
		429) limited=1 && break ;;
		*)
			fail "request $i as $1: status $c (000: no answer within 2 s)"
			return 1
			;;
		esac
	done
	elapsed_ms=$(($(now_ms) - start))
	echo "$1: $allowed allowed in $elapsed_ms ms"
	((limited)) || {
		fail "no 429 after $allowed requests as $1"
		return 1
	}
}

# assert_one_budget: what spend allowed is at most one burst and what the
# rate earned back meanwhile.
assert_one_budget() {
	((allowed <= BURST + RATE * elapsed_ms / 60000 + 1)) ||
		fail "$allowed allowed in $elapsed_ms ms: more than the burst $BURST + $RATE/m"
}

# log_since N: the server log past its first N lines.
log_since() {
	tail -n "+$(($1 + 1))" "$KV_LOG"
}

log_lines() {
	wc -l <"$KV_LOG"
}

# assert_no_kvd_died: every kvd process of the start still runs, and the
# log tells of no death of one.
assert_no_kvd_died() {
	run comm -23 "$BATS_FILE_TMPDIR/pids.before" <(kvd_pids)
	assert_output ''
	[[ -s "$BATS_FILE_TMPDIR/pids.before" ]] || fail "no kvd process was found"
	run bash -c 'grep -v "rate limits" "$1" | grep -E "$2"' sh "$KV_LOG" \
		'child (exited|signaled|died)|died, respawn|process died|terminated by|exit\(communication error\)|unexpected signal|[Ss]egmentation|Bus error|SIGBUS|AddressSanitizer|runtime error'
	assert_failure
}

# assert_whole_again: the file is a table's size again, and no half-built
# one is left beside it.
assert_whole_again() {
	assert_equal "$(stat -c %s "$RL_PATH")" "$RL_SIZE"
	[[ ! -e "$RL_PATH.new" ]] || fail "$RL_PATH.new is left behind"
}

# damaged_file_test NAME CMD...: spend NAME's budget, break the file with
# CMD while requests run, then the budget is whole again (the reset) and
# spent again within one burst.
damaged_file_test() {
	local name=$1 before
	shift
	spend "$name"
	assert_one_budget
	before=$(log_lines)
	with_traffic "$@"
	spend "$name"
	# reset: a whole burst again; and no more than that
	((allowed >= BURST - 1)) || fail "only $allowed allowed after the fault: the limiter did not reset"
	assert_one_budget
	run log_since "$before"
	assert_output --regexp 'rate limits reset: .*kv-ratelimit'
	assert_whole_again
	assert_no_kvd_died
}

cgi_kvd() {
	[[ -x "$KV_RUNDIR/kvd" ]] && echo "$KV_RUNDIR/kvd" || echo "$KV_BIN"
}

# cgi_status NAME: one request as token NAME by kvd started as a plain CGI
# program on the same store (a new process, as mod_fcgid or a CGI host
# starts them), run as the store's owner; prints the status.
cgi_status() {
	local tok="TOK_${1^^}" owner
	local -a as=()
	owner=$(stat -c %U "$KV_STORE")
	if [[ $(id -u) == 0 && "$owner" != root ]]; then
		as=(setpriv "--reuid=$owner" "--regid=$owner" --clear-groups)
	fi
	"${as[@]}" env -i PATH=/usr/bin:/bin KV_CONF="$KV_CONF" KV_DATA="$KV_STORE" \
		GATEWAY_INTERFACE=CGI/1.1 SERVER_PROTOCOL=HTTP/1.1 SERVER_NAME=127.0.0.1 \
		REMOTE_ADDR=127.0.0.1 REQUEST_METHOD=GET REQUEST_URI=/kv/no.such.key \
		SCRIPT_NAME=/kv QUERY_STRING= HTTP_AUTHORIZATION="Bearer ${!tok}" \
		timeout 5 "$(cgi_kvd)" </dev/null 2>>"$KV_LOG" |
		tr -d '\r' | sed -n 's/^Status: \([0-9]*\).*/\1/p' | head -n 1
}

@test "(rate faults) the file removed: every process moves to the new one, one budget" {
	local before i c start allowed_all=0 server_limited=0 cgi_limited=0
	before=$(log_lines)
	with_traffic rm -f "$RL_PATH"
	# A kvd started now makes a new file if the others have not; requests
	# through the server and through new processes share one bucket.
	start=$(now_ms)
	for ((i = 0; i < 2 * BURST && !(server_limited && cgi_limited); i++)); do
		c=$(curl -sS -o /dev/null --max-time 2 -w '%{http_code}' \
			-H "Authorization: Bearer $TOK_REMOVED" "$KV_URL/no.such.key") || c=000
		case $c in
		404) allowed_all=$((allowed_all + 1)) ;;
		429) server_limited=1 ;;
		*) fail "through the server: status $c"; return 1 ;;
		esac
		c=$(cgi_status removed)
		case $c in
		404) allowed_all=$((allowed_all + 1)) ;;
		429) cgi_limited=1 ;;
		*) fail "a new kvd process: status '$c'"; return 1 ;;
		esac
	done
	allowed=$allowed_all elapsed_ms=$(($(now_ms) - start))
	echo "$allowed allowed in $elapsed_ms ms through the server and new processes"
	((server_limited && cgi_limited)) || fail "no 429 on both sides after $allowed requests"
	assert_one_budget
	run log_since "$before"
	assert_output --regexp 'rate limits(: created the table| reset: .* was removed)'
	assert_whole_again
	assert_no_kvd_died
}

@test "(rate faults) the file truncated to 0 bytes: rebuilt, the limit holds" {
	damaged_file_test truncated truncate -s 0 "$RL_PATH"
}

@test "(rate faults) the file overwritten in place with random bytes: rebuilt, the limit holds" {
	damaged_file_test inplace dd if=/dev/urandom of="$RL_PATH" bs="$RL_SIZE" count=1 \
		conv=notrunc status=none
}

@test "(rate faults) the file rewritten with fewer random bytes: rebuilt, the limit holds" {
	damaged_file_test shorter sh -c 'head -c 1000 /dev/urandom >"$1"' sh "$RL_PATH"
}

@test "(rate faults) the file rewritten with more random bytes: rebuilt, the limit holds" {
	damaged_file_test longer sh -c 'head -c "$2" /dev/urandom >"$1"' sh "$RL_PATH" $((2 * RL_SIZE))
}

@test "(rate faults) the lock held by a stopped process: requests pass uncounted, then the lock is taken over" {
	local out="$BATS_TEST_TMPDIR/holder.out" pid i c t before deadline
	before=$(log_lines)
	"$HOLDER" "$KV_STORE" >"$out" 2>&1 &
	pid=$!
	deadline=$((SECONDS + 5))
	until [[ "$(ps -o stat= -p "$pid" 2>/dev/null)" == T* ]] && grep -q '^held$' "$out"; do
		if ((SECONDS >= deadline)) || ! kill -0 "$pid" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null || true
			fail "the holder did not take the lock and stop: $(cat "$out")"
			return 1
		fi
		sleep 0.05
	done
	# Fail open: served (404), never 429 however many, no RateLimit-*
	# headers, each within 1 s.
	for ((i = 0; i < 2 * BURST; i++)); do
		read -r c t < <(curl -sS -o /dev/null -D "$BATS_TEST_TMPDIR/h" --max-time 1 \
			-w '%{http_code} %{time_total}\n' \
			-H "Authorization: Bearer $TOK_HELD" "$KV_URL/no.such.key" || echo 000 -)
		if [[ "$c" != 404 ]]; then
			kill -KILL "$pid"
			fail "request $i while the lock is held: status $c after ${t}s (000: none within 1 s)"
			return 1
		fi
		if grep -qi '^RateLimit-' "$BATS_TEST_TMPDIR/h"; then
			kill -KILL "$pid"
			fail "an uncounted request carries RateLimit headers: $(cat "$BATS_TEST_TMPDIR/h")"
			return 1
		fi
	done
	run log_since "$before"
	assert_output --partial 'rate limits not checked'
	# The holder dies: the next locker takes the lock over, counting resumes.
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	spend held
	((allowed >= BURST - 1)) || fail "only $allowed allowed: the uncounted requests were counted"
	assert_one_budget
	run log_since "$before"
	assert_output --partial 'held by a process that died; taken over'
	assert_output --partial 'rate limits checked again'
	assert_no_kvd_died
}
