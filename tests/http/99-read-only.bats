bats_require_minimum_version 1.7.0
load '../lib/helper'

# Maintenance mode: with read_only = on, reads work and every write (PUT,
# DELETE, an atomic commit) is 503 unavailable with Retry-After; nothing is
# written.

export KV_EXTRA_CONF='read_only = on'

# seed KEY JSON: write KEY before the tests, through kvd run once as a plain
# CGI program on the same store with a configuration that allows writes
# (the served one does not). Under Apache it runs as the workers' user, who
# owns the store.
seed() {
	local key=$1 json=$2 conf="$BATS_FILE_TMPDIR/seed.conf" bin=$KV_BIN out
	local -a as=()
	printf 'store = %s\nauth = off\n' "$KV_STORE" >"$conf"
	chmod 644 "$conf"
	if [[ $KV_TEST_SERVER == apache && $(id -u) == 0 ]]; then
		bin=$KV_RUNDIR/kvd
		as=(runuser -u www-data --)
	fi
	out=$(printf '%s' "$json" | "${as[@]}" env -i "PATH=/usr/bin:/bin" "KV_CONF=$conf" \
		REQUEST_METHOD=PUT "REQUEST_URI=/kv/$key" SCRIPT_NAME=/kv \
		"CONTENT_LENGTH=${#json}" "$bin")
	[[ "$out" == "Status: 200 "* ]] || {
		echo "seeding $key failed: $out" >&2
		return 1
	}
}

setup_file() {
	kv_setup_file
	seed cfg.mode '{"value":"maintenance"}'
	seed cfg.other '{"value":2}'
}
teardown_file() { kv_teardown_file; }

assert_read_only() {
	assert_error 503 unavailable
	assert_equal "$(kv_header Retry-After)" 60
}

@test "(read-only) reads work: GET, HEAD, lists and the health check" {
	kv_req GET /cfg.mode
	assert_code 200
	assert_equal "$body" '"maintenance"'
	kv_req HEAD /cfg.mode
	assert_code 200
	kv_req GET '/cfg?list=true'
	assert_code 200
	assert_json '[.entries[] | {key, value}]' '[{"key":"cfg.mode","value":"maintenance"},{"key":"cfg.other","value":2}]'
	kv_req GET /
	assert_code 200
	assert_json '.status' '"ok"'
	kv_req GET /no.such.key
	assert_error 404 not_found
}

@test "(read-only) PUT is 503 unavailable with Retry-After and writes nothing" {
	kv_put /cfg.mode '{"value":"changed"}'
	assert_read_only
	kv_put /new.key '{"value":1}'
	assert_read_only
	kv_req GET /cfg.mode
	assert_equal "$body" '"maintenance"'
	kv_req GET /new.key
	assert_error 404 not_found
}

@test "(read-only) DELETE is 503 unavailable and deletes nothing" {
	kv_req DELETE /cfg.other
	assert_read_only
	kv_req GET /cfg.other
	assert_code 200
	assert_equal "$body" '2'
}

@test "(read-only) an atomic commit is 503 unavailable and applies nothing" {
	kv_req POST / -H 'Content-Type: application/json' \
		--data-binary '{"checks":[],"mutations":[{"type":"sum","key":"cfg.other","value":1}]}'
	assert_read_only
	kv_req GET /cfg.other
	assert_equal "$body" '2'
}

@test "(read-only) a read of many keys works; a recursive delete is 503 and deletes nothing" {
	kv_req POST '/?read=true' --data-binary '{"keys":["cfg.mode","cfg.none"]}'
	assert_code 200
	assert_json '[.entries[] | [.key, .value]]' '[["cfg.mode","maintenance"],["cfg.none",null]]'
	kv_req GET '/cfg?list=true&depth=1'
	assert_code 200
	assert_json '[.entries[].key]' '["cfg.mode","cfg.other"]'
	kv_req DELETE '/cfg?recurse=true'
	assert_read_only
	kv_req GET '/cfg?list=true'
	assert_json '.entries | length' '2'
}
