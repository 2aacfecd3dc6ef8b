bats_require_minimum_version 1.7.0
load '../lib/helper'

# Grants for whole subtrees (docs/API.md, Auth): a recursive delete needs a
# write grant covering its prefix itself, a one-level list a grant
# covering its prefix, a read of many keys a read grant on every key and,
# before its body is read, some grant. A refusal is 403 and touches
# nothing.

setup_file() {
	TOK_NONE=$(kv_new_token) TOK_READER=$(kv_new_token) TOK_WRITER=$(kv_new_token)
	TOK_OPS=$(kv_new_token)
	export TOK_NONE TOK_READER TOK_WRITER TOK_OPS
	export KV_EXTRA_CONF="auth = on
[token none]
hash = $(kv_token_hash "$TOK_NONE")
[token reader]
hash = $(kv_token_hash "$TOK_READER")
read = t.a
[token writer]
hash  = $(kv_token_hash "$TOK_WRITER")
write = t.a
[token ops]
hash  = $(kv_token_hash "$TOK_OPS")
write = *"
	kv_setup_file
}
teardown_file() { kv_teardown_file; }

# as NAME METHOD PATH [curl args...]: a request with NAME's token.
as() {
	local tok="TOK_${1^^}" method=$2 path=$3
	shift 3
	kv_req "$method" "$path" -H "Authorization: Bearer ${!tok}" "$@"
}

# seed: t.a.x, t.a.y.z and t.b.q, written by ops.
seed() {
	as ops POST / --data-binary '{"mutations":[
		{"type":"set","key":"t.a.x","value":1},
		{"type":"set","key":"t.a.y.z","value":2},
		{"type":"set","key":"t.b.q","value":3}]}'
	assert_code 200
}

# assert_tree COUNT: the tree under t still holds COUNT keys.
assert_tree() {
	as ops GET '/t?list=true&values=false'
	assert_code 200
	assert_json '.entries | length' "$1"
}

@test "(auth subtree) a recursive delete needs a write grant covering the prefix itself" {
	seed
	as writer DELETE '/t?recurse=true'
	assert_error 403 forbidden
	assert_json '.error.message' '"this token may not write t"'
	as reader DELETE '/t.a?recurse=true'
	assert_error 403 forbidden
	assert_tree 3
	as writer DELETE '/t.a?recurse=true'
	assert_code 200
	assert_json '.deleted' '2'
	assert_tree 1
}

@test "(auth subtree) a one-level list needs a grant covering its prefix" {
	seed
	as reader GET '/t.a?list=true&depth=1'
	assert_code 200
	assert_json '[.entries[].key]' '["t.a.x","t.a.y"]'
	as reader GET '/t?list=true&depth=1'
	assert_error 403 forbidden
	as reader GET '/?list=true&depth=1'
	assert_error 403 forbidden
	as none GET '/t.a?list=true&depth=1'
	assert_error 403 forbidden
}

@test "(auth subtree) a read of many keys needs a read grant on every key" {
	seed
	as reader POST '/?read=true' --data-binary '{"keys":["t.a.x","t.a.none"]}'
	assert_code 200
	assert_json '[.entries[].value]' '[1,null]'
	as writer POST '/?read=true' --data-binary '{"keys":["t.a.y.z"]}'
	assert_code 200
	assert_json '.entries[0].value' '2'
	as reader POST '/?read=true' --data-binary '{"keys":["t.a.x","t.b.q"]}'
	assert_error 403 forbidden
	assert_json '.error.message' '"this token may not read t.b.q; nothing was read"'
	assert_json 'has("entries")' 'false'
}

@test "(auth subtree) a token with no grant may not read many keys, not even none" {
	as none POST '/?read=true' --data-binary '{"keys":[]}'
	assert_error 403 forbidden
	assert_json '.error.message' '"this token has no grant, and a read of many keys needs one"'
	kv_req POST '/?read=true' --data-binary '{"keys":[]}'
	assert_error 401 unauthorized
}
