bats_require_minimum_version 1.7.0
load '../lib/helper'
setup_file() { kv_setup_file; }
teardown_file() { kv_teardown_file; }

# Methods a route does not take, and the headers every response carries.

# assert_allow LIST: the Allow header lists exactly LIST (order free).
assert_allow() {
	local got want
	got=$(kv_header Allow | tr -d ' ' | tr ',' '\n' | sort | paste -sd,)
	want=$(tr -d ' ' <<<"$1" | tr ',' '\n' | sort | paste -sd,)
	assert_equal "$got" "$want"
}

@test "(methods) PATCH on a key is 405 with Allow: GET, HEAD, PUT, DELETE" {
	kv_req PATCH /m.k --data-binary '{"value":1}'
	assert_error 405 method_not_allowed
	assert_allow 'GET, HEAD, PUT, DELETE'
	kv_req GET /m.k
	assert_error 404 not_found
}

@test "(methods) POST on a key is 405 and writes nothing" {
	kv_req POST /m.post --data-binary '{"value":1}'
	assert_error 405 method_not_allowed
	assert_allow 'GET, HEAD, PUT, DELETE'
	kv_req GET /m.post
	assert_error 404 not_found
}

@test "(methods) a 405 on an existing key leaves it unchanged" {
	kv_put /m.exists '{"value":"same"}'
	assert_code 200
	local vs
	vs=$(jq -r .versionstamp <<<"$body")
	kv_req PATCH /m.exists --data-binary '{"value":"changed"}'
	assert_error 405 method_not_allowed
	kv_req GET /m.exists
	assert_code 200
	assert_equal "$body" '"same"'
	assert_equal "$(kv_header ETag)" "\"$vs\""
}

@test "(methods) PUT on the root is 405 with Allow: GET, HEAD, POST" {
	kv_req PUT / --data-binary '{"value":1}'
	assert_error 405 method_not_allowed
	assert_allow 'GET, HEAD, POST'
	kv_req PUT '' --data-binary '{"value":1}'
	assert_error 405 method_not_allowed
	assert_allow 'GET, HEAD, POST'
}

@test "(methods) DELETE on the root is 405 with Allow: GET, HEAD, POST" {
	kv_put /m.survivor '{"value":1}'
	assert_code 200
	kv_req DELETE /
	assert_error 405 method_not_allowed
	assert_allow 'GET, HEAD, POST'
	kv_req DELETE ''
	assert_error 405 method_not_allowed
	assert_allow 'GET, HEAD, POST'
	kv_req GET /m.survivor
	assert_code 200
	assert_equal "$body" '1'
}

@test "(methods) PATCH on the root is 405 with Allow: GET, HEAD, POST" {
	kv_req PATCH /
	assert_error 405 method_not_allowed
	assert_allow 'GET, HEAD, POST'
}

@test "(methods) the Allow header is also sent to a list URL" {
	kv_req PATCH '/m?list=true'
	assert_error 405 method_not_allowed
	assert_allow 'GET, HEAD, PUT, DELETE'
}

# assert_json_headers: the response is JSON with charset=utf-8 and no-store.
assert_json_headers() {
	echo "-> $code $(kv_header Content-Type) / $(kv_header Cache-Control)"
	assert_regex "$(kv_header Content-Type)" '^application/json *; *charset=utf-8$'
	assert_equal "$(kv_header Cache-Control)" 'no-store'
	jq -e . <<<"$body" >/dev/null || fail "body is not JSON: $body"
}

@test "(headers) every kind of response is JSON with no-store" {
	kv_put /h.k '{"value":1}'
	assert_json_headers
	kv_req GET /h.k
	assert_json_headers
	kv_req GET /h.absent
	assert_json_headers
	kv_req GET /h..k
	assert_json_headers
	kv_req GET '/h?list=true'
	assert_json_headers
	kv_req GET '/h?list=maybe'
	assert_json_headers
	kv_req GET /
	assert_json_headers
	kv_req PATCH /h.k
	assert_json_headers
	kv_put /h.k '{"value":2}' -H 'If-Match: "00000000000000000000"'
	assert_json_headers
	kv_req PUT /h.k --data-binary nope
	assert_json_headers
	kv_req DELETE /h.absent
	assert_json_headers
	kv_req DELETE /h.k
	assert_json_headers
}

# assert_clean_error: an error body with exactly status, code and message,
# and a message free of file paths and library names.
assert_clean_error() {
	assert_json '.error | keys' '["code","message","status"]'
	assert_json '.error.status' "$code"
	refute_regex "$(jq -r .error.message <<<"$body")" \
		'/(tmp|var|etc|usr|home|root|work|srv|opt)/|DB_[A-Z]|BDB[0-9]|[Bb]erkeley|json_tokener|json-c|FCGX|errno'
	if [[ -n ${KV_STORE-} ]]; then
		refute_regex "$body" "$KV_STORE"
	fi
}

@test "(headers) errors never show file paths or library text" {
	kv_req GET /h2.absent
	assert_clean_error
	kv_req GET /h2..k
	assert_clean_error
	kv_req PUT /h2.k --data-binary '{'
	assert_clean_error
	kv_req PUT /h2.k --data-binary '{"value":1,"ttl":0}'
	assert_clean_error
	kv_req GET '/h2?list=true&cursor=zz'
	assert_clean_error
	kv_req PATCH /h2.k
	assert_clean_error
	kv_req DELETE /h2.k -H 'If-Match: *'
	assert_clean_error
}
