bats_require_minimum_version 1.7.0
load '../lib/helper'
setup_file() { kv_setup_file; }
teardown_file() { kv_teardown_file; }

# What lighttpd, Apache and nginx answer by themselves, before kvd sees
# the request, with conf/lighttpd.conf, conf/apache.conf (and
# conf/apache-proxy.conf, whose Apache core answers the same) and
# conf/nginx.conf (whose comments have the full table). Their own errors
# still carry the contract's JSON error body, from conf/errors. Run once
# per server by tests/lighttpd.test, tests/apache.test,
# tests/apache-proxy.test and tests/nginx.test.

server() { echo "${KV_TEST_SERVER:-lighttpd}"; }

# no_answer_pinned: fail a test that has no expectation for this server.
no_answer_pinned() { fail "no answer pinned for $(server)"; }

@test "(servers) odd paths under the mount point reach kvd as 400 invalid_key" {
	local path
	for path in /a%01b /a%7Fb /a%0Ab /a%FFb /a%C3b /a%2Fb /a%2fb //a /./a /a/../b /a/%2e%2e/b; do
		kv_req GET "$path"
		assert_error 400 invalid_key
	done
}

@test "(servers) %00: kvd's 400 under lighttpd, Apache's own 404, nginx's own 400" {
	kv_req GET /a%00b
	case $(server) in
	lighttpd) assert_error 400 invalid_key ;;
	apache | apache-proxy) assert_error 404 not_found ;;
	nginx) assert_error 400 bad_request ;;
	*) no_answer_pinned ;;
	esac
}

@test "(servers) /kv followed by anything but / or ? is not the mount point" {
	kv_req GET '/../kvx'
	assert_error 404 not_found
	KV_URL=${KV_URL%/kv} kv_req GET /kvx
	assert_error 404 not_found
	KV_URL=${KV_URL%/kv} kv_req GET /kvx/a
	assert_error 404 not_found
}

@test "(servers) /kv%2Fa is outside the mount point: kvd's or the server's error" {
	KV_URL=${KV_URL%/kv} kv_req GET /kv%2Fa
	case $(server) in
	lighttpd | nginx) assert_error 400 invalid_key ;;
	apache | apache-proxy) assert_error 404 not_found ;;
	*) no_answer_pinned ;;
	esac
}

@test "(servers) dot segments that leave the mount point are the server's 404" {
	kv_req GET /../x
	assert_error 404 not_found
	kv_req GET /%2e%2e/x
	assert_error 404 not_found
}

@test "(servers) a path outside /kv is the server's JSON 404" {
	KV_URL=${KV_URL%/kv} kv_req GET /
	assert_error 404 not_found
	KV_URL=${KV_URL%/kv} kv_req GET /index.html
	assert_error 404 not_found
}

@test "(servers) unusual methods reach kvd as 405, except where the server answers" {
	local method
	for method in OPTIONS PATCH PROPFIND; do
		kv_req "$method" /a
		assert_error 405 method_not_allowed
		assert_regex "$(kv_header Allow)" 'GET'
	done
	# kvd's 405 under lighttpd; Apache's and nginx's own.
	kv_req TRACE /a
	assert_error 405 method_not_allowed
	kv_req FOO /a
	case $(server) in
	lighttpd) assert_code 501 ;; # lighttpd does not know the method
	apache | apache-proxy | nginx) assert_error 405 method_not_allowed ;;
	*) no_answer_pinned ;;
	esac
	assert_json '.error.status' "$code"
}

@test "(servers) a body above the server's 16 MiB limit is the server's 413" {
	head -c $((16 * 1024 * 1024 + 1)) /dev/zero >"$BATS_TEST_TMPDIR/huge"
	kv_req PUT /huge --data-binary @"$BATS_TEST_TMPDIR/huge"
	assert_code 413
	assert_json '.error.code' '"body_too_large"'
}

@test "(servers) a body between max_body and 16 MiB is kvd's 413 body_too_large" {
	head -c $((2 * 1024 * 1024)) /dev/zero >"$BATS_TEST_TMPDIR/big"
	kv_req PUT /big --data-binary @"$BATS_TEST_TMPDIR/big"
	assert_error 413 body_too_large
	kv_req GET /big
	assert_error 404 not_found
}
