bats_require_minimum_version 1.7.0
load '../lib/helper'
setup_file() { kv_setup_file; }
teardown_file() { kv_teardown_file; }

# A bounded slowloris: ATTACK_CONNS connections to the server's loopback
# port, opened at once, each sending one header line a second and never
# ending its header block (tests/lib/slowloris.py, which opens a connection
# again when the server drops it), while a normal client sends a GET and a
# PUT on new connections every half second. Every normal request must be
# answered 200 within CLIENT_MAX_S seconds for the whole attack.
#
# lighttpd and nginx wait for headers without a thread per connection.
# Apache's event MPM gives each connection a worker thread until its
# headers are in: without conf/apache.conf's mod_reqtimeout and worker
# headroom the attack holds every worker and the client gets nothing at
# all. With them, the first requests wait while Apache starts children for
# the burst (it doubles how many it starts each second): the client's limit
# allows for that, not for a stall (conf/apache-proxy.conf has the same
# settings). Run once per server by tests/lighttpd.test, tests/apache.test,
# tests/apache-proxy.test and tests/nginx.test.

ATTACK_CONNS=450
ATTACK_S=30	# the attacker's own bound: it closes everything and exits
CLIENT_S=16	# how long the client asks once the attack is in place
CLIENT_MAX_S=5	# a request slower than this counts as not answered

# The attacker is killed and waited for here too, so that a failed
# assertion leaves no connection behind.
teardown() {
	if [[ -n "${attacker:-}" ]]; then
		kill "$attacker" 2>/dev/null || true
		wait "$attacker" 2>/dev/null || true
		attacker=
	fi
}

# client_request METHOD PATH [curl args...]: one request on a new
# connection; appends "AT METHOD PATH STATUS SECONDS" to $results, AT being
# the seconds since the attack was in place.
client_request() {
	local method=$1 path=$2 out
	shift 2
	out=$(curl -sS -o /dev/null --max-time "$CLIENT_MAX_S" -X "$method" \
		-w '%{http_code} %{time_total}' "$@" "$KV_URL$path" 2>/dev/null) || true
	echo "$((SECONDS - started))s $method $path ${out:-000 -}" >>"$results"
}

# attacker_count WORD: the number after WORD in the attacker's report.
attacker_count() {
	sed -n "s/.*\\<$1 \\([0-9][0-9]*\\).*/\\1/p" "$attacker_out" | tail -n 1
}

@test "(servers) a slow-header attack on 450 connections leaves other clients served" {
	local deadline n=0 opened dropped
	attacker_out="$BATS_TEST_TMPDIR/attacker.out"
	results="$BATS_TEST_TMPDIR/client.log"
	: >"$results"

	python3 "$KV_SRCDIR/tests/lib/slowloris.py" "$KV_PORT" "$ATTACK_CONNS" "$ATTACK_S" \
		>"$attacker_out" 2>&1 3>&- &
	attacker=$!
	deadline=$((SECONDS + 15))
	until grep -q '^ready ' "$attacker_out"; do
		kill -0 "$attacker" 2>/dev/null && ((SECONDS < deadline)) ||
			fail "the attack did not start: $(cat "$attacker_out")"
		sleep 0.1
	done
	# The attack must be in place, or the test proves nothing.
	opened=$(attacker_count ready)
	((opened >= ATTACK_CONNS * 9 / 10)) ||
		fail "only $opened of $ATTACK_CONNS attacking connections opened"

	started=$SECONDS
	deadline=$((SECONDS + CLIENT_S))
	while ((SECONDS < deadline)); do
		n=$((n + 1))
		client_request GET /
		client_request PUT /slow.n -H 'Content-Type: application/json' \
			--data-binary "{\"value\": $n}"
		sleep 0.5
	done

	# SIGTERM: the attacker closes every connection and reports.
	kill "$attacker" 2>/dev/null || true
	wait "$attacker" || true
	attacker=
	echo "attacker: $(tr '\n' ' ' <"$attacker_out")"
	assert_equal "$(ss -Htn state established "( dport = :$KV_PORT )" | wc -l)" 0

	echo "client: $n rounds; slowest: $(sort -k5 -n "$results" | tail -n 1)"
	if grep -v ' 200 ' "$results"; then
		fail "the requests above were not answered 200 within ${CLIENT_MAX_S}s"
	fi
	# The loop asks until its deadline, however slow a loaded machine makes
	# each round; a round every 4 s at least, or the client proved little.
	((n >= CLIENT_S / 4)) || fail "only $n rounds of requests in ${CLIENT_S}s"
	if [[ "$KV_TEST_SERVER" == apache || "$KV_TEST_SERVER" == apache-proxy ]]; then
		# mod_reqtimeout cut the trickling connections after their 10 s...
		dropped=$(attacker_count dropped)
		((dropped >= ATTACK_CONNS / 2)) ||
			fail "Apache dropped only ${dropped:-none} of the attacking connections"
		# ...and the workers never ran out.
		if kv_log_contains 'AH00484'; then
			fail "Apache reached MaxRequestWorkers during the attack"
		fi
	fi
	kv_req GET /slow.n
	assert_code 200
	assert_equal "$body" "$n"
}
