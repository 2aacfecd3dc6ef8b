bats_require_minimum_version 1.5.0
load kvctl
setup_file() { kv_setup_file; }
teardown_file() { kv_teardown_file; }

# Dump, then load into a fresh store that a new server serves.
# The test restarts the server on another store: stop the one it started.
teardown() { kv_teardown_file; }

@test "(kvctl) dump then load into a fresh store gives identical GET answers" {
	local keys=(rt.num rt.str rt.nested rt.ttl rt.space 'rt.%C3%A9t%C3%A9' rt.big rt.empty)
	kv_put /rt.num '{"value": -0.10e+5}'
	kv_put /rt.str '{"value": "tab\tand \u00e9 \\ \"q\""}'
	kv_put /rt.nested '{"value": {"a": [1, {"b": null}], "c": true}}'
	kv_put /rt.ttl '{"value": "soon", "ttl": 3600000}'
	kv_put /rt.space $'{"value": [1,\n  2 ,\r\n3]}'
	kv_put '/rt.%C3%A9t%C3%A9' '{"value": "summer"}'
	kv_put /rt.big "{\"value\": \"$(head -c 30000 /dev/zero | tr '\0' x)\"}"
	kv_put /rt.empty '{"value": {}}'
	kv_put /rt.num '{"value": 12345678901234567890}'
	before=()
	for k in "${keys[@]}"; do before+=("$(get_answer "/$k")"); done
	list_before=$(get_answer '/rt?list=true')
	"$KVCTL" dump rt >"$BATS_FILE_TMPDIR/rt.jsonl"
	assert_equal "$(wc -l <"$BATS_FILE_TMPDIR/rt.jsonl")" "${#keys[@]}"

	# A fresh store, served while the dump is loaded into it.
	kv_teardown_file
	kv_setup_file
	run --separate-stderr "$KVCTL" load "$BATS_FILE_TMPDIR/rt.jsonl"
	assert_success
	assert_output "loaded ${#keys[@]} keys with their versionstamps; 0 already expired, left out"
	for i in "${!keys[@]}"; do
		assert_equal "$(get_answer "/${keys[$i]}")" "${before[$i]}"
	done
	assert_equal "$(get_answer '/rt?list=true')" "$list_before"
	# New writes get versionstamps above every loaded one.
	max=$(jq -rs 'map(.versionstamp) | max' "$BATS_FILE_TMPDIR/rt.jsonl")
	kv_put /rt.after '{"value": 1}'
	vs=$(jq -r .versionstamp <<<"$body")
	[[ "$vs" > "$max" ]] || fail "new versionstamp $vs is not above the loaded $max"
	# A second load into a store that took writes renumbers, upwards.
	run "$KVCTL" load "$BATS_FILE_TMPDIR/rt.jsonl"
	assert_success
	assert_output --partial 'with new versionstamps'
	kv_req GET /rt.num
	[[ "$(kv_header ETag)" > "\"$vs\"" ]] || fail "reloaded key's ETag is not above $vs"
}

