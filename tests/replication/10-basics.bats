bats_require_minimum_version 1.7.0
load '../lib/group'
setup_file() { group_setup_file; }
teardown_file() { group_teardown_file; }

# req METHOD URL [curl args]: sets code, body and headers.
req() {
	local method=$1 url=$2
	shift 2
	local h=$BATS_TEST_TMPDIR/h b=$BATS_TEST_TMPDIR/b
	code=$(curl -sS --max-time 20 -X "$method" -D "$h" -o "$b" -w '%{http_code}' "$url" "$@") || code=0
	body=$(cat "$b" 2>/dev/null || true)
	headers=$(tr -d '\r' <"$h" 2>/dev/null || true)
}

header() { awk -v n="$1" 'BEGIN { IGNORECASE = 1 } index(tolower($0), tolower(n) ":") == 1 { sub(/^[^:]*: */, ""); print; exit }' <<<"$headers"; }

@test "(group) one site is master, the others replicas, and all name the same master" {
	run group_roles
	assert_output "master replica replica"
	local n masters
	masters=$(for n in 1 2 3; do curl -sS "$(group_url "$n")/" | jq -r .replication.master.url; done | sort -u)
	assert_equal "$masters" "$SITE_URL_1"
	run curl -sS "$SITE_URL_2/"
	assert_equal "$(jq -r .replication.self.url <<<"$output")" "$SITE_URL_2"
}

@test "(group) a write at the master is read at both replicas; with its commit token at once" {
	req PUT "$SITE_URL_1/users.john" -d '{"value": {"name": "John", "n": 12345678901234567890}}'
	assert_equal "$code" 200
	local token vs
	token=$(header KV-Commit-Token)
	vs=$(jq -r .versionstamp <<<"$body")
	[[ $token =~ ^[0-9a-f]{40}$ ]] || fail "KV-Commit-Token: '$token'"
	for n in 2 3; do
		req GET "$(group_url "$n")/users.john" -H "KV-Commit-Token: $token"
		assert_equal "$code" 200
		assert_equal "$body" '{"name": "John", "n": 12345678901234567890}'
		assert_equal "$(header ETag)" "\"$vs\""
	done
}

@test "(group) without a token a replica catches up within seconds" {
	req PUT "$SITE_URL_1/plain.k" -d '{"value": "v1"}'
	assert_equal "$code" 200
	local vs
	vs=$(jq -r .versionstamp <<<"$body")
	group_wait_vs 2 "$vs"
	group_wait_vs 3 "$vs"
	req GET "$SITE_URL_3/plain.k"
	assert_equal "$body" '"v1"'
}

@test "(group) a write at a replica is 307 to the master with its path and query, and curl -L completes it" {
	req PUT "$SITE_URL_2/moved.k?x=1" -d '{"value": 7}'
	assert_equal "$code" 307
	assert_equal "$(header Location)" "$SITE_URL_1/moved.k?x=1"
	assert_equal "$(jq -r .error.code <<<"$body")" not_master
	assert_equal "$(jq -r .master.url <<<"$body")" "$SITE_URL_1"
	# Nothing was written at the replica or anywhere.
	req GET "$SITE_URL_1/moved.k"
	assert_equal "$code" 404
	run curl -sS -L -X PUT -d '{"value": 7}' -w ' %{http_code}' "$SITE_URL_3/moved.k"
	assert_output --regexp '"versionstamp":"[0-9a-f]{20}".* 200$'
	run curl -sS -L -X DELETE -w ' %{http_code}' "$SITE_URL_2/moved.k"
	assert_output --regexp ' 200$'
	run curl -sS -L -X POST -d '{"mutations": [{"type": "set", "key": "moved.c", "value": 1}]}' \
		-w ' %{http_code}' "$SITE_URL_3/"
	assert_output --regexp ' 200$'
}

