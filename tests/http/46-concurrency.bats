bats_require_minimum_version 1.7.0
load '../lib/helper'
setup_file() { KV_PROCS=4 kv_setup_file; }
teardown_file() { kv_teardown_file; }

# Many clients at once, spread over the server's FastCGI processes (4 under
# lighttpd; mod_fcgid spawns as many as the load asks for): no update is
# lost or torn, lock waits end in an answer, never a hang or a 500.

CLIENTS=8

# sum_client N LOG: 100 commits of sum +1 on one counter; each answer's
# status goes to LOG. A 503 (the store's retries ran out; nothing was
# written) is retried after a short pause, as its Retry-After asks.
sum_client() {
	local log=$2 i code
	for ((i = 0; i < 100; i++)); do
		while :; do
			code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 20 -X POST \
				-H 'Content-Type: application/json' \
				--data-binary '{"mutations":[{"type":"sum","key":"conc.counter","value":1}]}' \
				"$KV_URL/") || code=curl-failed
			echo "$code" >>"$log"
			[[ "$code" == 503 ]] || break
			sleep 0.2
		done
	done
}

@test "(concurrency) 8 clients x 100 sum commits end at exactly 800" {
	local dir=$BATS_TEST_TMPDIR n pids=()
	for ((n = 0; n < CLIENTS; n++)); do
		sum_client "$n" "$dir/sum.$n" &
		pids+=($!)
	done
	for n in "${pids[@]}"; do wait "$n"; done
	local codes
	codes=$(cat "$dir"/sum.* | sort | uniq -c)
	echo "answers: $codes"
	assert_equal "$(grep -vc '^\(200\|503\)$' <(cat "$dir"/sum.*))" 0
	assert_equal "$(grep -c '^200$' <(cat "$dir"/sum.*))" 800
	kv_req GET /conc.counter
	assert_code 200
	assert_equal "$body" '800'
}

# cas_client N LOG: 40 rounds of read, then write the value + 1 only if the
# key still has the versionstamp read. Each answer goes to LOG as
# "<status> <versionstamp read> <versionstamp written>".
cas_client() {
	local log=$2 i hdr val vs code out
	hdr=$(mktemp)
	for ((i = 0; i < 40; i++)); do
		val=$(curl -sS -D "$hdr" --max-time 20 "$KV_URL/conc.cas") || val=
		vs=$(sed -n 's/^[Ee][Tt][Aa][Gg]: *"\([0-9a-f]*\)".*/\1/p' "$hdr")
		out=$(curl -sS -w '\n%{http_code}' --max-time 20 -X PUT \
			-H 'Content-Type: application/json' -H "If-Match: \"$vs\"" \
			--data-binary "{\"value\":$((val + 1))}" "$KV_URL/conc.cas") || out=$'\ncurl-failed'
		code=${out##*$'\n'}
		echo "$code $vs $(jq -r '.versionstamp? // "-"' <<<"${out%$'\n'*}" 2>/dev/null)" >>"$log"
	done
	rm -f "$hdr"
}

@test "(concurrency) compare-and-swap loops: one winner per version, no lost update" {
	kv_put /conc.cas '{"value":0}'
	assert_code 200
	local dir=$BATS_TEST_TMPDIR n pids=()
	for ((n = 0; n < CLIENTS; n++)); do
		cas_client "$n" "$dir/cas.$n" &
		pids+=($!)
	done
	for n in "${pids[@]}"; do wait "$n"; done
	cat "$dir"/cas.* >"$dir/cas.all"
	echo "answers: $(cut -d' ' -f1 "$dir/cas.all" | sort | uniq -c)"
	# Only 200 (won) and 412 (lost the race) are answers a CAS loop may see.
	assert_equal "$(cut -d' ' -f1 "$dir/cas.all" | grep -vc '^\(200\|412\)$')" 0
	local wins
	wins=$(grep -c '^200 ' "$dir/cas.all")
	((wins > 0)) || fail "no write won"
	# Exactly one winner per versionstamp read: no two successful writes
	# started from the same version.
	assert_equal "$(grep '^200 ' "$dir/cas.all" | cut -d' ' -f2 | sort | uniq -d | wc -l)" 0
	kv_req GET /conc.cas
	assert_code 200
	assert_equal "$body" "$wins"
}

@test "(concurrency) commits racing on two keys in opposite orders all finish" {
	local dir=$BATS_TEST_TMPDIR n pids=()
	# Each client's commit touches both keys, half of them in one order and
	# half in the other: the classic deadlock shape, which the counter lock
	# taken first by every write rules out.
	for ((n = 0; n < CLIENTS; n++)); do
		(
			local a=conc.left b=conc.right i code
			((n % 2)) && { a=conc.right b=conc.left; }
			for ((i = 0; i < 30; i++)); do
				code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 20 -X POST \
					--data-binary "{\"mutations\":[{\"type\":\"sum\",\"key\":\"$a\",\"value\":1},{\"type\":\"sum\",\"key\":\"$b\",\"value\":1}]}" \
					"$KV_URL/") || code=curl-failed
				echo "$code"
			done >"$dir/pair.$n"
		) &
		pids+=($!)
	done
	for n in "${pids[@]}"; do wait "$n"; done
	local ok
	ok=$(cat "$dir"/pair.* | grep -c '^200$')
	echo "answers: $(cat "$dir"/pair.* | sort | uniq -c)"
	assert_equal "$(cat "$dir"/pair.* | grep -vc '^\(200\|503\)$')" 0
	kv_req GET /conc.left
	assert_equal "$body" "$ok"
	kv_req GET /conc.right
	assert_equal "$body" "$ok"
}
