bats_require_minimum_version 1.7.0
load '../lib/helper'
setup_file() { kv_setup_file; }
teardown_file() { kv_teardown_file; }

# Keypaths: percent-decoding by the program, separators, and invalid keys.
# Every invalid-key request must leave the store exactly as it was.

# snapshot: every key with its versionstamp, as one JSON line.
snapshot() {
	kv_req GET '/?list=true&limit=1000' >/dev/null
	assert_code 200
	jq -c '[.entries[] | [.key, .versionstamp]]' <<<"$body"
}

# seed_neighbours: keys that a server or program normalising an invalid
# keypath would hit instead (a..b -> a.b, a/b -> a.b, a%01b -> a_b, ...).
seed_neighbours() {
	local k
	if [[ -n ${neighbours_seeded-} ]]; then return 0; fi
	neighbours_seeded=1
	for k in a b ab a.b a_b a.b.c x a.x b.x; do
		kv_put "/$k" '{"value":"neighbour"}' >/dev/null
		assert_code 200
	done
}

# check_invalid RAWPATH: GET, HEAD, PUT, DELETE and list of RAWPATH are all
# 400 invalid_key and the store is unchanged.
check_invalid() {
	local p=$1 before after
	seed_neighbours
	before=$(snapshot)
	kv_req GET "/$p"
	assert_error 400 invalid_key
	kv_req HEAD "/$p"
	assert_code 400
	assert_equal "$body" ''
	kv_put "/$p" '{"value":"intruder"}'
	assert_error 400 invalid_key
	kv_req DELETE "/$p"
	assert_error 400 invalid_key
	kv_req GET "/$p?list=true"
	assert_error 400 invalid_key
	after=$(snapshot)
	assert_equal "$after" "$before"
}

@test "(keys) %C3%A9 is decoded to é" {
	kv_put /caf%C3%A9 '{"value":"coffee"}'
	assert_code 200
	assert_json '.key' '"café"'
	kv_req GET /caf%C3%A9
	assert_code 200
	assert_equal "$body" '"coffee"'
	kv_req GET /caf%c3%a9
	assert_code 200
	assert_equal "$body" '"coffee"'
	kv_req GET '/?list=true'
	assert_code 200
	assert_json '[.entries[].key | select(. == "café")]' '["café"]'
}

@test "(keys) %2E is a separator like ." {
	kv_put /sep%2Eb '{"value":"dotted"}'
	assert_code 200
	assert_json '.key' '"sep.b"'
	kv_req GET /sep.b
	assert_code 200
	assert_equal "$body" '"dotted"'
	kv_req GET /sep%2eb
	assert_code 200
	assert_equal "$body" '"dotted"'
	kv_req GET '/sep?list=true'
	assert_code 200
	assert_json '[.entries[].key]' '["sep.b"]'
}

@test "(keys) percent-encoded ASCII is the same key as the plain byte" {
	kv_put /pct%41bc '{"value":1}'
	assert_code 200
	assert_json '.key' '"pctAbc"'
	kv_req GET /pctAbc
	assert_code 200
	assert_equal "$body" '1'
}

@test "(keys) space, plus, percent, question mark and hash are key bytes" {
	kv_put /odd.a%20b '{"value":"space"}'
	assert_code 200
	assert_json '.key' '"odd.a b"'
	kv_put /odd.a+b '{"value":"plus"}'
	assert_code 200
	assert_json '.key' '"odd.a+b"'
	kv_put /odd.a%25b '{"value":"percent"}'
	assert_code 200
	assert_json '.key' '"odd.a%b"'
	kv_put /odd.a%3Fb '{"value":"question"}'
	assert_code 200
	assert_json '.key' '"odd.a?b"'
	kv_put /odd.a%23b '{"value":"hash"}'
	assert_code 200
	assert_json '.key' '"odd.a#b"'
	kv_req GET /odd.a%20b
	assert_equal "$body" '"space"'
	kv_req GET /odd.a+b
	assert_equal "$body" '"plus"'
	kv_req GET /odd.a%25b
	assert_equal "$body" '"percent"'
	kv_req GET /odd.a%3Fb
	assert_equal "$body" '"question"'
	kv_req GET /odd.a%23b
	assert_equal "$body" '"hash"'
	kv_req GET '/odd?list=true'
	assert_code 200
	assert_json '[.entries[].key]' '["odd.a b","odd.a#b","odd.a%b","odd.a+b","odd.a?b"]'
}

