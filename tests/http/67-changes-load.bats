bats_require_minimum_version 1.7.0
load '../lib/helper'
load '../lib/feeds'
setup_file() { kv_setup_file; }
teardown_file() { kv_teardown_file; }

# Waiting feeds under load and faults: a worker killed while clients wait,
# and many waiting clients while a GET load is served. Every wait is
# bounded.

now_ms() { date +%s%3N; }

# The waiting clients of the load test: a waiting feed costs a socket in a
# kvd process under lighttpd and nginx, but a whole process (and an Apache
# worker) under mod_fcgid and plain CGI, whose sample configurations allow
# 48 and 64 of them: there the test waits with fewer clients.
case ${KV_TEST_SERVER:-lighttpd} in
lighttpd | nginx | static-chroot | apache-proxy) WAITERS=500 GETS=2000 ;;
*) WAITERS=30 GETS=200 ;;
esac

# kvd_pids: the program's processes under this test's web server.
kvd_pids() { pgrep -g "$KV_SERVER_PID" -x kvd || true; }


@test "(changes load) waiting clients of a killed worker get an answer or an error, never a hang" {
	local since
	since=$(current_vs)
	waiters 10 killed "/kw?changes=true&since=$since&wait=40000"
	wait_waiting 10
	local t0 pids
	t0=$(now_ms)
	pids=$(kvd_pids)
	[[ -n $pids ]] || fail "no kvd process to kill"
	kill -KILL $pids
	# shellcheck disable=SC2086 # one pid a word
	kv_wait_dead $pids
	waiters_done
	local took=$(($(now_ms) - t0))
	echo "waiters ended $took ms after the kill: $(sort "$BATS_TEST_TMPDIR/killed.codes" | uniq -c)"
	((took < 30000))
	# The service serves again, a new feed included.
	local deadline=$(($(now_ms) + 20000))
	local answers=()
	until kv_put /kw.after '{"value": 1}' >/dev/null && [[ $code == 200 ]]; do
		answers+=("$code")
		# Which program answered, should it not be the store's 503.
		[[ $code == 503 ]] || echo "answer $code: $body"
		(($(now_ms) < deadline)) || fail "the service did not come back: ${answers[*]}"
		sleep 0.2
	done
	echo "answers before the 200: ${answers[*]}"
	# Never a 500: a store that a killed process left is recovered.
	[[ " ${answers[*]} " != *" 500 "* ]] || {
		tail -n 30 "$KV_LOG"
		false
	}
	# A write answered 503 while the store recovered may have committed
	# (its outcome is unknown, as the contract says): the feed shows the
	# key, once or more, and nothing else.
	kv_req GET "/kw?changes=true&since=$since"
	assert_code 200
	assert_json '[.changes[].key] | unique' '["kw.after"]'
}

@test "(changes load) many waiting clients, a GET load served meanwhile, and every waiter answered" {
	kv_put /wt.g '{"value": "served"}'
	local since
	since=$(current_vs)
	waiters "$WAITERS" many "/wt?changes=true&since=$since&wait=50000"
	wait_waiting "$WAITERS"
	# GETs, 8 at a time, while they wait: every one a 200.
	local t0 codes
	t0=$(now_ms)
	codes=$(curl -sS --parallel --parallel-max 8 --max-time 30 -o /dev/null \
		-w '%{http_code}\n' "$KV_URL/wt.g?i=[1-$GETS]" | sort | uniq -c)
	echo "GETs in $(($(now_ms) - t0)) ms: $codes"
	[[ $(awk '$2 == 200 { print $1 }' <<<"$codes") == "$GETS" ]]
	# Every one still waits (none gave up), then a write answers them all.
	assert_equal "$(waiting_feeds)" "$WAITERS"
	kv_put /wt.x '{"value": 1}'
	assert_code 200
	t0=$(now_ms)
	waiters_done
	echo "waiters answered in $(($(now_ms) - t0)) ms"
	assert_equal "$(grep -c '^200$' "$BATS_TEST_TMPDIR/many.codes")" "$WAITERS"
	assert_equal "$(grep -l '"key":"wt.x"' "$BATS_TEST_TMPDIR"/many.[0-9]* | wc -l)" "$WAITERS"
}

