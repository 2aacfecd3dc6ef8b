bats_require_minimum_version 1.5.0
load kvctl
setup_file() { kv_setup_file; }
teardown_file() { kv_teardown_file; }

# A sweep of 100,000 expired keys, loaded with kvctl load, while clients
# read and write through lighttpd.

# client KIND: requests until $BATS_TEST_TMPDIR/stop exists, one line
# "KIND key status seconds" per request in $BATS_TEST_TMPDIR/KIND.log.
client() {
	local kind=$1 i=0 key
	while [[ ! -e "$BATS_TEST_TMPDIR/stop" ]]; do
		i=$((i + 1))
		case $kind in
		get) key=live.$((i % 20)) ;;
		gone) key=exp.$(printf '%06d' $((i * 7919 % 100000 + 1))) ;;
		put) key=w.$((i % 50)) ;;
		esac
		if [[ $kind == put ]]; then
			printf '%s %s ' "$kind" "$key"
			curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 20 \
				-X PUT "$KV_URL/$key" --data-binary "{\"value\": $i}"
		else
			printf '%s %s ' "$kind" "$key"
			curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 20 "$KV_URL/$key"
		fi
	done >"$BATS_TEST_TMPDIR/$kind.log"
}

@test "(kvctl) sweep of 100,000 expired keys while GETs run leaves no expired key and fails no GET" {
	for i in $(seq 0 19); do kv_put "/live.$i" "{\"value\": {\"i\": $i}}" >/dev/null; done
	local exp=$(($(now_ms) + 20000))
	seq 1 100000 | awk -v e="$exp" '{ printf "{\"key\":\"exp.%06d\",\"value\":{\"n\":%d},\"expiresAt\":%s,\"versionstamp\":\"00000000000000000001\"}\n", $1, $1, e }' \
		>"$BATS_TEST_TMPDIR/expiring.jsonl"
	run --separate-stderr "$KVCTL" load "$BATS_TEST_TMPDIR/expiring.jsonl"
	assert_success
	assert_output 'loaded 100000 keys with new versionstamps; 0 already expired, left out'
	while (($(now_ms) <= exp)); do sleep 0.2; done
	run "$KVCTL" stats
	assert_line 'keys_live: 20'
	assert_line 'keys_expired: 100000'

	client get 3>&- &
	local readers=($!)
	client gone 3>&- &
	readers+=($!)
	client put 3>&- &
	readers+=($!)
	sleep 0.5
	local t0=$(now_ms)
	run --separate-stderr "$KVCTL" sweep
	local t1=$(now_ms)
	sleep 0.5
	touch "$BATS_TEST_TMPDIR/stop"
	wait "${readers[@]}"
	assert_success
	# Writes purge expired keys too: the sweep removes what they left.
	assert_output --regexp '^swept [0-9]+ expired keys$'

	# Every request answered as it should before the store is counted, so
	# that a failure names the answer that caused it.
	run awk '$3 != 200' "$BATS_TEST_TMPDIR/get.log"
	assert_output ''
	run awk '$3 != 404' "$BATS_TEST_TMPDIR/gone.log"
	assert_output ''
	run awk '$3 != 200' "$BATS_TEST_TMPDIR/put.log"
	assert_output ''
	written=$(awk '{ print $2 }' "$BATS_TEST_TMPDIR/put.log" | sort -u | wc -l)
	run "$KVCTL" stats
	assert_line 'keys_expired: 0'
	assert_line "keys_live: $((20 + written))"
	run "$KVCTL" dump exp
	assert_output ''
	run "$KVCTL" verify
	assert_success

	local gets puts
	gets=$(cat "$BATS_TEST_TMPDIR/get.log" "$BATS_TEST_TMPDIR/gone.log" | wc -l)
	puts=$(wc -l <"$BATS_TEST_TMPDIR/put.log")
	((gets > 0)) || fail "no GET ran during the sweep"
	slowest=$(cat "$BATS_TEST_TMPDIR"/*.log | sort -k4 -n | tail -n 1)
	echo "# sweep of 100000 keys: $((t1 - t0)) ms; $gets GETs and $puts PUTs meanwhile, slowest: $slowest" >&3
}
