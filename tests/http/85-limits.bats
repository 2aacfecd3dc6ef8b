bats_require_minimum_version 1.7.0
load '../lib/helper'
export KV_EXTRA_CONF=$'max_value = 100\nmax_body = 1000'
setup_file() { kv_setup_file; }
teardown_file() { kv_teardown_file; }

# Configured size limits: max_value = 100 bytes of serialized value,
# max_body = 1000 bytes of request body. Nothing is written over a limit.

# string_value N: a JSON string of exactly N bytes, quotes included.
string_value() {
	printf '"%s"' "$(head -c $(($1 - 2)) /dev/zero | tr '\0' 'v')"
}

# padded_body N VALUE: {"value":VALUE} padded with spaces to N bytes.
padded_body() {
	local tail="\"value\":$2}"
	printf '{%s%s' "$(head -c $(($1 - 1 - ${#tail})) /dev/zero | tr '\0' ' ')" "$tail"
}

@test "(limits) a value of exactly max_value bytes is accepted" {
	local v
	v=$(string_value 100)
	kv_put /lim.v100 "{\"value\":$v}"
	assert_code 200
	kv_req GET /lim.v100
	assert_code 200
	assert_equal "$body" "$v"
}

@test "(limits) a value above max_value is 413 value_too_large" {
	kv_put /lim.v101 "{\"value\":$(string_value 101)}"
	assert_error 413 value_too_large
	kv_put /lim.v101 "{\"value\":[$(string_value 50),$(string_value 50)]}"
	assert_error 413 value_too_large
	kv_req GET /lim.v101
	assert_error 404 not_found
}

@test "(limits) a value above max_value leaves the old value in place" {
	kv_put /lim.keep '{"value":"small"}'
	assert_code 200
	local vs
	vs=$(jq -r .versionstamp <<<"$body")
	kv_put /lim.keep "{\"value\":$(string_value 101)}"
	assert_error 413 value_too_large
	kv_req GET /lim.keep
	assert_code 200
	assert_equal "$body" '"small"'
	assert_equal "$(kv_header ETag)" "\"$vs\""
}

@test "(limits) a body of exactly max_body bytes is accepted" {
	local b
	b=$(padded_body 1000 '"fits"')
	assert_equal "${#b}" 1000
	kv_req PUT /lim.b1000 --data-binary "$b"
	assert_code 200
	kv_req GET /lim.b1000
	assert_code 200
	assert_equal "$body" '"fits"'
}

@test "(limits) a body above max_body is 413 body_too_large" {
	local b
	b=$(padded_body 1001 '"fits"')
	assert_equal "${#b}" 1001
	kv_req PUT /lim.b1001 --data-binary "$b"
	assert_error 413 body_too_large
	kv_req GET /lim.b1001
	assert_error 404 not_found
}

@test "(limits) a much larger body is 413 body_too_large" {
	padded_body 100000 '1' >"$BATS_TEST_TMPDIR/big.json"
	kv_req PUT /lim.big --data-binary "@$BATS_TEST_TMPDIR/big.json"
	assert_error 413 body_too_large
	kv_req PUT /lim.big -H 'Transfer-Encoding: chunked' --data-binary "@$BATS_TEST_TMPDIR/big.json"
	assert_error 413 body_too_large
	kv_req GET /lim.big
	assert_error 404 not_found
}

@test "(limits) an oversized body that is also bad JSON is 413 body_too_large" {
	local b
	b=$(head -c 2000 /dev/zero | tr '\0' 'x')
	kv_req PUT /lim.junk --data-binary "$b"
	assert_error 413 body_too_large
}

@test "(limits) the server keeps serving after a rejected body" {
	padded_body 5000 '1' >"$BATS_TEST_TMPDIR/big.json"
	kv_req PUT /lim.after --data-binary "@$BATS_TEST_TMPDIR/big.json"
	assert_error 413 body_too_large
	kv_put /lim.after '{"value":"ok"}'
	assert_code 200
	kv_req GET /lim.after
	assert_code 200
	assert_equal "$body" '"ok"'
}
