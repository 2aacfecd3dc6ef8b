bats_require_minimum_version 1.7.0
load '../lib/helper'
export KV_EXTRA_CONF='sync = on'
setup_file() { kv_setup_file; }
teardown_file() { kv_teardown_file; }

# Synchronous commits: the same answers, every write flushed before the 200.

@test "(sync) writes and reads with sync = on" {
	local i vs prev=''
	for i in 1 2 3; do
		kv_put "/sy.k$i" "{\"value\":[$i]}"
		assert_code 200
		assert_json '.key' "\"sy.k$i\""
		vs=$(jq -r .versionstamp <<<"$body")
		if [[ -n $prev && ! "$vs" > "$prev" ]]; then fail "$vs not above $prev"; fi
		prev=$vs
	done
	kv_req GET /sy.k3
	assert_code 200
	assert_equal "$body" '[3]'
	assert_equal "$(kv_header ETag)" "\"$vs\""
	kv_req GET '/sy?list=true'
	assert_code 200
	assert_json '[.entries[] | {key, value}]' '[{"key":"sy.k1","value":[1]},{"key":"sy.k2","value":[2]},{"key":"sy.k3","value":[3]}]'
}

@test "(sync) overwrite, conditional write and delete with sync = on" {
	kv_put /sy.d '{"value":"a"}'
	assert_code 200
	local vs
	vs=$(jq -r .versionstamp <<<"$body")
	kv_put /sy.d '{"value":"b"}' -H "If-Match: \"$vs\""
	assert_code 200
	kv_put /sy.d '{"value":"c"}' -H "If-Match: \"$vs\""
	assert_error 412 precondition_failed
	kv_req GET /sy.d
	assert_code 200
	assert_equal "$body" '"b"'
	kv_req DELETE /sy.d
	assert_code 200
	assert_json '.deleted' 'true'
	kv_req GET /sy.d
	assert_error 404 not_found
}
