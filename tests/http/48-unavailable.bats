bats_require_minimum_version 1.7.0
load '../lib/helper'
teardown() {
	kv_teardown_file
	if mountpoint -q "$KV_STORE" 2>/dev/null; then umount "$KV_STORE"; fi
}

# A store that cannot be opened: every request is 503 unavailable with
# Retry-After and a message with no path in it, the error log says why,
# and the processes keep serving (no crash loop), so the service comes back
# by itself once the store is repaired. Each test starts its own server on
# a store broken by kv_before_start.

# start_broken COMMANDS: start the server after running COMMANDS on the
# fresh, empty store directory $KV_STORE.
start_broken() {
	eval "kv_before_start() { $1; }"
	KV_READY_STATUS='^503$' kv_setup_file
}

# assert_all_unavailable: every kind of request is the contract's 503.
assert_all_unavailable() {
	local req
	for req in 'GET /' 'GET /u.a' 'GET /u?list=true' 'DELETE /u.a'; do
		kv_req $req
		assert_error 503 unavailable
		[[ -n "$(kv_header Retry-After)" ]] || fail "no Retry-After on $req"
		refute_regex "$(jq -r .error.message <<<"$body")" "/|$KV_STORE|[Bb]erkeley|db"
	done
	kv_put /u.a '{"value":1}'
	assert_error 503 unavailable
	kv_req POST / --data-binary '{"mutations":[{"type":"set","key":"u.b","value":1}]}'
	assert_error 503 unavailable
}

# assert_no_crash_loop: twenty more requests, and every program process
# seen before them is still the same process after them.
assert_no_crash_loop() {
	local before pid
	before=$(pgrep -g "$KV_SERVER_PID" -x kvd)
	[[ -n "$before" ]] || fail "no kvd process is running"
	for _ in $(seq 20); do
		curl -s -o /dev/null "$KV_URL/u.a"
	done
	for pid in $before; do
		kill -0 "$pid" || fail "kvd process $pid died"
	done
}

@test "(unavailable) a missing store directory is 503, and the service returns once it exists" {
	start_broken 'rmdir "$KV_STORE"'
	assert_all_unavailable
	kv_log_contains 'cannot open the store'
	assert_no_crash_loop
	mkdir "$KV_STORE"
	[[ $KV_TEST_SERVER != apache ]] || chown www-data:www-data "$KV_STORE"
	kv_put /u.back '{"value":"again"}'
	assert_code 200
	kv_req GET /u.back
	assert_equal "$body" '"again"'
}

@test "(unavailable) a file where the store directory should be is 503" {
	start_broken 'rmdir "$KV_STORE" && echo "not a directory" >"$KV_STORE"'
	assert_all_unavailable
	kv_log_contains 'cannot open the store'
	assert_no_crash_loop
	rm -f "$KV_STORE"
}

@test "(unavailable) a store on a read-only file system is 503" {
	start_broken 'mount -t tmpfs -o ro,size=1m tmpfs "$KV_STORE"'
	assert_all_unavailable
	kv_log_contains 'cannot open the store'
	assert_no_crash_loop
}

@test "(unavailable) a damaged database file is 503 with a line in the log" {
	# A store with data, written by the program itself as a CGI program,
	# then its first page overwritten.
	start_broken '
		printf %s "{\"value\":1}" | env -i KV_CONF="$KV_CONF" KV_DATA="$KV_STORE" \
			REQUEST_METHOD=PUT REQUEST_URI=/kv/u.a SCRIPT_NAME=/kv CONTENT_LENGTH=11 \
			"$KV_BIN" | grep -q "^Status: 200" &&
		head -c 4096 /dev/urandom | dd of="$KV_STORE/kv.db" conv=notrunc status=none'
	assert_all_unavailable
	kv_log_contains 'cannot open the databases'
	assert_no_crash_loop
}
