bats_require_minimum_version 1.7.0
load '../lib/group'
setup_file() { group_setup_file; }
teardown_file() { group_teardown_file; }

# Writers against the group for SECONDS, recorded in $BATS_TEST_TMPDIR/load.
start_load() {
	python3 "$KV_SRCDIR/tests/lib/group_load.py" "$BATS_TEST_TMPDIR/load" "$1" 4 "$2" \
		"$SITE_URL_1" "$SITE_URL_2" "$SITE_URL_3" &
	load_pid=$!
}

# check N PREFIX: every acknowledged write of the load is in site N's store.
check() {
	group_backup "$1" "$BATS_TEST_TMPDIR/backup.$1"
	run python3 "$KV_SRCDIR/tests/lib/group_check.py" "$BATS_TEST_TMPDIR/load" \
		"$BATS_TEST_TMPDIR/backup.$1" "$2"
	echo "site $1: $output"
	assert_success
}

@test "(failover) kill -9 of the master's whole site under 4 writers: a new master, and no acknowledged write lost" {
	local old new kill_ms first_ms
	old=$(group_master)
	[[ -n $old ]] || fail "no master: $(group_roles)"
	start_load 16 fo
	sleep 4
	kill_ms=$(group_now_ms)
	"$KV_SRCDIR/script/group" kill "$GROUP_DIR" "$old"
	new=$(group_wait_master "$old")
	wait "$load_pid"
	# The failover time: from the kill to the first write the new master
	# acknowledged.
	first_ms=$(awk -v url="$(group_url "$new")" -v t="$kill_ms" \
		'$4 == url && $5 == 200 && $7 >= t { print $7; exit }' "$BATS_TEST_TMPDIR/load")
	[[ -n $first_ms ]] || fail "the new master, site $new, acknowledged no write"
	echo "site $new is master; it acknowledged its first write $((first_ms - kill_ms)) ms after the kill"
	((first_ms - kill_ms < 10000))
	check "$new" fo
	# The old master, started again, rejoins as a replica and catches up:
	# its store then holds the same keys and values.
	"$KV_SRCDIR/script/group" start "$GROUP_DIR" "$old"
	local vs deadline=$(($(group_now_ms) + 60000))
	vs=$(curl -sS "$(group_url "$new")/" | jq -r .replication.versionstamp)
	until [[ $(group_role "$old") == replica ]]; do
		(($(group_now_ms) < deadline)) || fail "site $old did not come back as a replica: $(group_roles)"
		sleep 0.2
	done
	group_wait_vs "$old" "$vs"
	# Killed inside the store, its processes left their slots marked: the
	# first to come back asked for a recovery rather than a failchk.
	run grep -h 'stopped without leaving the store' \
		"$GROUP_DIR/site$old/run/replicate.log" "$GROUP_DIR/site$old/run/server.log"
	assert_success
	check "$old" fo
	grep '"key":"fo\.' "$BATS_TEST_TMPDIR/backup.$new" | sort >"$BATS_TEST_TMPDIR/a"
	grep '"key":"fo\.' "$BATS_TEST_TMPDIR/backup.$old" | sort >"$BATS_TEST_TMPDIR/b"
	run diff "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	assert_success
}

@test "(failover) with two sites down, the survivor acknowledges no write and serves reads marked possibly stale" {
	local master survivor n code codes=() h
	master=$(group_master)
	[[ -n $master ]] || fail "no master: $(group_roles)"
	curl -sS -X PUT -d '{"value": "before"}' "$(group_url "$master")/q.k" >/dev/null
	# Both replicas down: the master stays master but no write gets a 200.
	for n in 1 2 3; do
		[[ $n == "$master" ]] || "$KV_SRCDIR/script/group" kill "$GROUP_DIR" "$n"
	done
	for i in $(seq 1 10); do
		code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 -X PUT \
			-d "{\"value\": $i}" "$(group_url "$master")/q.m$i")
		codes+=("$code")
	done
	echo "writes at the lone master: ${codes[*]}"
	[[ " ${codes[*]} " != *" 200 "* ]]
	run curl -sS "$(group_url "$master")/q.k"
	assert_output '"before"'
	# Back to three, then the master and one replica down: the survivor
	# knows no master and cannot elect one.
	for n in 1 2 3; do
		[[ $n == "$master" ]] || "$KV_SRCDIR/script/group" start "$GROUP_DIR" "$n"
	done
	for n in 1 2 3; do
		[[ $n == "$master" ]] && continue
		local deadline=$(($(group_now_ms) + 60000))
		until [[ $(group_role "$n") == replica ]]; do
			(($(group_now_ms) < deadline)) || fail "site $n did not come back: $(group_roles)"
			sleep 0.2
		done
		survivor=$n
	done
	for n in 1 2 3; do
		[[ $n == "$survivor" ]] || "$KV_SRCDIR/script/group" kill "$GROUP_DIR" "$n"
	done
	sleep 3
	codes=()
	for i in $(seq 1 10); do
		code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 -X PUT \
			-d "{\"value\": $i}" "$(group_url "$survivor")/q.s$i")
		codes+=("$code")
		sleep 0.2
	done
	echo "writes at the survivor: ${codes[*]}"
	[[ " ${codes[*]} " != *" 200 "* ]]
	h=$(curl -sS -D - -o "$BATS_TEST_TMPDIR/read" "$(group_url "$survivor")/q.k" | tr -d '\r')
	echo "$h"; curl -sS "$(group_url "$survivor")/"; echo
	grep -q '^HTTP/1.1 200' <<<"$h"
	grep -qi '^KV-Possibly-Stale: true' <<<"$h"
	run cat "$BATS_TEST_TMPDIR/read"
	assert_output '"before"'
}
