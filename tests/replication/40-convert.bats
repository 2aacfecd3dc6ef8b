bats_require_minimum_version 1.7.0
load '../lib/group'

# The first site's store served a single site before: turning replication
# on keeps its data, and the other sites copy it.
group_before_up() {
	mkdir -p "$GROUP_DIR/site1/store"
	printf 'store = %s\nauth = off\n' "$GROUP_DIR/site1/store" >"$BATS_FILE_TMPDIR/single.conf"
	printf '%s\n' '{"key":"old.a","value":{"n":1},"expiresAt":null,"versionstamp":"00000000000000000007"}' \
		'{"key":"old.b","value":"two","expiresAt":null,"versionstamp":"00000000000000000008"}' |
		"$KV_BUILDDIR/src/kvctl" -c "$BATS_FILE_TMPDIR/single.conf" load
}
setup_file() { group_setup_file; }
teardown_file() { group_teardown_file; }

@test "(group) a single site's store becomes the group's first site; the others copy it, versionstamps and all" {
	local n
	for n in 1 2 3; do
		run curl -sS -D - "$(group_url "$n")/old.a"
		assert_output --partial 'ETag: "00000000000000000007"'
		assert_output --partial '{"n":1}'
		run curl -sS "$(group_url "$n")/old.b"
		assert_output '"two"'
	done
	run curl -sS -X PUT -d '{"value": 3}' "$SITE_URL_1/new.c"
	assert_output --regexp '"versionstamp":"0000000000000000[0-9a-f]{4}"'
	[[ $(jq -r .versionstamp <<<"$output") > 00000000000000000008 ]]
}

@test "(group) with replication off again the store serves as a single site, every write kept" {
	"$KV_SRCDIR/script/group" stop "$GROUP_DIR" 1
	run "$KV_BUILDDIR/src/kvctl" -c "$BATS_FILE_TMPDIR/single.conf" dump
	assert_success
	assert_line --partial '"key":"old.a"'
	assert_line --partial '"key":"new.c"'
}
