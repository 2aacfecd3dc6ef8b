bats_require_minimum_version 1.5.0
load kvctl

# kvctl --url: dump and load through the service's backup routes, with a
# token from --token-file or $KV_TOKEN, against a real lighttpd.

setup_file() {
	TOK_ADMIN=$(kv_new_token) TOK_RW=$(kv_new_token)
	export TOK_ADMIN TOK_RW
	export KV_EXTRA_CONF="auth = on
[token admin]
hash = $(kv_token_hash "$TOK_ADMIN")
admin = yes
[token rw]
hash = $(kv_token_hash "$TOK_RW")
write = *"
	printf '%s\n' "$TOK_ADMIN" >"$BATS_FILE_TMPDIR/admin.token"
	kv_setup_file
}
teardown_file() { kv_teardown_file; }

# The last test restarts the server on a fresh store: it stops that one.
teardown() {
	if [[ -n "${restarted:-}" ]]; then
		kv_teardown_file
	fi
}

put() {
	kv_put "$1" "$2" -H "Authorization: Bearer $TOK_RW" >/dev/null
	assert_code 200
}

@test "(kvctl --url) no token, or one without admin, fails with the service's error" {
	run --separate-stderr env -u KV_TOKEN "$KVCTL" --url "$KV_URL" dump
	assert_one_line_error
	assert_equal "$output" ""
	[[ "$stderr" == *"401 unauthorized"* ]]
	KV_TOKEN=$TOK_RW run --separate-stderr "$KVCTL" --url "$KV_URL" dump
	assert_one_line_error
	[[ "$stderr" == *"403 forbidden"* ]]
	[[ "$stderr" != *"$TOK_RW"* ]]
}

@test "(kvctl --url) a bad line fails the load with its number, and nothing is written" {
	printf '{"key":"u.ok","value":1,"versionstamp":"00000000000000000001"}\n{"key":"u.bad"}\n' \
		>"$BATS_FILE_TMPDIR/bad.jsonl"
	run --separate-stderr "$KVCTL" --url "$KV_URL" --token-file "$BATS_FILE_TMPDIR/admin.token" \
		load "$BATS_FILE_TMPDIR/bad.jsonl"
	assert_one_line_error
	[[ "$stderr" == *"400 invalid_body: line 2: "* ]]
	kv_req GET /u.ok -H "Authorization: Bearer $TOK_RW"
	assert_error 404 not_found
}

@test "(kvctl --url) only dump of the whole store and load; --token-file needs --url" {
	run --separate-stderr "$KVCTL" --url "$KV_URL" stats
	assert_equal "$status" 2
	run --separate-stderr "$KVCTL" --url "$KV_URL" dump u
	assert_equal "$status" 2
	run --separate-stderr "$KVCTL" --token-file "$BATS_FILE_TMPDIR/admin.token" dump
	assert_equal "$status" 2
	run --separate-stderr "$KVCTL" --url "http://127.0.0.1:1/kv" --token-file "$BATS_FILE_TMPDIR/admin.token" dump
	assert_one_line_error
}

@test "(kvctl --url) dump, then load into a fresh store: the same keys, expiries and versionstamps" {
	put /u.a '{"value": {"x": [1, 2]}}'
	put /u.ttl '{"value": "soon", "ttl": 3600000}'
	put /u.space $'{"value": [1,\n 2]}'
	put /u.a '{"value": "again"}'
	run --separate-stderr "$KVCTL" --url "$KV_URL" --token-file "$BATS_FILE_TMPDIR/admin.token" dump
	assert_success
	printf '%s\n' "$output" >"$BATS_FILE_TMPDIR/url.jsonl"
	local want
	want=$("$KVCTL" dump)
	assert_equal "$output" "$want"
	assert_equal "$(wc -l <"$BATS_FILE_TMPDIR/url.jsonl")" 3

	# A fresh store behind a new server, loaded over HTTP with $KV_TOKEN.
	kv_teardown_file
	restarted=1
	kv_setup_file
	KV_TOKEN=$TOK_ADMIN run --separate-stderr "$KVCTL" --url "$KV_URL/" load "$BATS_FILE_TMPDIR/url.jsonl"
	assert_success
	assert_output --regexp '^loaded 3 keys; 0 already expired, left out; versionstamp [0-9a-f]{20}$'
	assert_equal "$("$KVCTL" dump)" "$want"
}
