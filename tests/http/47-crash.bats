bats_require_minimum_version 1.7.0
load '../lib/helper'
setup_file() { KV_PROCS=4 kv_setup_file; }
teardown_file() { kv_teardown_file; }

# FastCGI processes killed with SIGKILL at random moments while clients
# write. Afterwards the service answers again without a restart of the web
# server (the next process to join the store recovers it), and every write
# that was answered 200 is there with its value.

# put_client N DIR: PUTs crash.N.I = {"n":N,"i":I} for I = 0, 1, ... until
# DIR/stop exists; logs "<status> I" to DIR/put.N.
put_client() {
	local n=$1 dir=$2 i=0 code
	while [[ ! -e "$dir/stop" ]]; do
		code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 30 -X PUT \
			--data-binary "{\"value\":{\"n\":$n,\"i\":$i}}" "$KV_URL/crash.$n.$i" 2>/dev/null) ||
			code=000
		echo "$code $i" >>"$dir/put.$n"
		i=$((i + 1))
	done
}

# sum_client DIR: sum +1 commits on crash.counter until DIR/stop exists;
# logs each status to DIR/sum.
sum_client() {
	local dir=$1 code
	while [[ ! -e "$dir/stop" ]]; do
		code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 30 -X POST \
			--data-binary '{"mutations":[{"type":"sum","key":"crash.counter","value":1}]}' \
			"$KV_URL/" 2>/dev/null) || code=000
		echo "$code" >>"$dir/sum"
	done
}

# kvd_pids: the program's processes under this test's web server.
kvd_pids() {
	pgrep -g "$KV_SERVER_PID" -x kvd || true
}

# list_all PREFIX: print every entry under PREFIX as one JSON array,
# following the cursor from page to page.
list_all() {
	local cursor='' page all='[]'
	while :; do
		page=$(curl -sS --max-time 30 "$KV_URL/$1?list=true${cursor:+&cursor=$cursor}")
		all=$(jq -c --argjson p "$page" '. + $p.entries' <<<"$all")
		cursor=$(jq -r '.cursor // empty' <<<"$page")
		[[ -n "$cursor" ]] || break
	done
	printf '%s\n' "$all"
}

@test "(crash) SIGKILLed workers lose no acknowledged write, and the service recovers" {
	local dir=$BATS_TEST_TMPDIR n pids=() kills=0 victim
	kv_wait_healthy 30 || fail "not healthy before the test"
	for n in 0 1 2 3; do
		put_client "$n" "$dir" &
		pids+=($!)
	done
	sum_client "$dir" &
	pids+=($!)

	# Six kills, one every 0.2 to 0.7 s, while the clients write (at
	# most 30 s: the web server needs a moment to start new processes).
	local end=$((SECONDS + 30))
	while ((kills < 6 && SECONDS < end)); do
		sleep "0.$((RANDOM % 6 + 2))"
		victim=$(kvd_pids | shuf -n 1)
		[[ -n "$victim" ]] && kill -KILL "$victim" 2>/dev/null && kills=$((kills + 1))
	done
	sleep 1
	touch "$dir/stop"
	for n in "${pids[@]}"; do wait "$n"; done
	echo "kills: $kills"
	((kills == 6)) || fail "only $kills processes were killed"

	# The service comes back by itself, with the same web server.
	kill -0 "$KV_SERVER_PID" || fail "the web server died"
	kv_wait_healthy 90 || fail "the service did not recover within 90 s"

	# Every acknowledged PUT is there with its value, and no key holds
	# anything but what was written to it.
	local acked=0 missing=0 entries
	entries=$(list_all crash)
	for n in 0 1 2 3; do
		while read -r code i; do
			[[ "$code" == 200 ]] || continue
			acked=$((acked + 1))
			jq -e --arg k "crash.$n.$i" --argjson n "$n" --argjson i "$i" \
				'any(.[]; .key == $k and .value == {n: $n, i: $i})' <<<"$entries" >/dev/null ||
				{ echo "lost: crash.$n.$i"; missing=$((missing + 1)); }
		done <"$dir/put.$n"
	done
	echo "acknowledged puts: $acked, answers: $(cat "$dir"/put.* | cut -d' ' -f1 | sort | uniq -c | tr '\n' ' ')"
	((acked > 20)) || fail "too few writes were acknowledged ($acked) to prove anything"
	assert_equal "$missing" 0
	assert_equal "$(jq -c '[.[] | select(.key != "crash.counter") |
		select(.key != "crash.\(.value.n).\(.value.i)")] | length' <<<"$entries")" 0

	# The counter holds at least every acknowledged sum, and no more than
	# were sent (an answer lost with its process may still have committed).
	local sums_ok sums_sent counter
	sums_ok=$(grep -c '^200$' "$dir/sum" || true)
	sums_sent=$(wc -l <"$dir/sum")
	counter=$(curl -sS "$KV_URL/crash.counter")
	echo "sums: $sums_ok acknowledged of $sums_sent sent; counter $counter"
	((counter >= sums_ok && counter <= sums_sent)) ||
		fail "counter $counter outside [$sums_ok, $sums_sent]"

	# New requests work on every process.
	for ((n = 0; n < 40; n++)); do
		kv_put "/crash.after.$n" "{\"value\":$n}"
		assert_code 200
		kv_req GET "/crash.after.$n"
		assert_equal "$body" "$n"
	done
}
