bats_require_minimum_version 1.7.0
load '../lib/helper'

# The store on a small file system of its own (a tmpfs), filled up while
# clients write: a write that finds no room is 503 unavailable with
# Retry-After and leaves nothing behind, reads keep working, nothing
# acknowledged is lost, and writes work again once there is room.

kv_before_start() {
	mount -t tmpfs -o size=24m,mode=0755 tmpfs "$KV_STORE"
}
setup_file() { KV_EXTRA_CONF='cache_size = 1M' kv_setup_file; }
teardown_file() {
	kv_teardown_file
	if mountpoint -q "$KV_STORE" 2>/dev/null; then umount "$KV_STORE"; fi
}

@test "(disk full) writes are refused with 503 and nothing acknowledged is lost" {
	local dir=$BATS_TEST_TMPDIR big i acked=() refused=0
	big=$(printf '"%s"' "$(head -c 3000 /dev/zero | tr '\0' x)")
	kv_put /full.first '{"value":1}'
	assert_code 200

	# Leave about 150 KiB free, then write 3 KB values until one is refused.
	local avail
	avail=$(df -k --output=avail "$KV_STORE" | tail -n 1)
	dd if=/dev/zero of="$KV_STORE/filler" bs=1k count=$((avail - 150)) status=none 2>/dev/null || true
	for ((i = 0; i < 300 && refused == 0; i++)); do
		kv_put "/full.k$i" "{\"value\":$big}" >/dev/null
		case $code in
		200) acked+=("$i") ;;
		*)
			assert_error 503 unavailable
			[[ -n "$(kv_header Retry-After)" ]] || fail "no Retry-After"
			refused=1
			;;
		esac
	done
	echo "acknowledged before the disk filled: ${#acked[@]}"
	((refused == 1)) || fail "300 writes of 3 KB fitted in ~150 KiB"

	# While it is full: a commit is refused whole, reads work.
	kv_req POST / --data-binary "{\"mutations\":[{\"type\":\"set\",\"key\":\"full.c1\",\"value\":$big},{\"type\":\"set\",\"key\":\"full.c2\",\"value\":$big}]}"
	assert_error 503 unavailable
	kv_req GET /full.c1
	assert_error 404 not_found
	kv_req GET /full.first
	assert_code 200
	assert_equal "$body" '1'
	for i in "${acked[@]}"; do
		kv_req GET "/full.k$i" >/dev/null
		assert_code 200
		assert_equal "$body" "$big"
	done

	# Room again: writes work at once, and everything acknowledged is there.
	rm -f "$KV_STORE/filler"
	kv_req POST / --data-binary "{\"mutations\":[{\"type\":\"set\",\"key\":\"full.c1\",\"value\":$big},{\"type\":\"set\",\"key\":\"full.c2\",\"value\":$big}]}"
	assert_code 200
	kv_req GET /full.c2
	assert_equal "$body" "$big"
	kv_req GET "/full?list=true&values=false&limit=1000"
	assert_code 200
	assert_equal "$(jq '.entries | length' <<<"$body")" $((${#acked[@]} + 3))
	kv_log_contains 'disk holding the store is full'
}