@test "(group) versionstamps are one sequence across the group" {
	local a b
	req PUT "$SITE_URL_1/seq.a" -d '{"value": 1}'
	a=$(jq -r .versionstamp <<<"$body")
	run curl -sS -L -X PUT -d '{"value": 2}' "$SITE_URL_2/seq.b"
	b=$(jq -r .versionstamp <<<"$output")
	[[ $b > $a ]] || fail "$b after $a"
	group_wait_vs 3 "$b"
	req GET "$SITE_URL_3/?list=true"
	[[ $(jq -r .versionstamp <<<"$body") == "$b" || $(jq -r .versionstamp <<<"$body") > "$b" ]]
}

@test "(group) a consistent read goes to the master, which serves it" {
	req PUT "$SITE_URL_1/cons.k" -d '{"value": "c"}'
	req GET "$SITE_URL_2/cons.k?consistent=true"
	assert_equal "$code" 307
	assert_equal "$(header Location)" "$SITE_URL_1/cons.k?consistent=true"
	req GET "$SITE_URL_3/cons.k" -H 'KV-Consistent: true'
	assert_equal "$code" 307
	req GET "$SITE_URL_1/cons.k?consistent=true"
	assert_equal "$code" 200
	assert_equal "$body" '"c"'
}

@test "(group) a read at a replica says it may be stale; one at the master does not" {
	req GET "$SITE_URL_2/cons.k"
	assert_equal "$code" 200
	assert_equal "$(header KV-Possibly-Stale)" true
	req GET "$SITE_URL_1/cons.k"
	assert_equal "$(header KV-Possibly-Stale)" ""
}

@test "(group) a commit token that is not one is 400 invalid_header" {
	req GET "$SITE_URL_2/cons.k" -H 'KV-Commit-Token: 1234'
	assert_equal "$code" 400
	assert_equal "$(jq -r .error.code <<<"$body")" invalid_header
}

@test "(group) a change feed at a replica hears of a write at the master" {
	local since
	req GET "$SITE_URL_2/feed?changes=true"
	since=$(jq -r .versionstamp <<<"$body")
	curl -sS --max-time 20 -o "$BATS_TEST_TMPDIR/feed" \
		"$SITE_URL_2/feed?changes=true&since=$since&wait=15000" &
	local waiter=$! t0
	sleep 0.5
	t0=$(group_now_ms)
	req PUT "$SITE_URL_1/feed.x" -d '{"value": "fed"}'
	assert_equal "$code" 200
	wait "$waiter"
	echo "answered $(($(group_now_ms) - t0)) ms after the write"
	assert_equal "$(jq -c '[.changes[] | [.key, .op, .value]]' "$BATS_TEST_TMPDIR/feed")" '[["feed.x","set","fed"]]'
	(($(group_now_ms) - t0 < 5000))
}

@test "(group) an expired key is served by no site; the master's sweep removes it from every copy" {
	req PUT "$SITE_URL_1/ttl.k" -d '{"value": "short", "ttl": 300}'
	assert_equal "$code" 200
	local vs n
	vs=$(jq -r .versionstamp <<<"$body")
	group_wait_vs 2 "$vs"
	group_wait_vs 3 "$vs"
	sleep 0.6
	for n in 1 2 3; do
		req GET "$(group_url "$n")/ttl.k"
		assert_equal "$code" 404
		req GET "$(group_url "$n")/ttl?list=true"
		assert_equal "$(jq -c .entries <<<"$body")" '[]'
	done
	# A replica refuses to sweep: only the master writes.
	run "$KV_BUILDDIR/src/kvctl" -c "$GROUP_DIR/site2/kv.conf" sweep
	assert_failure
	assert_output --partial "writes go to its master"
	run "$KV_BUILDDIR/src/kvctl" -c "$GROUP_DIR/site1/kv.conf" sweep
	assert_success
	run "$KV_BUILDDIR/src/kvctl" -c "$GROUP_DIR/site1/kv.conf" stats
	assert_line "keys_expired: 0"
	vs=$(curl -sS "$SITE_URL_1/" | jq -r .replication.versionstamp)
	group_wait_vs 3 "$vs"
	run "$KV_BUILDDIR/src/kvctl" -c "$GROUP_DIR/site3/kv.conf" stats
	assert_line "keys_expired: 0"
}

