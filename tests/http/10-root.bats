bats_require_minimum_version 1.7.0
load '../lib/helper'
setup_file() { kv_setup_file; }
teardown_file() { kv_teardown_file; }

# The root of the mount (/kv and /kv/) answers a health check when no list
# is asked for; list=false and list=0 are plain GETs.

assert_health() {
	assert_code 200
	assert_json '.service' '"kv"'
	assert_json '.status' '"ok"'
	assert_json '.version | test("^[0-9]+\\.[0-9]+\\.[0-9]+$")' 'true'
	assert_regex "$(kv_header Content-Type)" '^application/json.*charset=utf-8'
	assert_equal "$(kv_header Cache-Control)" 'no-store'
}

@test "(root) GET /kv/ answers the health check" {
	kv_req GET /
	assert_health
}

@test "(root) GET /kv without the trailing slash answers the health check" {
	kv_req GET ''
	assert_health
}

@test "(root) list=false and list=0 are plain health checks" {
	kv_req GET '/?list=false'
	assert_health
	kv_req GET '/?list=0'
	assert_health
	kv_req GET '?list=false'
	assert_health
}

@test "(root) unknown query parameters are ignored by the health check" {
	kv_req GET '/?foo=bar&x'
	assert_health
}

@test "(root) the health check answers the same after writes" {
	kv_put /root.health '{"value":1}'
	assert_code 200
	kv_req GET /
	assert_health
}

@test "(root) HEAD /kv/ gives the health check's status and headers without a body" {
	kv_req HEAD /
	assert_code 200
	assert_equal "$body" ''
	assert_regex "$(kv_header Content-Type)" '^application/json.*charset=utf-8'
	assert_equal "$(kv_header Cache-Control)" 'no-store'
}

@test "(root) an invalid list value at the root is 400 invalid_query" {
	kv_req GET '/?list=yes'
	assert_error 400 invalid_query
	kv_req GET '?list=2'
	assert_error 400 invalid_query
}
