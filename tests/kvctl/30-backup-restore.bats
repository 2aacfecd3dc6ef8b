bats_require_minimum_version 1.5.0
load kvctl
setup_file() { kv_setup_file; }
teardown_file() { kv_teardown_file; }

# A hot backup under writes, restored into a new directory that a new
# server then serves.
# The test restarts the server on another store: stop the one it started.
teardown() { kv_teardown_file; }

@test "(kvctl) a backup restored into a new directory serves the same data" {
	for i in 1 2 3; do kv_put "/bk.k$i" "{\"value\": {\"i\": $i}}" >/dev/null; done
	kv_put /bk.ttl '{"value": "t", "ttl": 3600000}'
	# Writes go on during the backup.
	(
		for i in $(seq 1 200); do
			curl -s -o /dev/null -X PUT "$KV_URL/bk.during.$i" --data-binary '{"value": 1}'
		done
	) 3>&- &
	writer=$!
	run --separate-stderr "$KVCTL" backup "$BATS_FILE_TMPDIR/backup"
	assert_success
	wait "$writer"
	run --separate-stderr "$KVCTL" backup "$BATS_FILE_TMPDIR/backup"
	assert_one_line_error
	assert_equal "$stderr" "kvctl: backup into $BATS_FILE_TMPDIR/backup: the directory is not empty"

	# What the backup holds is what the live store held when it ended.
	for k in bk.k1 bk.k2 bk.k3 bk.ttl; do before+=("$(get_answer "/$k")"); done
	kv_teardown_file
	mkdir "$BATS_FILE_TMPDIR/restored"
	run --separate-stderr env KV_DATA="$BATS_FILE_TMPDIR/restored" "$KVCTL" restore "$BATS_FILE_TMPDIR/backup"
	assert_success
	assert_output --regexp "^restored [0-9]+ keys into $BATS_FILE_TMPDIR/restored\$"
	KV_TEST_STORE="$BATS_FILE_TMPDIR/restored" kv_setup_file
	i=0
	for k in bk.k1 bk.k2 bk.k3 bk.ttl; do
		assert_equal "$(get_answer "/$k")" "${before[$i]}"
		i=$((i + 1))
	done
	# Every write that had answered before the backup began is there, and
	# the restored store takes writes.
	kv_put /bk.new '{"value": 1}'
	assert_code 200
	run "$KVCTL" verify
	assert_success
	# Restoring over a store is refused.
	run --separate-stderr "$KVCTL" restore "$BATS_FILE_TMPDIR/backup"
	assert_one_line_error
	[[ "$stderr" == *"is not empty; restore into a new one" ]] || fail "unexpected message: $stderr"
}

