bats_require_minimum_version 1.7.0
load '../lib/helper'

# Bearer tokens: 401 without a known token, 403 outside a token's grants,
# checked before the store is touched. Every file in tests/http runs through
# lighttpd and through Apache, whose conf/apache.conf must pass the
# Authorization header on (CGIPassAuth): every 200 below proves it arrived.

setup_file() {
	TOK_ALICE=$(kv_new_token) TOK_READER=$(kv_new_token) TOK_OPS=$(kv_new_token) TOK_LB=$(kv_new_token)
	export TOK_ALICE TOK_READER TOK_OPS TOK_LB
	export KV_EXTRA_CONF="auth = on
[token alice]
hash  = $(kv_token_hash "$TOK_ALICE")
read  = users, config
write = users.alice
[token reader]
hash = $(kv_token_hash "$TOK_READER")
read = *
[token ops]
hash  = $(kv_token_hash "$TOK_OPS")
write = *
# a load balancer's token: valid, but no grant
[token lb]
hash = $(kv_token_hash "$TOK_LB")"
	kv_setup_file
}
teardown_file() { kv_teardown_file; }


# req_as NAME METHOD PATH [curl args...]
req_as() {
	local name=$1 tok
	shift
	tok="TOK_${name^^}"
	kv_req "$1" "$2" -H "Authorization: Bearer ${!tok}" "${@:3}"
}

# put_as NAME PATH JSON
put_as() {
	local tok="TOK_${1^^}"
	kv_put "$2" "$3" -H "Authorization: Bearer ${!tok}"
}

assert_unauthorized() {
	assert_error 401 unauthorized
	assert_equal "$(kv_header WWW-Authenticate)" 'Bearer realm="kv"'
}

@test "(auth) no Authorization header is 401 with WWW-Authenticate" {
	kv_req GET /users.x
	assert_unauthorized
	kv_put /users.x '{"value":1}'
	assert_unauthorized
	kv_req DELETE /users.x
	assert_unauthorized
	kv_req GET '/users?list=true'
	assert_unauthorized
	kv_req GET /
	assert_unauthorized
	kv_req HEAD /users.x
	assert_code 401
	assert_equal "$(kv_header WWW-Authenticate)" 'Bearer realm="kv"'
}

@test "(auth) an unknown or malformed token is 401" {
	local t
	for t in "Bearer $(kv_new_token)" "Bearer ${TOK_ALICE}x" "Bearer ${TOK_ALICE:1}" \
		"Basic $(printf 'alice:%s' "$TOK_ALICE" | base64 -w0)" "Bearer" "$TOK_ALICE" \
		"Bearer $TOK_ALICE $TOK_OPS"; do
		kv_req GET /users.x -H "Authorization: $t"
		assert_unauthorized
	done
}

@test "(auth) a valid token reaches the store through the web server" {
	put_as ops /users.john '{"value":{"name":"John"}}'
	assert_code 200
	req_as alice GET /users.john
	assert_code 200
	assert_json '.name' '"John"'
	# the scheme is case-insensitive
	kv_req GET /users.john -H "Authorization: bearer $TOK_READER"
	assert_code 200
	assert_json '.name' '"John"'
}

@test "(auth) the health check needs a token but no grant" {
	req_as lb GET /
	assert_code 200
	assert_json '.status' '"ok"'
	req_as lb GET /users.john
	assert_error 403 forbidden
}

@test "(auth) a read-only token cannot write: PUT and DELETE are 403" {
	put_as ops /config.mode '{"value":"fast"}'
	assert_code 200
	put_as reader /config.mode '{"value":"slow"}'
	assert_error 403 forbidden
	req_as reader DELETE /config.mode
	assert_error 403 forbidden
	put_as alice /config.mode '{"value":"slow"}'
	assert_error 403 forbidden
	req_as reader GET /config.mode
	assert_code 200
	assert_equal "$body" '"fast"'
}

@test "(auth) GET outside the token's prefixes is 403, segment-aware" {
	put_as ops /secrets.k '{"value":1}'
	assert_code 200
	put_as ops /usersx.k '{"value":2}'
	assert_code 200
	req_as alice GET /secrets.k
	assert_error 403 forbidden
	req_as alice GET /usersx.k
	assert_error 403 forbidden
	req_as alice GET /user
	assert_error 403 forbidden
	# the grant's own key and every key under it
	req_as alice GET /users
	assert_error 404 not_found
	req_as alice GET /config.mode.deep
	assert_error 404 not_found
	# a 403 for a missing key too: the answer tells nothing about the store
	req_as alice GET /secrets.missing
	assert_error 403 forbidden
}

