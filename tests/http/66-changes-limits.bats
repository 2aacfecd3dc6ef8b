bats_require_minimum_version 1.7.0
load '../lib/helper'
load '../lib/feeds'

# The change feed's bounds: grants, watch_max and retention. Every wait is
# bounded.

# Under mod_fcgid and plain CGI each waiting feed is a process (and an
# Apache worker) of a host that allows 48 or 64: fewer slots there.
case ${KV_TEST_SERVER:-lighttpd} in
lighttpd | nginx | static-chroot | apache-proxy) SLOTS=40 ;;
*) SLOTS=12 ;;
esac
READER=${READER:-$(kv_new_token)}
setup_file() {
	export READER
	KV_EXTRA_CONF=$'auth = on\nwatch_max = '$SLOTS$'\nchanges_max = 64K\nchanges_keep = 1h
rate = 1/h
burst = 5000
[token reader]
hash = '"$(kv_token_hash "$READER")"$'
read = lim
write = lim' kv_setup_file
}
teardown_file() { kv_teardown_file; }

now_ms() { date +%s%3N; }
auth=(-H "Authorization: Bearer $READER")
feed_auth=("${auth[@]}")


@test "(changes limits) a feed needs a read grant on its prefix" {
	kv_req GET '/other?changes=true' "${auth[@]}"
	assert_error 403 forbidden
	kv_req GET '/?changes=true' "${auth[@]}"
	assert_error 403 forbidden
	kv_req GET '/lim?changes=true'
	assert_error 401 unauthorized
	kv_req GET '/lim.x?changes=true' "${auth[@]}"
	assert_code 200
}

@test "(changes limits) watch_max waiting feeds, then 429 too_many_watches, and slots come back" {
	local since
	since=$(current_vs lim)
	waiters "$SLOTS" slot "/lim?changes=true&since=$since&wait=30000"
	wait_waiting "$SLOTS"
	kv_req GET "/lim?changes=true&since=$since&wait=100" "${auth[@]}"
	assert_error 429 too_many_watches
	assert_equal "$(kv_header Retry-After)" 1
	# A feed that need not wait takes no slot.
	kv_req GET "/lim?changes=true&since=$since" "${auth[@]}"
	assert_code 200
	kv_put /lim.a '{"value": 1}' "${auth[@]}"
	assert_code 200
	waiters_done
	assert_equal "$(grep -c '^200$' "$BATS_TEST_TMPDIR/slot.codes")" "$SLOTS"
	assert_equal "$(grep -l '"lim.a"' "$BATS_TEST_TMPDIR"/slot.[0-9]* | wc -l)" "$SLOTS"
	# Their slots are free again (a killed or finished waiter never keeps one).
	kv_req GET "/lim?changes=true&since=$(current_vs lim)&wait=200" "${auth[@]}"
	assert_code 200
}

@test "(changes limits) a since older than the log keeps is 410 changes_expired" {
	local first
	first=$(current_vs lim)
	local value
	value=$(printf '"%01000d"' 0)
	for i in $(seq 1 100); do
		kv_put "/lim.r$((i % 7))" "{\"value\": $value}" "${auth[@]}" >/dev/null
		[[ $code == 200 ]] || fail "PUT $i: $code"
	done
	kv_req GET "/lim?changes=true&since=$first" "${auth[@]}"
	assert_error 410 changes_expired
	# The newest changes are still kept.
	local last
	last=$(current_vs lim)
	kv_req GET "/lim?changes=true&since=$(printf '%020x' $((16#$last - 3)))" "${auth[@]}"
	assert_code 200
	assert_json '.changes | length' '3'
}

@test "(changes limits) the rate limiter counts a long-poll once, however long it waits" {
	kv_req GET /lim.r0 "${auth[@]}"
	local before
	before=$(kv_header RateLimit-Remaining)
	kv_req GET "/lim?changes=true&since=$(current_vs lim)&wait=1500" "${auth[@]}"
	assert_code 200
	# current_vs was one request, the long-poll another.
	assert_equal "$(kv_header RateLimit-Remaining)" "$((before - 2))"
	kv_req GET /lim.r0 "${auth[@]}"
	assert_equal "$(kv_header RateLimit-Remaining)" "$((before - 3))"
}
