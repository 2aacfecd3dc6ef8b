bats_require_minimum_version 1.7.0
load '../lib/helper'

# The store directory removed under a serving service, then restored from
# a backup: no write into the removed files is acknowledged (each is 503),
# and once the backup is back in place the service serves it, with no
# restart of anything.
setup_file() { kv_setup_file; }
teardown_file() { kv_teardown_file; }

: "${KVCTL:=$KV_BUILDDIR/src/kvctl}"

@test "(store removed) writes are 503 while the directory is gone; a restored backup is served" {
	local i owner backup=$BATS_FILE_TMPDIR/backup
	for i in 0 1 2 3 4 5 6 7 8 9; do
		kv_put "/removed.before.$i" "{\"value\":$i}" >/dev/null
		assert_code 200
	done
	# A backup, taken as the store's owner (Apache's workers are www-data).
	owner=$(stat -c %U "$KV_STORE")
	mkdir "$backup"
	chown "$owner" "$backup"
	run --separate-stderr runuser -u "$owner" -- env KV_CONF="$KV_CONF" "$KVCTL" backup "$backup"
	assert_success

	rm -rf "$KV_STORE"
	local acked=0 refused=0
	for ((i = 0; i < 40; i++)); do
		kv_put "/removed.during.$i" "{\"value\":$i}" >/dev/null
		case $code in
		200) acked=$((acked + 1)) ;;
		503) assert_error 503 unavailable; refused=$((refused + 1)) ;;
		*) fail "unexpected status $code while the store was gone" ;;
		esac
	done
	echo "while removed: $acked acknowledged, $refused refused"
	assert_equal "$acked" 0
	[[ ! -e "$KV_STORE" ]] || fail "a worker created the store directory again"

	# Restored (kvctl creates the directory), then given back to its owner.
	run --separate-stderr env KV_CONF="$KV_CONF" "$KVCTL" restore "$backup"
	assert_success
	chown -R "$owner" "$KV_STORE"

	local deadline=$((SECONDS + 30))
	while ((SECONDS < deadline)); do
		kv_req GET /removed.before.9 >/dev/null
		[[ "$code" == 200 ]] && break
		sleep 0.2
	done
	for i in 0 1 2 3 4 5 6 7 8 9; do
		kv_req GET "/removed.before.$i"
		assert_code 200
		assert_equal "$body" "$i"
	done
	# Every process serves the restored store, and takes writes.
	for ((i = 0; i < 40; i++)); do
		kv_put "/removed.after.$i" "{\"value\":$i}" >/dev/null
		assert_code 200
		kv_req GET "/removed.during.$i" >/dev/null
		assert_error 404 not_found
	done
	for ((i = 0; i < 40; i++)); do
		kv_req GET "/removed.after.$i" >/dev/null
		assert_code 200
	done
}