@test "(auth) a list outside the token's prefixes is 403" {
	put_as ops /users.alice.a '{"value":"a"}'
	assert_code 200
	req_as alice GET '/secrets?list=true'
	assert_error 403 forbidden
	req_as alice GET '/?list=true'
	assert_error 403 forbidden
	req_as alice GET '/usersx?list=true'
	assert_error 403 forbidden
	# a write grant implies read, lists included
	req_as alice GET '/users.alice?list=true'
	assert_code 200
	assert_json '[.entries[].key]' '["users.alice.a"]'
	req_as alice GET '/users?list=true&values=false'
	assert_code 200
	assert_json '[.entries[].key]' '["users.alice.a","users.john"]'
	req_as reader GET '/?list=true&values=false'
	assert_code 200
	assert_json '[.entries[].key] | index("secrets.k") != null' 'true'
}

@test "(auth) PUT outside the token's write prefixes is 403 and writes nothing" {
	put_as alice /users.bob '{"value":"by alice"}'
	assert_error 403 forbidden
	put_as alice /users.alicex '{"value":"look-alike"}'
	assert_error 403 forbidden
	put_as alice /users '{"value":"parent"}'
	assert_error 403 forbidden
	req_as ops GET /users.bob
	assert_error 404 not_found
	req_as ops GET /users.alicex
	assert_error 404 not_found
	put_as alice /users.alice '{"value":"mine"}'
	assert_code 200
	put_as alice /users.alice.settings '{"value":{"theme":"dark"}}'
	assert_code 200
	req_as reader GET /users.alice.settings
	assert_code 200
	assert_json '.theme' '"dark"'
}

@test "(auth) the grant is checked before the body: a forbidden PUT is 403 whatever it sends" {
	put_as alice /secrets.k 'not json'
	assert_error 403 forbidden
	put_as reader /users.alice '{"value": 1, "extra": 2}'
	assert_error 403 forbidden
}

@test "(auth) DELETE outside the token's write prefixes is 403 and deletes nothing" {
	req_as alice DELETE /users.john
	assert_error 403 forbidden
	req_as alice DELETE /secrets.k
	assert_error 403 forbidden
	req_as reader GET /users.john
	assert_code 200
	req_as reader GET /secrets.k
	assert_code 200
	put_as alice /users.alice.tmp '{"value":0}'
	assert_code 200
	req_as alice DELETE /users.alice.tmp
	assert_code 200
	assert_json '.deleted' 'true'
}

# commit_as NAME JSON: POST an atomic commit
commit_as() {
	local tok="TOK_${1^^}"
	kv_req POST / -H 'Content-Type: application/json' --data-binary "$2" \
		-H "Authorization: Bearer ${!tok}"
}

@test "(auth) an atomic commit within the token's grants is applied" {
	commit_as alice '{"checks":[{"key":"users.john","versionstamp":null},{"key":"config.none","versionstamp":null}],"mutations":[]}'
	assert_error 409 check_failed
	commit_as alice '{"checks":[{"key":"config.none","versionstamp":null}],"mutations":[{"type":"set","key":"users.alice.c1","value":1},{"type":"sum","key":"users.alice.n","value":2}]}'
	assert_code 200
	assert_json '.ok' 'true'
	req_as reader GET /users.alice.n
	assert_code 200
	assert_equal "$body" '2'
}

@test "(auth) an atomic commit with any key outside the grants is 403 and writes nothing" {
	# a mutation outside the write grants, after one inside them
	commit_as alice '{"checks":[],"mutations":[{"type":"set","key":"users.alice.c2","value":1},{"type":"set","key":"users.bob","value":1}]}'
	assert_error 403 forbidden
	# a check outside the read grants
	commit_as alice '{"checks":[{"key":"secrets.k","versionstamp":null}],"mutations":[{"type":"set","key":"users.alice.c2","value":1}]}'
	assert_error 403 forbidden
	# read grants do not make a mutation allowed
	commit_as alice '{"checks":[],"mutations":[{"type":"delete","key":"users.john"}]}'
	assert_error 403 forbidden
	commit_as reader '{"checks":[],"mutations":[{"type":"sum","key":"users.alice.n","value":1}]}'
	assert_error 403 forbidden
	req_as reader GET /users.alice.c2
	assert_error 404 not_found
	req_as reader GET /users.bob
	assert_error 404 not_found
	req_as reader GET /users.john
	assert_code 200
	req_as reader GET /users.alice.n
	assert_equal "$body" '2'
	kv_req POST / -H 'Content-Type: application/json' --data-binary '{"checks":[],"mutations":[]}'
	assert_unauthorized
}

@test "(auth) methods the service does not have are still 405 for a known token" {
	req_as alice PATCH /users.alice
	assert_error 405 method_not_allowed
	kv_req PATCH /users.alice
	assert_unauthorized
}

@test "(auth) no token, valid or not, appears in the server's log" {
	req_as alice GET /users.alice
	kv_req GET /users.alice -H "Authorization: Bearer ${TOK_OPS}zz"
	local t
	for t in "$TOK_ALICE" "$TOK_READER" "$TOK_OPS" "$TOK_LB" "${TOK_OPS}zz"; do
		if grep -qF -- "$t" "$KV_LOG"; then
			fail "a token appears in $KV_LOG"
		fi
	done
}