@test "(keys) a 404 message names the decoded key" {
	kv_req GET /nf.caf%C3%A9%2Ex
	assert_error 404 not_found
	assert_json '.error.message' '"no such key: nf.café.x"'
}

@test "(keys) multi-byte UTF-8 up to U+10FFFF is accepted" {
	kv_put /utf.%F0%9F%98%80 '{"value":"emoji"}'
	assert_code 200
	assert_json '.key' '"utf.😀"'
	kv_put /utf.%F4%8F%BF%BF '{"value":"max"}'
	assert_code 200
	assert_json '.key | explode' '[117,116,102,46,1114111]'
	kv_req GET /utf.%F0%9F%98%80
	assert_code 200
	assert_equal "$body" '"emoji"'
}

@test "(keys) a 2048-byte keypath is accepted" {
	local k
	k=$(head -c 2048 /dev/zero | tr '\0' 'k')
	kv_put "/$k" '{"value":"long"}' >/dev/null
	assert_code 200
	assert_json '.key | length' '2048'
	kv_req GET "/$k" >/dev/null
	assert_code 200
	assert_equal "$body" '"long"'
	# 1024 two-byte characters: 2048 bytes once decoded
	k=$(for i in $(seq 1024); do printf '%%C3%%A9'; done)
	kv_put "/$k" '{"value":"long e"}' >/dev/null
	assert_code 200
	assert_json '.key | length' '1024'
}

@test "(keys) a 2049-byte keypath is 400 invalid_key" {
	check_invalid "$(head -c 2049 /dev/zero | tr '\0' 'k')"
	check_invalid "$(for i in $(seq 1024); do printf '%%C3%%A9'; done)x"
	check_invalid "$(head -c 1024 /dev/zero | tr '\0' 'k').$(head -c 1024 /dev/zero | tr '\0' 'k')"
}

@test "(keys) an empty segment is 400 invalid_key: a..b" {
	check_invalid 'a..b'
}

@test "(keys) a leading separator is 400 invalid_key: .a" {
	check_invalid '.a'
	check_invalid '%2Ea'
}

@test "(keys) a trailing separator is 400 invalid_key: a." {
	check_invalid 'a.'
	check_invalid 'a%2E'
	check_invalid '.'
}

@test "(keys) encoded dots cannot make an empty segment: a%2E%2Eb" {
	check_invalid 'a%2E%2Eb'
	check_invalid 'a.%2Eb'
}

@test "(keys) a slash is 400 invalid_key: a/b" {
	check_invalid 'a/b'
	check_invalid 'a//b'
	check_invalid 'a/'
}

@test "(keys) an encoded slash is 400 invalid_key: a%2Fb" {
	check_invalid 'a%2Fb'
	check_invalid 'a%2fb'
}

@test "(keys) dot segments are 400 invalid_key: a/../b" {
	check_invalid 'a/../b'
	check_invalid 'a/./b'
	check_invalid 'x/%2E%2E/b'
}

@test "(keys) a control character is 400 invalid_key: a%01b" {
	check_invalid 'a%01b'
	check_invalid 'a%1Fb'
	check_invalid 'a%0Ab'
	check_invalid 'a%09b'
}

@test "(keys) DEL is 400 invalid_key: a%7Fb" {
	check_invalid 'a%7Fb'
}

@test "(keys) invalid UTF-8 is 400 invalid_key: a%FFb" {
	check_invalid 'a%FFb'
	check_invalid 'a%C3'
	check_invalid 'a%A9b'
	check_invalid 'a%E2%82'
}

@test "(keys) overlong UTF-8 is 400 invalid_key: a%C0%AFb" {
	check_invalid 'a%C0%AFb'
	check_invalid 'a%C1%81'
	check_invalid 'a%E0%80%AE'
}

@test "(keys) UTF-8 surrogates and code points above U+10FFFF are 400 invalid_key" {
	check_invalid 'a%ED%A0%80b'
	check_invalid 'a%F4%90%80%80'
	check_invalid 'a%F5%80%80%80'
}