@test "(changes load) an event stream whose client does not read does not stall the service" {
	local since
	since=$(current_vs)
	# A client that reads a byte a second, and 40 writes of 60 KiB under
	# its prefix: more than any buffer between kvd and it holds.
	curl -sS -N --limit-rate 1 --max-time 40 -H 'Accept: text/event-stream' \
		-o /dev/null "$KV_URL/slow?changes=true&since=$since&wait=30000" 2>/dev/null &
	local reader=$!
	wait_waiting 1
	local value t0 took
	value=$(printf '"%061440d"' 0)
	for i in $(seq 1 40); do
		t0=$(now_ms)
		kv_put "/slow.k$((i % 4))" "{\"value\": $value}" >/dev/null
		took=$(($(now_ms) - t0))
		[[ $code == 200 ]] || fail "PUT $i: $code"
		((took < 5000)) || fail "PUT $i took $took ms"
	done
	# Reads are served at once meanwhile, by every process.
	for i in $(seq 1 20); do
		t0=$(now_ms)
		kv_req GET /slow.k1 >/dev/null
		took=$(($(now_ms) - t0))
		[[ $code == 200 ]] || fail "GET $i: $code"
		((took < 3000)) || fail "GET $i took $took ms"
	done
	kill "$reader" 2>/dev/null || true
	wait "$reader" 2>/dev/null || true
}

@test "(changes load) a change of kv.conf ends the waiting feeds, which come back under it" {
	local since
	since=$(current_vs)
	waiters 5 conf "/cf?changes=true&since=$since&wait=30000"
	wait_waiting 5
	local t0
	t0=$(now_ms)
	echo "# changed while feeds wait" >>"$KV_CONF"
	waiters_done
	local took=$(($(now_ms) - t0))
	echo "the feeds ended $took ms after the change"
	((took < 10000))
	assert_equal "$(grep -c '^200$' "$BATS_TEST_TMPDIR/conf.codes")" 5
	for f in "$BATS_TEST_TMPDIR"/conf.[0-9]*; do
		jq -e --arg v "$since" '.changes == [] and .versionstamp == $v' "$f"
	done
	kv_put /cf.after '{"value": 1}'
	assert_code 200
}

# cpu_ticks: the CPU time (user and system, in clock ticks) the kvd
# processes of this server have used.
cpu_ticks() {
	local pid
	for pid in $(kvd_pids); do
		awk -v pid="$pid" '{ print pid, $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || true
	done
}

# ticks_used BEFORE AFTER: the CPU ticks that the processes in both
# cpu_ticks listings used between them. A process the web server starts
# or ends meanwhile is left out: its start-up is not waiting.
ticks_used() {
	awk 'NR == FNR { t0[$1] = $2; next } ($1 in t0) { used += $2 - t0[$1] } END { print used + 0 }' \
		"$1" "$2"
}

@test "(changes load) processes holding waiting feeds sleep while nothing happens" {
	local since n=$((WAITERS < 100 ? WAITERS : 100))
	since=$(current_vs)
	waiters "$n" idle "/idle?changes=true&since=$since&wait=20000"
	wait_waiting "$n"
	local used hz
	hz=$(getconf CLK_TCK)
	cpu_ticks >"$BATS_TEST_TMPDIR/t0"
	sleep 3
	cpu_ticks >"$BATS_TEST_TMPDIR/t1"
	used=$(ticks_used "$BATS_TEST_TMPDIR/t0" "$BATS_TEST_TMPDIR/t1")
	echo "kvd used $used ticks of $hz a second in 3 s with $n feeds waiting," \
		"$(wc -l <"$BATS_TEST_TMPDIR/t0") processes before, $(wc -l <"$BATS_TEST_TMPDIR/t1") after"
	# A tenth of one CPU at most, all processes together.
	((used < 3 * hz / 10))
	kv_put /idle.k '{"value": 1}'
	waiters_done
	assert_equal "$(grep -c '^200$' "$BATS_TEST_TMPDIR/idle.codes")" "$n"
}
