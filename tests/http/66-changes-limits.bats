bats_require_minimum_version 1.7.0
load '../lib/helper'

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
[token reader]
hash = '"$(kv_token_hash "$READER")"$'
read = lim
write = lim' kv_setup_file
}
teardown_file() { kv_teardown_file; }

now_ms() { date +%s%3N; }
auth=(-H "Authorization: Bearer $READER")

# waiters N NAME QUERY: N long-polls at once, in the background, from
# curls of at most 250 transfers each (curl runs at most 300 at once);
# each one's body goes to $BATS_TEST_TMPDIR/NAME.I. waiters_done waits for
# them and leaves their statuses in NAME.codes.
waiters() {
	local n=$1 name=$2 query=$3 first last
	waiters_pids=()
	for ((first = 1; first <= n; first += 250)); do
		last=$((first + 249 < n ? first + 249 : n))
		curl -sS --parallel --parallel-immediate --parallel-max 300 --max-time 60 \
			"${auth[@]}" -o "$BATS_TEST_TMPDIR/$name.#1" -w '%{http_code}\n' \
			"$KV_URL$query&n=[$first-$last]" >"$BATS_TEST_TMPDIR/$name.codes.$first" 2>/dev/null &
		waiters_pids+=($!)
	done
	waiters_name=$name
}

waiters_done() {
	local pid
	for pid in "${waiters_pids[@]}"; do wait "$pid" || true; done
	cat "$BATS_TEST_TMPDIR/$waiters_name".codes.* >"$BATS_TEST_TMPDIR/$waiters_name.codes"
}

# waiting_feeds: how many feeds wait at this site now: each holds a lock
# on one byte of the store's kv-watchers file. /proc/locks shows a
# process's locks on adjacent bytes as one range: count the bytes.
waiting_feeds() {
	local ino
	ino=$(stat -c %i "$KV_STORE/kv-watchers" 2>/dev/null) || { echo 0; return; }
	awk -v ino="$ino" '$2 != "->" && $6 ~ (":" ino "$") { n += $8 - $7 + 1 } END { print n + 0 }' /proc/locks
}

# wait_waiting N: until N feeds wait, at most 30 s.
wait_waiting() {
	local deadline=$(($(now_ms) + 30000))
	until (($(waiting_feeds) >= $1)); do
		(($(now_ms) < deadline)) || fail "only $(waiting_feeds) of $1 feeds wait after 30 s"
		sleep 0.1
	done
}

current_vs() {
	kv_req GET '/lim?changes=true' "${auth[@]}" >/dev/null
	jq -r .versionstamp <<<"$body"
}

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
	since=$(current_vs)
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
	kv_req GET "/lim?changes=true&since=$(current_vs)&wait=200" "${auth[@]}"
	assert_code 200
}

@test "(changes limits) a since older than the log keeps is 410 changes_expired" {
	local first
	first=$(current_vs)
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
	last=$(current_vs)
	kv_req GET "/lim?changes=true&since=$(printf '%020x' $((16#$last - 3)))" "${auth[@]}"
	assert_code 200
	assert_json '.changes | length' '3'
}

