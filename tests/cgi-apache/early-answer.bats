bats_require_minimum_version 1.7.0
load '../lib/helper'

# Answers given before the request body is read: a 401, a 403, a 413.
# Under plain CGI a kvd that answered and exited without reading its body
# had its answer cut short by mod_cgid (curl: transfer closed early), so
# kvd reads and drops the body first, up to a bound. Each answer must
# arrive whole, under KV_TEST_SERVER=cgi (the default here), cgid and
# cgi-fcgid.

setup_file() {
	: "${KV_TEST_SERVER:=cgi}"
	export KV_TEST_SERVER
	local kvctl=${KVCTL:-$KV_BUILDDIR/src/kvctl} minted writer
	minted=$("$kvctl" token reader --read pub) || return 1
	writer=$("$kvctl" token writer --write pub) || return 1
	READER=$(head -n 1 <<<"$minted")
	WRITER=$(head -n 1 <<<"$writer")
	export READER WRITER
	KV_EXTRA_CONF="auth = on
max_body = 64K
$(kv_paste_lines "$minted")"
	KV_EXTRA_CONF+="
$(kv_paste_lines "$writer")"
	export KV_EXTRA_CONF
	kv_setup_file
}
teardown_file() { kv_teardown_file; }

# put_body BYTES [curl args...]: a PUT of a JSON value about BYTES long.
put_body() {
	local bytes=$1
	shift
	head -c "$bytes" /dev/zero | tr '\0' 'a' | sed 's/^/{"value":"/; s/$/"}/' >"$BATS_TEST_TMPDIR/body"
	kv_req PUT /pub.k --data-binary @"$BATS_TEST_TMPDIR/body" "$@"
}

@test "(early answer) a PUT without a token gets its whole 401, bodies of 1 KiB and 60 KiB" {
	put_body 1024
	assert_error 401 unauthorized
	put_body 61440
	assert_error 401 unauthorized
}

@test "(early answer) a PUT outside the token's grants gets its whole 403" {
	put_body 61440 -H "Authorization: Bearer $READER"
	assert_error 403 forbidden
}

@test "(early answer) a body above max_body gets its whole 413" {
	put_body 100000 -H "Authorization: Bearer $WRITER"
	assert_error 413 body_too_large
	put_body 1024 -H "Authorization: Bearer $WRITER"
	assert_code 200
}