@test "(group) kvctl verifies, dumps and loads at the master, and shows the group" {
	run "$KV_BUILDDIR/src/kvctl" -c "$GROUP_DIR/site1/kv.conf" verify
	assert_success
	run "$KV_BUILDDIR/src/kvctl" -c "$GROUP_DIR/site1/kv.conf" dump users
	assert_success
	assert_output --partial '"key":"users.john"'
	echo '{"key":"loaded.k","value":[1,2],"expiresAt":null,"versionstamp":"00000000000000000001"}' |
		"$KV_BUILDDIR/src/kvctl" -c "$GROUP_DIR/site1/kv.conf" load
	req GET "$SITE_URL_1/loaded.k?consistent=true"
	assert_equal "$body" '[1,2]'
	run bash -c "echo '{\"key\":\"loaded.r\",\"value\":1,\"expiresAt\":null,\"versionstamp\":\"00000000000000000001\"}' |
		'$KV_BUILDDIR/src/kvctl' -c '$GROUP_DIR/site2/kv.conf' load"
	assert_failure
	assert_output --partial "writes go to its master"
	run "$KV_BUILDDIR/src/kvctl" -c "$GROUP_DIR/site3/kv.conf" replication
	assert_success
	assert_line --regexp "^127\.0\.0\.1:[0-9]+ \(this\) +$SITE_URL_3 +replica +[0-9a-f]{20} [0-9]+  $SITE_URL_1\$"
	assert_line --regexp "^127\.0\.0\.1:[0-9]+ +$SITE_URL_1 +master "
}

@test "(group) a site stopped cleanly comes back without a recovery" {
	local logs=("$GROUP_DIR/site2/run/replicate.log" "$GROUP_DIR/site2/run/server.log")
	local before
	before=$(cat "${logs[@]}" | grep -c 'recovering the store')
	"$KV_SRCDIR/script/group" stop "$GROUP_DIR" 2
	"$KV_SRCDIR/script/group" start "$GROUP_DIR" 2
	local deadline=$(($(group_now_ms) + 60000))
	until [[ $(group_role 2) == replica ]]; do
		(($(group_now_ms) < deadline)) || fail "site 2 did not come back: $(group_roles)"
		sleep 0.2
	done
	req GET "$SITE_URL_2/users.john"
	assert_equal "$code" 200
	# Each process left its slot cleared: nobody asked for a recovery.
	run grep -h 'stopped without leaving the store' "${logs[@]}"
	assert_failure
	run bash -c "cat ${logs[*]} | grep -c 'recovering the store'"
	assert_output "$before"
}

@test "(group) a site re-seeded with an empty store copies the whole store from the master" {
	local vs
	"$KV_SRCDIR/script/group" stop "$GROUP_DIR" 3
	rm -rf "$GROUP_DIR/site3/store"
	"$KV_SRCDIR/script/group" start "$GROUP_DIR" 3
	vs=$(curl -sS "$SITE_URL_1/" | jq -r .replication.versionstamp)
	local deadline=$(($(group_now_ms) + 60000))
	until [[ $(group_role 3) == replica ]]; do
		(($(group_now_ms) < deadline)) || fail "site 3 did not come back: $(group_roles)"
		sleep 0.2
	done
	group_wait_vs 3 "$vs"
	req GET "$SITE_URL_3/users.john"
	assert_equal "$code" 200
	assert_equal "$body" '{"name": "John", "n": 12345678901234567890}'
}

@test "(group) kvctl replication remove takes a stopped site out of the group" {
	"$KV_SRCDIR/script/group" kill "$GROUP_DIR" 3
	run "$KV_BUILDDIR/src/kvctl" -c "$GROUP_DIR/site2/kv.conf" replication remove "127.0.0.1:$((REPL_PORT + 2))"
	assert_success
	assert_output "removed 127.0.0.1:$((REPL_PORT + 2)) from the group"
	run grep -c "a site left the group" "$GROUP_DIR/site1/run/replicate.log"
	assert_output 1
	run "$KV_BUILDDIR/src/kvctl" -c "$GROUP_DIR/site2/kv.conf" replication remove nonsense
	assert_failure 2
	req PUT "$SITE_URL_1/after.remove" -d '{"value": 1}'
	assert_equal "$code" 200
}
