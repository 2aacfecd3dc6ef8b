bats_require_minimum_version 1.7.0
load '../lib/helper'

# The cgi-bin kit's own promises, through Apache as a shared host runs it
# (KV_TEST_SERVER=cgi or cgid; cgi by default here): its .htaccess makes
# kv.fcgi a CGI script, passes Authorization on and serves nothing else,
# and cgi-bin/README.txt's steps work as written: a token minted with
# `kvctl token me`, its section pasted at the end of kv.conf, then the
# README's curl.

setup_file() {
	: "${KV_TEST_SERVER:=cgi}"
	export KV_TEST_SERVER
	local kvctl=${KVCTL:-$KV_BUILDDIR/src/kvctl} minted
	minted=$("$kvctl" token me) || return 1
	TOKEN=$(head -n 1 <<<"$minted")
	export TOKEN
	# auth = on, as the kit's kv.conf says, then the [token me] section.
	KV_EXTRA_CONF="auth = on
$(sed -n '/^\[token me\]/,$p' <<<"$minted")"
	export KV_EXTRA_CONF
	kv_setup_file
}
teardown_file() { kv_teardown_file; }

@test "(cgi kit) README.txt's curl with the token answers the health check" {
	kv_req GET / -H "Authorization: Bearer $TOKEN"
	assert_code 200
	assert_json '.service' '"kv"'
	assert_json '.status' '"ok"'
}

@test "(cgi kit) without the token kvd answers 401: the header is what decides" {
	kv_req GET /
	assert_error 401 unauthorized
	kv_req GET / -H "Authorization: Bearer x$TOKEN"
	assert_error 401 unauthorized
}

@test "(cgi kit) the service is mounted at the script's URL: me.john is .../kv.fcgi/me.john" {
	kv_put /me.john '{"value":{"a":1}}' -H "Authorization: Bearer $TOKEN"
	assert_code 200
	assert_json '.key' '"me.john"'
	kv_req GET /me.john -H "Authorization: Bearer $TOKEN"
	assert_code 200
	assert_equal "$body" '{"a":1}'
	kv_req GET /other.key -H "Authorization: Bearer $TOKEN"
	assert_error 403 forbidden
}

@test "(cgi kit) the .htaccess serves nothing but kv.fcgi: kvd, kv.conf, .htaccess are Apache's 403" {
	local dir=${KV_URL%/kv.fcgi} f
	for f in kvd kv.conf .htaccess; do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 "$dir/$f")
		echo "$f: $code"
		[[ "$code" == 403 ]] || fail "$dir/$f answered $code, not 403"
	done
	# Nor through the script's URL: Apache resolves the dot segments first.
	kv_req GET /../kv.conf -H "Authorization: Bearer $TOKEN"
	assert_code 403
	[[ "$body" != *sha256:* ]] || fail "kv.conf's token hashes were served"
}
