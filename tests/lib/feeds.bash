# tests/lib/feeds.bash: many change feeds waiting at once, and how many do
#
# load it after helper.bash. Requests carry the words of the array
# feed_auth (set it to (-H "Authorization: Bearer TOKEN") under auth).

feed_auth=()

feed_now_ms() { date +%s%3N; }

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
			"${feed_auth[@]}" -o "$BATS_TEST_TMPDIR/$name.#1" -w '%{http_code}\n' \
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
	local deadline=$(($(feed_now_ms) + 30000))
	until (($(waiting_feeds) >= $1)); do
		(($(feed_now_ms) < deadline)) || fail "only $(waiting_feeds) of $1 feeds wait after 30 s"
		sleep 0.1
	done
}

# current_vs [PREFIX]: the store's versionstamp, from a feed of PREFIX.
current_vs() {
	kv_req GET "/${1:-}?changes=true" "${feed_auth[@]}" >/dev/null
	jq -r .versionstamp <<<"$body"
}
