bats_require_minimum_version 1.7.0
load '../lib/helper'

# kvd as a plain CGI program: no web server, one process per request, the
# request in the environment and on stdin, the response on stdout. The
# store is a directory on disk, so each invocation sees what the last wrote.

setup_file() {
	export KV_STORE="$BATS_FILE_TMPDIR/store"
	export KV_CONF="$BATS_FILE_TMPDIR/kv.conf"
	mkdir -p "$KV_STORE"
	printf 'store = %s\nauth = off\n' "$KV_STORE" >"$KV_CONF"
}

# kv_cgi [-d BODY] METHOD PATH [NAME=VALUE | -NAME ...]: run kvd once as
# CGI, mounted at /kv, with a clean environment plus the NAME=VALUE pairs
# (HTTP_IF_MATCH=..., KV_DATA=...) and without each -NAME. Sets code (from
# the Status: line), headers (CR stripped), body, and cgi_status (kvd's exit
# status); kvd's stderr goes to $BATS_TEST_TMPDIR/cgi.err.
kv_cgi() {
	local data='' has_data=''
	if [[ "$1" == -d ]]; then
		data=$2 has_data=1
		shift 2
	fi
	local method=$1 path=$2
	shift 2
	local uri="/kv$path" query=
	[[ "$uri" == *\?* ]] && query=${uri#*\?}
	local -a env=(
		"PATH=/usr/bin:/bin"
		"KV_CONF=$KV_CONF"
		GATEWAY_INTERFACE=CGI/1.1
		SERVER_PROTOCOL=HTTP/1.1
		SERVER_NAME=127.0.0.1
		REMOTE_ADDR=127.0.0.1
		"REQUEST_METHOD=$method"
		"REQUEST_URI=$uri"
		SCRIPT_NAME=/kv
		"QUERY_STRING=$query"
	)
	local in="$BATS_TEST_TMPDIR/cgi.in" out="$BATS_TEST_TMPDIR/cgi.out"
	printf '%s' "$data" >"$in"
	if [[ -n "$has_data" ]]; then
		env+=("CONTENT_LENGTH=$(wc -c <"$in")" CONTENT_TYPE=application/json)
	fi
	local arg i
	for arg in "$@"; do
		if [[ "$arg" == -* ]]; then
			for i in "${!env[@]}"; do
				[[ "${env[i]}" == "${arg#-}="* ]] && unset 'env[i]'
			done
		else
			env+=("$arg") # env(1) applies them in order: the last one wins
		fi
	done
	cgi_status=0
	env -i "${env[@]}" "$KV_BIN" <"$in" >"$out" 2>"$BATS_TEST_TMPDIR/cgi.err" ||
		cgi_status=$?
	local raw
	raw=$(cat "$out"; echo x)
	raw=${raw%x}
	echo "> $method $path $*${has_data:+ <<< $data}"
	echo "(exit $cgi_status)"
	printf '%s\n' "$raw"
	cat "$BATS_TEST_TMPDIR/cgi.err"
	if [[ "$raw" != *$'\r\n\r\n'* ]]; then
		code=0 headers='' body=''
		fail "kvd printed no CGI header block"
		return 1
	fi
	headers=$(tr -d '\r' <<<"${raw%%$'\r\n\r\n'*}")
	body=${raw#*$'\r\n\r\n'}
	local status
	status=$(kv_header Status)
	code=${status%% *}
	[[ "$code" =~ ^[0-9]{3}$ ]] || {
		fail "no Status: line in the CGI output"
		return 1
	}
}

@test "(cgi) GET /kv/ answers the health check" {
	kv_cgi GET /
	assert_code 200
	assert_json '.status' '"ok"'
	assert_json '.service' '"kv"'
	assert_regex "$(kv_header Content-Type)" '^application/json.*charset=utf-8'
	assert_equal "$(kv_header Cache-Control)" 'no-store'
	assert_equal "$cgi_status" 0
}

@test "(cgi) PUT stores a value and a second process reads it back" {
	kv_cgi -d '{"value":{"name":"John","n":[1,2.5,"x"]}}' PUT /users.john
	assert_code 200
	assert_json '.key' '"users.john"'
	assert_json '.expiresAt' 'null'
	assert_json '.versionstamp | test("^[0-9a-f]{20}$")' 'true'
	local vs
	vs=$(jq -r .versionstamp <<<"$body")

	kv_cgi GET /users.john
	assert_code 200
	assert_equal "$body" '{"name":"John","n":[1,2.5,"x"]}'
	assert_equal "$(kv_header ETag)" "\"$vs\""
}

@test "(cgi) versionstamps increase from one process to the next" {
	kv_cgi -d '{"value":1}' PUT /counter
	assert_code 200
	local first
	first=$(jq -r .versionstamp <<<"$body")
	kv_cgi -d '{"value":2}' PUT /counter
	assert_code 200
	local second
	second=$(jq -r .versionstamp <<<"$body")
	[[ "$second" > "$first" ]] || fail "$second is not after $first"
}

@test "(cgi) a list sees the keys written by earlier processes" {
	kv_cgi -d '{"value":"a"}' PUT /fruit.apple
	assert_code 200
	kv_cgi -d '{"value":"b"}' PUT /fruit.banana
	assert_code 200
	kv_cgi -d '{"value":"x"}' PUT /fruitcake
	assert_code 200

	kv_cgi GET '/fruit?list=true'
	assert_code 200
	assert_json '[.entries[].key]' '["fruit.apple","fruit.banana"]'
	assert_json '[.entries[].value]' '["a","b"]'
	assert_json '.cursor' 'null'
}

@test "(cgi) DELETE removes the key for later processes" {
	kv_cgi -d '{"value":true}' PUT /gone.soon
	assert_code 200
	kv_cgi DELETE /gone.soon
	assert_code 200
	assert_json '.deleted' 'true'
	assert_json '.key' '"gone.soon"'

	kv_cgi GET /gone.soon
	assert_error 404 not_found
	kv_cgi DELETE /gone.soon
	assert_code 200
	assert_json '.deleted' 'false'
}

@test "(cgi) an absent key is 404 not_found" {
	kv_cgi GET /no.such.key
	assert_error 404 not_found
}

@test "(cgi) If-Match with another versionstamp is 412 and writes nothing" {
	kv_cgi -d '{"value":"old"}' PUT /guarded
	assert_code 200
	kv_cgi -d '{"value":"new"}' PUT /guarded 'HTTP_IF_MATCH="00000000000000000001"'
	assert_error 412 precondition_failed
	kv_cgi GET /guarded
	assert_code 200
	assert_equal "$body" '"old"'
}

@test "(cgi) invalid keypaths are 400 invalid_key" {
	local path
	for path in /a..b /.a /a. /a%01b /a%00b /a%2Fb /a/b /a%FFb /a%C3 /a%2 '/a%zzb'; do
		kv_cgi GET "$path"
		assert_error 400 invalid_key
	done
}

@test "(cgi) a REQUEST_URI outside the mount point is 400 invalid_key" {
	kv_cgi GET /a REQUEST_URI=/other/a
	assert_error 400 invalid_key
	kv_cgi GET /a REQUEST_URI=/kv%2Fa
	assert_error 400 invalid_key
	kv_cgi GET /a REQUEST_URI=/kva
	assert_error 400 invalid_key
}

@test "(cgi) without REQUEST_URI the keypath comes from PATH_INFO" {
	kv_cgi -d '{"value":7}' PUT /via.uri
	assert_code 200
	kv_cgi GET /ignored -REQUEST_URI PATH_INFO=/via.uri
	assert_code 200
	assert_equal "$body" '7'
}

@test "(cgi) an unknown method is 405 with an Allow header" {
	kv_cgi PATCH /users.john
	assert_error 405 method_not_allowed
	assert_regex "$(kv_header Allow)" 'GET'
}

@test "(cgi) HEAD has the headers of GET and no body" {
	kv_cgi -d '{"value":[1]}' PUT /headed
	assert_code 200
	kv_cgi HEAD /headed
	assert_code 200
	assert_equal "$body" ''
	assert_regex "$(kv_header ETag)" '^"[0-9a-f]{20}"$'
}

@test "(cgi) KV_DATA overrides the store of the configuration" {
	local other="$BATS_TEST_TMPDIR/other-store"
	mkdir -p "$other"
	kv_cgi -d '{"value":"elsewhere"}' PUT /moved KV_DATA="$other"
	assert_code 200
	kv_cgi GET /moved KV_DATA="$other"
	assert_code 200
	assert_equal "$body" '"elsewhere"'
	kv_cgi GET /moved
	assert_error 404 not_found
}

@test "(cgi) a bad configuration line answers JSON 500 configuration; the log names file and line" {
	local conf="$BATS_TEST_TMPDIR/bad.conf"
	printf 'store = %s\nno_such_setting = 1\n' "$KV_STORE" >"$conf"
	kv_cgi GET / KV_CONF="$conf"
	assert_error 500 configuration
	assert_json '.error.message' '"line 2: unknown setting"'
	assert_equal "$cgi_status" 0
	run cat "$BATS_TEST_TMPDIR/cgi.err"
	assert_output --partial "$conf:2: unknown setting"
	# Whatever the request: a write is refused the same way.
	kv_cgi -d '{"value":1}' PUT /bad.conf.key KV_CONF="$conf"
	assert_error 500 configuration
	kv_cgi GET /bad.conf.key
	assert_error 404 not_found
}

@test "(cgi) a configuration file that cannot be read answers 500 configuration without its path" {
	kv_cgi GET / KV_CONF="$BATS_TEST_TMPDIR/missing.conf"
	assert_error 500 configuration
	assert_json '.error.message' '"cannot read: No such file or directory"'
	run cat "$BATS_TEST_TMPDIR/cgi.err"
	assert_output --partial "$BATS_TEST_TMPDIR/missing.conf: cannot read"
}

@test "(cgi) a body above max_body is 413 body_too_large" {
	local conf="$BATS_TEST_TMPDIR/small.conf"
	printf 'store = %s\nauth = off\nmax_body = 100\n' "$KV_STORE" >"$conf"
	local big
	big=$(printf '{"value":"%0200d"}' 0)
	kv_cgi -d "$big" PUT /too.big KV_CONF="$conf"
	assert_error 413 body_too_large
	kv_cgi GET /too.big
	assert_error 404 not_found
}

@test "(cgi) every process takes from one shared rate budget" {
	local conf="$BATS_TEST_TMPDIR/rate.conf" store="$BATS_TEST_TMPDIR/rate-store" i
	mkdir -p "$store"
	printf 'store = %s\nauth = off\nrate = 1/h\nburst = 3\n' "$store" >"$conf"
	for i in 2 1 0; do
		kv_cgi GET / KV_CONF="$conf"
		assert_code 200
		assert_equal "$(kv_header RateLimit-Limit)" 3
		assert_equal "$(kv_header RateLimit-Remaining)" "$i"
	done
	kv_cgi GET / KV_CONF="$conf"
	assert_error 429 rate_limited
	assert_equal "$(kv_header RateLimit-Remaining)" 0
	assert_regex "$(kv_header Retry-After)" '^[0-9]+$'
	(($(kv_header Retry-After) > 3000)) || fail "Retry-After for a rate of 1/h"
	# another address is another bucket
	kv_cgi GET / KV_CONF="$conf" REMOTE_ADDR=127.0.0.2
	assert_code 200
}

@test "(cgi) auth = on takes the token from HTTP_AUTHORIZATION; bad token lines name file and line" {
	local conf="$BATS_TEST_TMPDIR/auth.conf" tok=cgi-test-token-0123456789
	printf 'store = %s\nauth = on\n[token cgi]\nhash = sha256:%s\nread = users\n' \
		"$KV_STORE" "$(printf %s "$tok" | sha256sum | cut -d' ' -f1)" >"$conf"
	kv_cgi GET /users.john KV_CONF="$conf" "HTTP_AUTHORIZATION=Bearer $tok"
	assert_code 200
	kv_cgi GET /fruit.apple KV_CONF="$conf" "HTTP_AUTHORIZATION=Bearer $tok"
	assert_error 403 forbidden
	kv_cgi GET /users.john KV_CONF="$conf"
	assert_error 401 unauthorized
	assert_equal "$(kv_header WWW-Authenticate)" 'Bearer realm="kv"'
	if grep -qF "$tok" "$BATS_TEST_TMPDIR/cgi.err"; then fail "the token was logged"; fi

	printf '[token cgi]\nhash = sha256:%s\nread = users..x\n' "$(printf %s "$tok" | sha256sum | cut -d' ' -f1)" >"$conf"
	kv_cgi GET / KV_CONF="$conf" "HTTP_AUTHORIZATION=Bearer $tok"
	assert_error 500 configuration
	[[ $(jq -r .error.message <<<"$body") == "line 3: "* ]] || fail "the message does not name line 3"
	run cat "$BATS_TEST_TMPDIR/cgi.err"
	assert_output --partial "$conf:3"
}

@test "(cgi) a failed request writes one stderr line with its request id" {
	kv_cgi GET /cgi.no.such HTTP_X_REQUEST_ID=cgi-id-1 HTTP_AUTHORIZATION='Bearer cgi-secret'
	assert_code 404
	assert_equal "$(kv_header X-Request-Id)" cgi-id-1
	run cat "$BATS_TEST_TMPDIR/cgi.err"
	assert_output --regexp '^kvd\[[0-9]+\]: id=cgi-id-1 404 not_found: GET /kv/cgi.no.such: no such key: cgi.no.such$'
	refute_output --partial cgi-secret
}

@test "(cgi) a successful request writes nothing to stderr, and no start-up line" {
	kv_cgi GET / HTTP_X_REQUEST_ID='not sane'
	assert_code 200
	assert_regex "$(kv_header X-Request-Id)" '^[0-9a-f]{16}$'
	assert_equal "$(wc -c <"$BATS_TEST_TMPDIR/cgi.err")" 0
}

@test "(cgi) one-write processes still checkpoint and old log files go" {
	local big i logs
	big=$(printf '"%s"' "$(head -c 60000 /dev/zero | tr '\0' x)")
	# Each CGI process writes once, and asks at that write whether a
	# checkpoint is due (16 MiB of log since the last): 600 writes of 60 KB
	# log about 72 MB, eight log files of 10 MB without a checkpoint; with
	# them, the log since the last one (up to one write past 16 MiB) and
	# the file being written: at most 4.
	for ((i = 0; i < 600; i++)); do
		kv_cgi -d "{\"value\":$big}" PUT "/cgi.ck$((i % 20))" >/dev/null
		[[ $code == 200 ]] || fail "PUT number $i: $code"
	done
	logs=$(find "$KV_STORE" -maxdepth 1 -name 'log.*' | wc -l)
	((logs >= 1 && logs <= 4)) || fail "$logs log files in the store: $(ls -l "$KV_STORE")"
	kv_cgi GET /cgi.ck7
	assert_equal "$code" 200
	assert_equal "${#body}" 60002
}
