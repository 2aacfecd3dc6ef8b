bats_require_minimum_version 1.5.0
load kvctl
setup_file() { kv_setup_file; }
teardown_file() { kv_teardown_file; }

# kvctl upgrade: refused while the service uses the store, then, with the
# service stopped, a check of every record against the current format,
# after recovery when the store needs it.

# dump_all: every live key of the store as kvctl dump writes it.
dump_all() {
	"$KVCTL" dump
}

@test "(kvctl) upgrade refuses a store the service is using, and changes nothing" {
	kv_put /up.a '{"value": {"n": 1}}'
	kv_put /up.b '{"value": "two", "ttl": 3600000}'
	before=$(get_answer /up.a)
	run --separate-stderr "$KVCTL" upgrade
	assert_one_line_error
	assert_equal "$stderr" "kvctl: upgrade of $KV_STORE: other processes are using the store: stop the service (every kvd) and any other kvctl first"
	assert_equal "$(get_answer /up.a)" "$before"
}

@test "(kvctl) with the service stopped, upgrade checks every record and leaves them as they were" {
	kv_put /up.c '{"value": [1, 2, 3]}'
	kv_teardown_file
	dump_all >"$BATS_TEST_TMPDIR/before"
	run --separate-stderr "$KVCTL" upgrade
	assert_success
	# up.a, up.b, up.c and the versionstamp counter.
	assert_output "the store in $KV_STORE is at format 1, the current one: nothing to convert (4 records checked)"
	dump_all >"$BATS_TEST_TMPDIR/after"
	diff "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
	# A second run finds the same.
	run --separate-stderr "$KVCTL" upgrade
	assert_success
	assert_output --partial "(4 records checked)"
}

@test "(kvctl) upgrade recovers a store whose regions are gone, as the service would" {
	rm -f "$KV_STORE"/__db.*
	run --separate-stderr "$KVCTL" upgrade
	assert_success
	assert_output --partial "nothing to convert (4 records checked)"
	[[ "$stderr" == *"recovering the store"* ]] || fail "no recovery said on stderr: $stderr"
	# The store serves again, its data intact.
	KV_TEST_STORE=$KV_STORE kv_setup_file
	kv_req GET /up.c
	assert_equal "$code" 200
	assert_equal "$body" '[1, 2, 3]'
	kv_teardown_file
}

@test "(kvctl) upgrade reports a record of a format it does not know and changes nothing" {
	copy=$BATS_TEST_TMPDIR/copy
	"$KVCTL" backup "$copy" >/dev/null
	# The record of up.a (encoded key 75700061) gets format byte 9.
	(
		cd "$copy"
		db5.3_dump kv.db |
			awk 'mark { sub(/^ 01/, " 09"); mark = 0 } $0 == " 75700061" { mark = 1 } { print }' >../kv.dump
		grep -q '^ 09' ../kv.dump
		rm kv.db
		db5.3_load -f ../kv.dump kv.db
	)
	sum=$(md5sum <"$copy/kv.db")
	run --separate-stderr env KV_DATA="$copy" "$KVCTL" upgrade
	assert_failure
	[[ "$stderr" == *"kvctl: upgrade of $copy: 1 of 4 records are not of format 1, the only one this kvctl reads: a newer kv wrote them (install it again), or they are damaged (kvctl verify)" ]] ||
		fail "unexpected message: $stderr"
	assert_equal "$output" ""
	assert_equal "$(md5sum <"$copy/kv.db")" "$sum"
}

@test "(kvctl) upgrade takes no arguments and says what it does" {
	run --separate-stderr "$KVCTL" upgrade now
	assert_equal "$status" 2
	assert_one_line_error
	run "$KVCTL" upgrade --help
	assert_success
	assert_line --index 0 "usage: kvctl [-c FILE] upgrade"
}
