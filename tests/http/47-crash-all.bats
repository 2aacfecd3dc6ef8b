bats_require_minimum_version 1.7.0
load '../lib/helper'
setup_file() { KV_PROCS=4 kv_setup_file; }
teardown_file() { kv_teardown_file; }

# Every FastCGI process of the pool killed at once, as a crashed host's
# process manager or an operator's `pkill -9 kvd` does, again and again.
# Their successors start together, and each one that joins the store
# releases the read locks the dead held (Berkeley DB's failchk); two
# doing so at once would damage the lock table they share. The pool's
# manager (the web server under lighttpd, multiwatch under spawn-fcgi)
# starts the successors at once; mod_fcgid starts them only as requests
# come, throttled, and plain CGI has no pool: tests/apache-proxy.test and
# the sanitizer pass (lighttpd) run this file.

# died_since LINE: what the log says after its line LINE of processes that
# died inside the store or were stuck there, of recoveries, and of a dead
# process's locker whose locks two processes released (Berkeley DB's
# "Freeing read locks for locker L" names L).
died_since() {
	tail -n +"$(($1 + 1))" "$KV_LOG" |
		grep -E 'died inside|stuck in the store|recovering the store|Thread died' || true
	tail -n +"$(($1 + 1))" "$KV_LOG" |
		sed -n 's/^kvd\[\([0-9]*\)\]: berkeley db: BDB2053 Freeing read locks for locker \(0x[0-9a-f]*\):.*/\1 \2/p' |
		sort -u | awk '{ n[$2]++ } END { for (l in n) if (n[l] > 1) print "locker " l " released by " n[l] " processes" }'
}

@test "(crash all) every worker killed at once, eight times: their successors join one at a time" {
	local round pids before problems
	kv_wait_healthy 30 || fail "not healthy before the test"
	for round in 1 2 3 4 5 6 7 8; do
		# Every process has the store open, as after any traffic.
		curl -sS --parallel --parallel-max 16 --max-time 30 -o /dev/null \
			"$KV_URL/crash.all?n=[1-32]" 2>/dev/null || true
		pids=$(kv_kvd_pids || true)
		[[ -n $pids ]] || fail "round $round: no kvd process to kill"
		before=$(wc -l <"$KV_LOG")
		# shellcheck disable=SC2086 # one pid a word
		kill -KILL $pids
		# shellcheck disable=SC2086
		kv_wait_dead $pids
		curl -sS --parallel --parallel-max 16 --max-time 30 -o /dev/null \
			"$KV_URL/crash.all?n=[1-32]" 2>/dev/null || true
		kv_wait_healthy 30 || fail "round $round: the service did not come back"
		kv_put /crash.all "{\"value\": $round}"
		assert_code 200
		problems=$(died_since "$before")
		[[ -z $problems ]] || fail "round $round: $problems"
	done
	kv_req GET /crash.all
	assert_equal "$body" 8
}
