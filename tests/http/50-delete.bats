bats_require_minimum_version 1.7.0
load '../lib/helper'
setup_file() { kv_setup_file; }
teardown_file() { kv_teardown_file; }

# DELETE of single keys.

@test "(DELETE) an existing key answers deleted true and is gone" {
	kv_put /del.a '{"value":1}'
	assert_code 200
	kv_req DELETE /del.a
	assert_code 200
	assert_json '{key, deleted}' '{"key":"del.a","deleted":true}'
	assert_regex "$(kv_header Content-Type)" '^application/json.*charset=utf-8'
	assert_equal "$(kv_header Cache-Control)" 'no-store'
	kv_req GET /del.a
	assert_error 404 not_found
	assert_json '.error.message' '"no such key: del.a"'
}

@test "(DELETE) an absent key answers deleted false" {
	kv_req DELETE /del.never
	assert_code 200
	assert_json '{key, deleted}' '{"key":"del.never","deleted":false}'
	kv_req GET /del.never
	assert_error 404 not_found
}

@test "(DELETE) a second delete answers deleted false" {
	kv_put /del.twice '{"value":1}'
	assert_code 200
	kv_req DELETE /del.twice
	assert_code 200
	assert_json '.deleted' 'true'
	kv_req DELETE /del.twice
	assert_code 200
	assert_json '{key, deleted}' '{"key":"del.twice","deleted":false}'
}

@test "(DELETE) removes only that key, not its parent or children" {
	kv_put /dt.p '{"value":"parent"}'
	kv_put /dt.p.c '{"value":"child"}'
	kv_put /dt.p.c.g '{"value":"grandchild"}'
	kv_put /dt.pc '{"value":"sibling"}'
	kv_req DELETE /dt.p.c
	assert_code 200
	assert_json '.deleted' 'true'
	kv_req GET /dt.p
	assert_code 200
	assert_equal "$body" '"parent"'
	kv_req GET /dt.p.c.g
	assert_code 200
	assert_equal "$body" '"grandchild"'
	kv_req GET /dt.pc
	assert_code 200
	assert_equal "$body" '"sibling"'
	kv_req GET '/dt?list=true'
	assert_code 200
	assert_json '[.entries[].key]' '["dt.p","dt.p.c.g","dt.pc"]'
}

@test "(DELETE) a deleted key disappears from lists" {
	kv_put /dl.a '{"value":1}'
	kv_put /dl.b '{"value":2}'
	kv_req DELETE /dl.a
	assert_code 200
	kv_req GET '/dl?list=true'
	assert_code 200
	assert_json '[.entries[].key]' '["dl.b"]'
}

@test "(DELETE) a key written again after a delete gets a higher versionstamp" {
	kv_put /dr.k '{"value":"one"}'
	assert_code 200
	local vs1 vs2
	vs1=$(jq -r .versionstamp <<<"$body")
	kv_req DELETE /dr.k
	assert_code 200
	kv_put /dr.k '{"value":"two"}'
	assert_code 200
	vs2=$(jq -r .versionstamp <<<"$body")
	[[ "$vs2" > "$vs1" ]] || fail "versionstamp $vs2 not above $vs1"
	kv_req GET /dr.k
	assert_code 200
	assert_equal "$body" '"two"'
	assert_equal "$(kv_header ETag)" "\"$vs2\""
}

@test "(DELETE) a percent-encoded key is named decoded in the answer" {
	kv_put /del.caf%C3%A9 '{"value":1}'
	assert_code 200
	kv_req DELETE /del%2Ecaf%C3%A9
	assert_code 200
	assert_json '{key, deleted}' '{"key":"del.café","deleted":true}'
}

@test "(DELETE) an invalid key is 400 invalid_key" {
	kv_req DELETE /del..x
	assert_error 400 invalid_key
	kv_req DELETE /del.x.
	assert_error 400 invalid_key
}
