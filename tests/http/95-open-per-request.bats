bats_require_minimum_version 1.7.0
load '../lib/helper'
export KV_EXTRA_CONF='open = per_request'
setup_file() { kv_setup_file; }
teardown_file() { kv_teardown_file; }

# The same basics with the store opened and closed on every request.

@test "(per_request) PUT then GET returns the value and its versionstamp" {
	kv_put /pr.a '{"value":{"n":1}}'
	assert_code 200
	assert_json '.key' '"pr.a"'
	local vs
	vs=$(jq -r .versionstamp <<<"$body")
	assert_regex "$vs" '^[0-9a-f]{20}$'
	kv_req GET /pr.a
	assert_code 200
	assert_equal "$body" '{"n":1}'
	assert_equal "$(kv_header ETag)" "\"$vs\""
}

@test "(per_request) versionstamps keep increasing across requests" {
	local prev='' vs i
	for i in 1 2 3 4; do
		kv_put "/pr.seq$i" '{"value":1}'
		assert_code 200
		vs=$(jq -r .versionstamp <<<"$body")
		if [[ -n $prev && ! "$vs" > "$prev" ]]; then fail "$vs not above $prev"; fi
		prev=$vs
	done
}

@test "(per_request) list shows the keys in order" {
	kv_put /prl.b '{"value":2}'
	kv_put /prl.a.x '{"value":3}'
	kv_put /prl.a '{"value":1}'
	kv_req GET '/prl?list=true'
	assert_code 200
	assert_json '[.entries[] | {key, value}]' '[{"key":"prl.a","value":1},{"key":"prl.a.x","value":3},{"key":"prl.b","value":2}]'
	kv_req GET '/prl?list=true&limit=2'
	assert_code 200
	assert_json '[.entries[].key]' '["prl.a","prl.a.x"]'
	local c
	c=$(jq -r '.cursor | @uri' <<<"$body")
	kv_req GET "/prl?list=true&limit=2&cursor=$c"
	assert_code 200
	assert_json '[.entries[].key]' '["prl.b"]'
	assert_json '.cursor' 'null'
}

@test "(per_request) DELETE removes the key" {
	kv_put /pr.del '{"value":1}'
	assert_code 200
	kv_req DELETE /pr.del
	assert_code 200
	assert_json '{key, deleted}' '{"key":"pr.del","deleted":true}'
	kv_req GET /pr.del
	assert_error 404 not_found
	kv_req DELETE /pr.del
	assert_code 200
	assert_json '.deleted' 'false'
}

@test "(per_request) conditional writes and the health check work" {
	kv_put /pr.cond '{"value":1}' -H 'If-None-Match: *'
	assert_code 200
	kv_put /pr.cond '{"value":2}' -H 'If-None-Match: *'
	assert_error 412 precondition_failed
	kv_req GET /pr.cond
	assert_equal "$body" '1'
	kv_req GET /
	assert_code 200
	assert_json '.status' '"ok"'
}

@test "(per_request) a ttl key shows its expiry" {
	kv_put /pr.ttl '{"value":1,"ttl":600000}'
	assert_code 200
	local exp
	exp=$(jq -r .expiresAt <<<"$body")
	kv_req GET /pr.ttl
	assert_code 200
	assert_equal "$(kv_header KV-Expires-At)" "$exp"
}
