bats_require_minimum_version 1.7.0
load '../lib/helper'

# The kit's URL as clients write it: under a user's directory the mount
# point holds a '~', which some clients send percent-encoded (%7E) and the
# web server decodes into SCRIPT_NAME. Either spelling, and any other
# byte of the mount sent encoded, reaches the same key. Run under
# KV_TEST_SERVER=cgi (mod_cgi, the default here) and cgid.

setup_file() {
	: "${KV_TEST_SERVER:=cgi}"
	export KV_TEST_SERVER
	kv_setup_file
}
teardown_file() { kv_teardown_file; }

@test "(cgi mount) the mount point with ~ sent as %7E reaches the same key" {
	[[ $KV_URL == *'/~user/'* ]] || fail "the kit is not under ~user: $KV_URL"
	kv_put /mount.a '{"value": {"n": 1}}'
	assert_code 200
	KV_URL=${KV_URL/\/~user\//\/%7Euser\/} kv_req GET /mount.a
	assert_code 200
	assert_json '.n' 1
	KV_URL=${KV_URL/\/~user\//\/%7euser\/} kv_put /mount.b '{"value": 2}'
	assert_code 200
	kv_req GET /mount.b
	assert_json '.' 2
}

@test "(cgi mount) other encoded bytes of the mount point are decoded too" {
	kv_put /mount.c '{"value": 3}'
	KV_URL=${KV_URL/\/cgi-bin\//\/cgi%2Dbin\/} kv_req GET /mount.c
	assert_code 200
	assert_json '.' 3
	KV_URL=${KV_URL/kv.fcgi/kv%2Efcgi} kv_req GET /mount.c
	assert_code 200
	assert_json '.' 3
}
