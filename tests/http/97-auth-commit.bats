bats_require_minimum_version 1.7.0
load '../lib/helper'

# Grants for atomic commits that write nothing (docs/API.md, Auth): every
# commit answers the store's versionstamp, so a commit needs a token with
# at least one grant, even when it is empty, and each check reads its key,
# so it needs a read grant on it (a write grant implies read). A 403 comes
# before the store is touched: nothing is written, and it tells nothing
# about the key that was checked.

setup_file() {
	TOK_LB=$(kv_new_token) TOK_READER=$(kv_new_token) TOK_CHECKER=$(kv_new_token)
	TOK_WRITER=$(kv_new_token) TOK_OPS=$(kv_new_token)
	export TOK_LB TOK_READER TOK_CHECKER TOK_WRITER TOK_OPS
	export KV_EXTRA_CONF="auth = on
# a load balancer's token: valid, but no grant
[token lb]
hash = $(kv_token_hash "$TOK_LB")
[token reader]
hash = $(kv_token_hash "$TOK_READER")
read = a
[token checker]
hash  = $(kv_token_hash "$TOK_CHECKER")
read  = a
write = w
# write-only: its write grant is also its read grant
[token writer]
hash  = $(kv_token_hash "$TOK_WRITER")
write = w
[token ops]
hash  = $(kv_token_hash "$TOK_OPS")
write = *"
	kv_setup_file
}
teardown_file() { kv_teardown_file; }

# commit_as NAME JSON: POST an atomic commit with NAME's token.
commit_as() {
	local tok="TOK_${1^^}"
	kv_req POST / -H 'Content-Type: application/json' --data-binary "$2" \
		-H "Authorization: Bearer ${!tok}"
}

# get_as NAME PATH
get_as() {
	local tok="TOK_${1^^}"
	kv_req GET "$2" -H "Authorization: Bearer ${!tok}"
}

# store_vs: the store's current versionstamp, as an empty commit by a
# token with grants answers it; sets $vs.
store_vs() {
	commit_as ops '{}'
	assert_code 200
	vs=$(jq -r .versionstamp <<<"$body")
	[[ "$vs" =~ ^[0-9a-f]{20}$ ]] || fail "no versionstamp in $body"
}

@test "(auth commit) a token with no grant cannot commit, not even an empty commit" {
	commit_as ops '{"mutations":[{"type":"set","key":"a.x","value":1}]}'
	assert_code 200
	local body_json
	for body_json in '{}' '{"checks":[],"mutations":[]}' '{"checks":[]}' \
		'{"checks":[{"key":"a.x","versionstamp":null}]}' \
		'{"mutations":[{"type":"set","key":"a.y","value":1}]}'; do
		commit_as lb "$body_json"
		assert_error 403 forbidden
		refute_regex "$body" '[0-9a-f]{20}'
	done
	# refused before the body is read: a bad body is no 400 either
	commit_as lb 'not json'
	assert_error 403 forbidden
	get_as ops /a.y
	assert_error 404 not_found
	# without a token it is still 401
	kv_req POST / -H 'Content-Type: application/json' --data-binary '{}'
	assert_error 401 unauthorized
	# the health check stays open to it
	get_as lb /
	assert_code 200
}

@test "(auth commit) any grant, read or write, allows an empty commit" {
	store_vs
	local name
	for name in reader checker writer ops; do
		commit_as "$name" '{}'
		assert_code 200
		assert_json '.ok' 'true'
		assert_json '.versionstamp' "\"$vs\""
	done
}

@test "(auth commit) a check-only commit needs a read grant on each key it checks" {
	commit_as ops '{"mutations":[{"type":"set","key":"b.x","value":"secret"}]}'
	assert_code 200
	store_vs
	# a.x is under the read grant: the check runs (and holds or fails)
	commit_as reader '{"checks":[{"key":"a.x","versionstamp":null}]}'
	assert_error 409 check_failed
	commit_as reader '{"checks":[{"key":"a.none","versionstamp":null}]}'
	assert_code 200
	assert_json '.versionstamp' "\"$vs\""
	# b.x is not: 403 whether the check would hold or not, so the answer
	# tells nothing about b.x
	commit_as reader '{"checks":[{"key":"b.x","versionstamp":null}]}'
	assert_error 403 forbidden
	commit_as reader '{"checks":[{"key":"b.none","versionstamp":null}]}'
	assert_error 403 forbidden
	# one key outside the grants refuses the whole commit
	commit_as reader '{"checks":[{"key":"a.none","versionstamp":null},{"key":"b.x","versionstamp":null}]}'
	assert_error 403 forbidden
	# segment-aware: "a" does not cover "ab"
	commit_as reader '{"checks":[{"key":"ab","versionstamp":null}]}'
	assert_error 403 forbidden
	# nothing was written by any of it
	local before=$vs
	store_vs
	assert_equal "$vs" "$before"
}

@test "(auth commit) a check outside the read grants refuses the commit and writes nothing" {
	commit_as checker '{"checks":[{"key":"a.free","versionstamp":null}],"mutations":[{"type":"set","key":"w.k1","value":1}]}'
	assert_code 200
	store_vs
	commit_as checker '{"checks":[{"key":"b.free","versionstamp":null}],"mutations":[{"type":"set","key":"w.k2","value":2}]}'
	assert_error 403 forbidden
	get_as ops /w.k2
	assert_error 404 not_found
	local before=$vs
	store_vs
	assert_equal "$vs" "$before"
	get_as ops /w.k1
	assert_code 200
	assert_equal "$body" '1'
}

@test "(auth commit) a write grant lets a token check its keys, as write implies read" {
	commit_as writer '{"checks":[{"key":"w.free","versionstamp":null}]}'
	assert_code 200
	commit_as writer '{"checks":[{"key":"w.k1","versionstamp":null}],"mutations":[{"type":"sum","key":"w.n","value":1}]}'
	assert_error 409 check_failed
	commit_as writer '{"checks":[{"key":"a.free","versionstamp":null}]}'
	assert_error 403 forbidden
	commit_as writer '{"checks":[{"key":"a.free","versionstamp":null}],"mutations":[{"type":"sum","key":"w.n","value":1}]}'
	assert_error 403 forbidden
	get_as ops /w.n
	assert_error 404 not_found
}