# Apache and nginx reject some escapes themselves, before kvd sees the
# request, and answer with their own JSON error documents (conf/apache.conf,
# conf/nginx.conf, conf/errors): %00 is Apache's 404 not_found and nginx's
# 400 bad_request, a malformed escape the 400 bad_request of both.
# check_server_answered RAWPATH STATUS CODE: GET, PUT and DELETE get that
# error and the store is unchanged.
check_server_answered() {
	local p=$1 status=$2 ecode=$3 before m
	seed_neighbours
	before=$(snapshot)
	for m in GET PUT DELETE; do
		if [[ $m == PUT ]]; then
			kv_put "/$p" '{"value":"intruder"}'
		else
			kv_req "$m" "/$p"
		fi
		assert_error "$status" "$ecode"
	done
	assert_equal "$(snapshot)" "$before"
}

@test "(keys) an encoded NUL: the program's 400 invalid_key, Apache's own 404, nginx's own 400" {
	case ${KV_TEST_SERVER:-lighttpd} in
	apache | apache-proxy)
		# Apache answers %00 in a path with its own 404 (ap_unescape_url).
		check_server_answered 'a%00b' 404 not_found
		;;
	nginx)
		# nginx refuses a decoded NUL in a path with its own 400.
		check_server_answered 'a%00b' 400 bad_request
		;;
	*)
		check_invalid 'a%00b'
		;;
	esac
}

@test "(keys) a lone %: the program's 400 invalid_key, Apache's and nginx's own 400 bad_request" {
	case ${KV_TEST_SERVER:-lighttpd} in
	apache | apache-proxy | nginx)
		check_server_answered 'a%' 400 bad_request
		check_server_answered '%' 400 bad_request
		;;
	*)
		check_invalid 'a%'
		check_invalid '%'
		;;
	esac
}

@test "(keys) a bad escape %zz: the program's 400 invalid_key, Apache's and nginx's own 400 bad_request" {
	case ${KV_TEST_SERVER:-lighttpd} in
	apache | apache-proxy | nginx)
		check_server_answered '%zz' 400 bad_request
		check_server_answered 'a%4' 400 bad_request
		check_server_answered 'a%4g' 400 bad_request
		;;
	*)
		check_invalid '%zz'
		check_invalid 'a%4'
		check_invalid 'a%4g'
		;;
	esac
}

# Paths next to the mount point. KV_URL ends in /kv, so a PATH without a
# leading slash continues the mount point's own segment. Outside the mount
# point the web server answers with its own JSON error: 404 for every method
# under lighttpd; under Apache 404, but 405 for a PUT (its default handler
# takes no PUT).

# assert_outside_put: the answer to a PUT outside the mount point.
assert_outside_put() {
	case ${KV_TEST_SERVER:-lighttpd} in
	apache | apache-proxy) assert_error 405 method_not_allowed ;;
	*) assert_error 404 not_found ;;
	esac
}

@test "(mount) a path that only starts like the mount point is the server's error" {
	seed_neighbours
	local before
	before=$(snapshot)
	kv_req GET 'x/a'
	assert_error 404 not_found
	kv_put 'x/a' '{"value":"intruder"}'
	assert_outside_put
	kv_req GET 'x'
	assert_error 404 not_found
	assert_equal "$(snapshot)" "$before"
}

@test "(mount) dot segments that leave the mount point are the server's error" {
	seed_neighbours
	local before
	before=$(snapshot)
	kv_req GET '/../x'
	assert_error 404 not_found
	kv_put '/../x' '{"value":"intruder"}'
	assert_outside_put
	kv_req GET '/%2e%2e/x'
	assert_error 404 not_found
	assert_equal "$(snapshot)" "$before"
}

@test "(mount) /kv%2Fa: lighttpd passes it to the program (400 invalid_key), Apache answers itself" {
	seed_neighbours
	local before
	before=$(snapshot)
	case ${KV_TEST_SERVER:-lighttpd} in
	apache | apache-proxy)
		kv_req GET '%2Fa'
		assert_error 404 not_found
		kv_put '%2Fa' '{"value":"intruder"}'
		assert_outside_put
		;;
	*)
		kv_req GET '%2Fa'
		assert_error 400 invalid_key
		kv_put '%2Fa' '{"value":"intruder"}'
		assert_error 400 invalid_key
		kv_req DELETE '%2Fa'
		assert_error 400 invalid_key
		;;
	esac
	assert_equal "$(snapshot)" "$before"
}
