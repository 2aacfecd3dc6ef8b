bats_require_minimum_version 1.7.0
load '../lib/helper'

# The bad-input battery: no request, however malformed, may crash a
# process, hang, or change the store. Each test sends bad input, asserts
# the exact status and error code (the program's, or the web server's own
# answer where it answers before the program sees the request), and then
# that the store is exactly what it was: every key, value, versionstamp
# and expiry, as the root list shows them. Run once per server by
# tests/lighttpd.test, tests/apache.test, tests/apache-proxy.test and
# tests/nginx.test, and against the sanitizer
# build by script/sanitize. The last test checks that every process still
# serves and that none died on the way.

server() { echo "${KV_TEST_SERVER:-lighttpd}"; }

# no_answer_pinned: fail a test that has no expectation for this server.
no_answer_pinned() { fail "no answer pinned for $(server)"; }

# kvd_pids: the kvd processes of this file's server, one pid a line.
kvd_pids() {
	pgrep -g "$KV_SERVER_PID" -x kvd | sort
}

setup_file() {
	kv_setup_file
	local k
	for k in sentinel.a sentinel.b 'sentinel.é' battery.x; do
		curl -sS --max-time 20 -o /dev/null -X PUT "$KV_URL/$k" \
			--data-binary '{"value": {"n": [1, 2.50, "three"], "s": "kept"}}'
	done
	curl -sS --max-time 20 -o /dev/null -X PUT "$KV_URL/sentinel.ttl" \
		--data-binary '{"value": true, "ttl": 86400000}'
	# Enough requests at once that every FastCGI process has started
	# (Apache's mod_fcgid starts them on demand), then remember them.
	seq 1 40 | xargs -P 8 -I{} curl -sS --max-time 20 -o /dev/null "$KV_URL/sentinel.a"
	kvd_pids >"$BATS_FILE_TMPDIR/pids.before"
}
teardown_file() { kv_teardown_file; }

# snapshot: the whole store, as the root list shows it.
snapshot() {
	curl -sS --max-time 20 "$KV_URL/?list=true"
}

setup() {
	before=$(snapshot)
	[[ "$before" == *sentinel.a* ]] || fail "no snapshot of the store: $before"
}

# assert_unchanged: the store is exactly as setup() saw it.
assert_unchanged() {
	local after
	after=$(snapshot)
	assert_equal "$after" "$before"
}

# assert_unchanged_but KEY: only KEY differs from what setup() saw.
assert_unchanged_but() {
	local filter='.entries | map(select(.key != $k))' after
	after=$(snapshot)
	assert_equal "$(jq -c --arg k "$1" "$filter" <<<"$after")" \
		"$(jq -c --arg k "$1" "$filter" <<<"$before")"
}

# raw_request WAIT TEXT: send TEXT (printf %b escapes) on a new connection
# and read what comes back for at most WAIT seconds. Sets raw (the answer,
# CR removed) and raw_code (its status, 0 when none came). curl cannot send
# a Content-Length that lies; bash's /dev/tcp can.
raw_request() {
	local wait=$1 text=$2 out=$BATS_TEST_TMPDIR/raw sock
	# Not fd 3: bats reports through it.
	exec {sock}<>"/dev/tcp/127.0.0.1/$KV_PORT"
	# A server may answer and close before it has read all of TEXT (nginx
	# does, on a second Content-Length): the rest then fails to send, and
	# SIGPIPE must not end the test.
	(
		trap '' PIPE
		printf '%b' "$text" >&"$sock"
	) 2>/dev/null || true
	timeout "$wait" cat <&"$sock" >"$out" || true
	exec {sock}<&-
	raw=$(tr -d '\r' <"$out")
	raw_code=$(sed -n '1s/^HTTP\/1\.[01] \([0-9][0-9][0-9]\).*/\1/p' <<<"$raw")
	raw_code=${raw_code:-0}
	printf '< %s\n%s\n' "$raw_code" "$raw"
}

# raw_body: the body of the last raw_request (after the blank line).
raw_body() {
	awk 'found { print } /^$/ { found = 1 }' <<<"$raw"
}

# ---------------------------------------------------------------------------
# Paths

@test "(bad input) invalid UTF-8 and control bytes in the path are 400 invalid_key on every method" {
	local path method methods
	for path in /a%FFb /a%C3 /%C0%AF /a.%ED%A0%80 /%F4%90%80%80 /a%01b /a%7Fb \
		/a%0D%0Ab /a%1B%5B31m /sentinel.%E9; do
		methods=PUT
		[[ $path == /sentinel.%E9 || $path == /a%0D%0Ab ]] && methods='GET HEAD PUT DELETE'
		for method in $methods; do
			if [[ $method == PUT ]]; then
				kv_put "$path" '{"value": 1}'
			else
				kv_req "$method" "$path"
			fi
			if [[ $method == HEAD ]]; then
				assert_code 400
			else
				assert_error 400 invalid_key
			fi
		done
	done
	kv_req GET "/sentinel.%FF?list=true"
	assert_error 400 invalid_key
	assert_unchanged
}

@test "(bad input) an encoded NUL in the path: the program's 400 invalid_key, Apache's own 404" {
	kv_put /sentinel.a%00b '{"value": 1}'
	case $(server) in
	lighttpd) assert_error 400 invalid_key ;;
	apache | apache-proxy) assert_error 404 not_found ;;
	nginx) assert_error 400 bad_request ;;
	*) no_answer_pinned ;;
	esac
	assert_unchanged
}

@test "(bad input) a keypath of 100,000 segments is the server's own 414 or 431" {
	local path
	# 200 KB: more than one argument of curl may hold, so a raw request.
	path=/kv/$(printf 'a.%.0s' $(seq 1 99999))a
	raw_request 10 "PUT $path HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 12\r\n\r\n{\"value\": 1}"
	case $(server) in
	lighttpd) assert_equal "$raw_code" 431 ;;
	apache | apache-proxy | nginx) assert_equal "$raw_code" 414 ;;
	*) no_answer_pinned ;;
	esac
	assert_equal "$(raw_body | jq -c '.error.status')" "$raw_code"
	assert_unchanged
}

@test "(bad input) 1,025 segments (2,049 bytes) are 400 invalid_key, 1,024 are a key" {
	local path
	path=/$(printf 'a.%.0s' $(seq 1 1024))a
	kv_put "$path" '{"value": 1}'
	assert_error 400 invalid_key
	assert_unchanged
	path=/$(printf 'a.%.0s' $(seq 1 1023))a
	kv_put "$path" '{"value": 1}'
	assert_code 200
	kv_req DELETE "$path"
	assert_code 200
	assert_json '.deleted' true
	# Two writes were made: the same entries, the store's versionstamp
	# two further on.
	assert_equal "$(snapshot | jq -c .entries)" "$(jq -c .entries <<<"$before")"
	assert_equal "$(snapshot | jq -r .versionstamp)" \
		"$(printf '%020x' $((16#$(jq -r .versionstamp <<<"$before") + 2)))"
}

# ---------------------------------------------------------------------------
# Bodies

@test "(bad input) NUL bytes in the body are 400 invalid_json" {
	local b
	for b in '{"value": "a\0b"}' '{"value": 1}\0' '\0{"value": 1}' '{"value"\0: 1}' '{"value": 1, "ttl": 1\0}'; do
		printf "$b" >"$BATS_TEST_TMPDIR/nul.json"
		kv_req PUT /sentinel.a --data-binary "@$BATS_TEST_TMPDIR/nul.json"
		assert_error 400 invalid_json
	done
	assert_unchanged
}

@test "(bad input) JSON nested 100,000 deep is 400 invalid_json, objects and arrays" {
	{
		printf '{"value":'
		for _ in $(seq 1 10); do head -c 10000 /dev/zero | sed 's/\x0/{"a":/g'; done
		printf '1'
		head -c 100000 /dev/zero | tr '\0' '}'
		printf '}'
	} >"$BATS_TEST_TMPDIR/deep.json"
	kv_req PUT /sentinel.a --data-binary "@$BATS_TEST_TMPDIR/deep.json"
	assert_error 400 invalid_json
	# the body itself nested: no "value" member at the top
	head -c 100000 /dev/zero | tr '\0' '[' >"$BATS_TEST_TMPDIR/open.json"
	kv_req PUT /sentinel.a --data-binary "@$BATS_TEST_TMPDIR/open.json"
	assert_error 400 invalid_json
	assert_unchanged
}

@test "(bad input) a 10 MiB body is 413 body_too_large" {
	{
		printf '{"value":"'
		head -c $((10 * 1024 * 1024)) /dev/zero | tr '\0' 'x'
		printf '"}'
	} >"$BATS_TEST_TMPDIR/big.json"
	kv_req PUT /sentinel.a --data-binary "@$BATS_TEST_TMPDIR/big.json"
	assert_error 413 body_too_large
	kv_req PUT /big.new --data-binary "@$BATS_TEST_TMPDIR/big.json"
	assert_error 413 body_too_large
	assert_unchanged
}

@test "(bad input) a Content-Length shorter than the body: the program reads only that much" {
	raw_request 10 "PUT /kv/sentinel.a HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 5\r\n\r\n{\"value\": 1}"
	assert_equal "$raw_code" 400
	assert_equal "$(raw_body | jq -c '.error | [.status, .code]')" '[400,"invalid_json"]'
	assert_unchanged
}

@test "(bad input) a Content-Length longer than the body: no answer, nothing written, the connection ends" {
	raw_request 2 "PUT /kv/sentinel.a HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{\"value\": 1}"
	# The server waits for the rest of the body; the client goes away.
	assert_equal "$raw_code" 0
	assert_unchanged
}

@test "(bad input) a Content-Length that is not a number is the server's own 400" {
	local cl
	for cl in abc -1 1e3 ' 12 13' 99999999999999999999999; do
		raw_request 10 "PUT /kv/sentinel.a HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: $cl\r\n\r\n{\"value\": 1}"
		assert_equal "$raw_code" 400
		assert_equal "$(raw_body | jq -c '.error.status')" "$raw_code"
	done
	assert_unchanged
}

@test "(bad input) two different Content-Lengths are the server's own 400" {
	raw_request 10 "PUT /kv/sentinel.a HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 12\r\nContent-Length: 5\r\n\r\n{\"value\": 1}"
	assert_equal "$raw_code" 400
	assert_unchanged
}

@test "(bad input) numbers like 1e999999 and -0 are stored as written" {
	local v
	for v in 1e999999 -1E+999999 1e-999999 -0 -0.0e-0 123456789012345678901234567890; do
		kv_put /numbers.n "{\"value\": $v}"
		assert_code 200
		kv_req GET /numbers.n
		assert_code 200
		assert_equal "$body" "$v"
		kv_req GET '/numbers?list=true'
		assert_code 200
		[[ "$body" == "{\"entries\":[{\"key\":\"numbers.n\",\"value\":$v,"* ]] ||
			fail "the list does not show the value $v as written"
		assert_unchanged_but numbers.n
	done
}

@test "(bad input) numbers like 1e999999 and -0 are not a ttl: 400 invalid_ttl" {
	local t key=/sentinel.a
	for t in 1e999999 -0 0 -1 1.0 1e300 9223372036854775807 18446744073709551616 \
		9007199254740991 '"60000"' true '{}'; do
		# an existing key and a new one in turn
		kv_put "$key" "{\"value\": 2, \"ttl\": $t}"
		assert_error 400 invalid_ttl
		[[ $key == /sentinel.a ]] && key=/battery.ttl || key=/sentinel.a
	done
	assert_unchanged
}

@test "(bad input) duplicate members of the body are 400 invalid_body" {
	local b
	for b in '{"value": 1, "value": 2}' '{"value": 1, "ttl": 5000, "ttl": 6000}' \
		'{"value": 1, "valu\u0065": 2}' '{"ttl": null, "value": 1, "ttl": null}'; do
		kv_put /sentinel.a "$b"
		assert_error 400 invalid_body
	done
	assert_unchanged
}

@test "(bad input) duplicate keys inside a value come back as they went in" {
	local v='{"a": 1, "a": 2, "b": {"c": [], "c": {}}}'
	kv_put /battery.dup "{\"value\": $v}"
	assert_code 200
	kv_req GET /battery.dup
	assert_code 200
	assert_equal "$body" "$v"
	kv_req GET '/battery.dup?list=false'
	assert_equal "$body" "$v"
	assert_unchanged_but battery.dup
}

@test "(bad input) a body of [], \"value\" or any other non-object is 400 invalid_body" {
	local b
	for b in '[]' '"value"' 'null' '[{"value": 1}]' '{}' '{"ttl": 1000}' '{"Value": 1}'; do
		kv_put /sentinel.a "$b"
		assert_error 400 invalid_body
	done
	for b in '' 'value' '{"value": 1' '{"value": 1} {}' "{'value': 1}" '{"value": NaN}' \
		'{"value": "\ud800"}' '{"value": 1,}'; do
		kv_put /sentinel.a "$b"
		assert_error 400 invalid_json
	done
	assert_unchanged
}

@test "(bad input) a bad atomic commit is 400 and writes nothing" {
	local b many
	# A check without a versionstamp once did arithmetic on a null pointer
	# (fuzzing found it).
	for b in '{"checks": [{"key": "sentinel.a"}]}' '[]' '"value"' '{"mutations": {}}' \
		'{"checks": [{"key": "sentinel.a", "versionstamp": "zz"}]}' \
		'{"mutations": [{"type": "frob", "key": "sentinel.a", "value": 1}]}' \
		'{"mutations": [{"type": "set", "key": "sentinel.a"}]}' \
		'{"mutations": [{"type": "sum", "key": "sentinel.a", "value": 1e999999}]}' \
		'{"mutations": [{"type": "set", "key": "sentinel.a", "value": 1, "value": 2}]}' \
		'{"mutations": [{"type": "set", "key": "sentinel.a", "value": 1, "ttl": 1e300}]}' \
		'{"mutations": [{"type": "set", "key": "sentinel.a", "value": 1}], "mutations": []}'; do
		kv_req POST / --data-binary "$b"
		assert_error 400 "$(case $b in
			*ttl*) echo invalid_ttl ;;
			*) echo invalid_body ;;
			esac)"
	done
	kv_req POST / --data-binary '{"mutations": [{"type": "set", "key": "sentinel.%FF", "value": 1}, {"type": "delete", "key": "a..b"}]}'
	assert_error 400 invalid_key
	many=$(printf '{"type": "delete", "key": "sentinel.a"},%.0s' $(seq 1 1001))
	kv_req POST / --data-binary "{\"mutations\": [${many%,}]}"
	assert_error 400 too_many_operations
	printf '{"mutations": [{"type": "set", "key": "sentinel.a", "value": "a\0b"}]}' >"$BATS_TEST_TMPDIR/nul.json"
	kv_req POST / --data-binary "@$BATS_TEST_TMPDIR/nul.json"
	assert_error 400 invalid_json
	{
		printf '{"mutations": [{"type": "set", "key": "sentinel.a", "value": '
		head -c 100000 /dev/zero | tr '\0' '['
	} >"$BATS_TEST_TMPDIR/deep.json"
	kv_req POST / --data-binary "@$BATS_TEST_TMPDIR/deep.json"
	assert_error 400 invalid_json
	assert_unchanged
}

@test "(bad input) bad subtree requests are 400, 405 or 413 and touch nothing" {
	local b q
	for b in '[]' '{"keys": {}}' '{"keys": [1]}' '{"keys": ["sentinel.a"], "x": 1}' \
		'{"keys": ["sentinel.a"], "keys": []}' '{"keys": [null]}'; do
		kv_req POST '/?read=true' --data-binary "$b"
		assert_error 400 invalid_body
	done
	kv_req POST '/?read=true' --data-binary '{"keys": ["sentinel.%FF", "a..b"]}'
	assert_error 400 invalid_key
	kv_req POST '/?read=true' --data-binary "$(jq -nc '{keys: [range(101) | "sentinel.a"]}')"
	assert_error 400 too_many_operations
	{
		printf '{"keys": '
		head -c 100000 /dev/zero | tr '\0' '['
	} >"$BATS_TEST_TMPDIR/deep.json"
	kv_req POST '/?read=true' --data-binary "@$BATS_TEST_TMPDIR/deep.json"
	assert_error 400 invalid_json
	{
		printf '{"keys": ["'
		head -c $((10 * 1024 * 1024)) /dev/zero | tr '\0' 'x'
		printf '"]}'
	} >"$BATS_TEST_TMPDIR/big.json"
	kv_req POST '/?read=true' --data-binary "@$BATS_TEST_TMPDIR/big.json"
	assert_error 413 body_too_large
	for q in recurse=2 recurse= recurse=TRUE; do
		kv_req DELETE "/sentinel?$q"
		assert_error 400 invalid_query
	done
	kv_req DELETE '/sentinel?recurse=true' -H 'If-Match: garbage'
	assert_error 400 invalid_query
	kv_req DELETE '/?recurse=true'
	assert_error 405 method_not_allowed
	for q in depth=2 depth=-1 depth= depth=1.0 'depth=1%00'; do
		kv_req GET "/sentinel?list=true&$q"
		assert_error 400 invalid_query
	done
	assert_unchanged
}

# ---------------------------------------------------------------------------
# Methods

@test "(bad input) unknown methods are 405, or the server's own 501 or 400" {
	local m
	for m in PATCH OPTIONS PROPFIND LOCK POST; do
		kv_put /sentinel.a '{"value": 1}' -X "$m"
		assert_error 405 method_not_allowed
		assert_regex "$(kv_header Allow)" 'GET'
	done
	for m in FOO get X-DELETE; do
		kv_put /sentinel.a '{"value": 1}' -X "$m"
		case $(server) in
		lighttpd)
			assert_code 501
			assert_json '.error.status' 501
			;;
		apache | apache-proxy) assert_error 405 method_not_allowed ;;
		nginx)
			# nginx refuses a method in lower case itself.
			if [[ $m == get ]]; then
				assert_error 400 bad_request
			else
				assert_error 405 method_not_allowed
			fi
			;;
		*) no_answer_pinned ;;
		esac
	done
	assert_unchanged
}

# ---------------------------------------------------------------------------
# Query strings

@test "(bad input) a query string of 100 KiB is the server's own 414 or 431" {
	local q
	q=$(head -c $((100 * 1024)) /dev/zero | tr '\0' 'q')
	kv_req GET "/sentinel?list=true&x=$q"
	case $(server) in
	lighttpd) assert_code 431 ;;
	apache | apache-proxy | nginx) assert_code 414 ;;
	*) no_answer_pinned ;;
	esac
	assert_json '.error.status' "$code"
	kv_put "/sentinel.a?x=$q" '{"value": 1}'
	case $(server) in
	lighttpd) assert_code 431 ;;
	apache | apache-proxy | nginx) assert_code 414 ;;
	*) no_answer_pinned ;;
	esac
	assert_unchanged
}

@test "(bad input) a long query string under the server's limit reaches the program" {
	local q
	# 7,000 bytes of empty parameters, names without values and escapes
	q=$(printf '&&x&%%41=%%42&y%.0s' $(seq 1 350))
	kv_req GET "/sentinel?${q}&list=true"
	assert_code 200
	assert_json '.entries | length' 4
	kv_req GET "/sentinel?${q}&list=true&limit=%zz"
	assert_error 400 invalid_query
	assert_unchanged
}

@test "(bad input) a parameter without = at the end of the query is accepted" {
	# It once wrote one byte past the decoding buffer (fuzzing found it).
	kv_req GET '/sentinel.a?list'
	assert_error 400 invalid_query
	kv_req GET '/sentinel.a?x'
	assert_code 200
	kv_req GET '/sentinel?list=true&reverse'
	assert_error 400 invalid_query
	kv_req GET '/sentinel?list=true&y'
	assert_code 200
	assert_unchanged
}

@test "(bad input) limit=-1 and other bad limits are 400 invalid_query" {
	local l
	for l in -1 -0 0 1001 +5 5%00 1e3 18446744073709551617; do
		kv_req GET "/sentinel?list=true&limit=$(jq -rn --arg v "$l" '$v | @uri')"
		assert_error 400 invalid_query
	done
	assert_unchanged
}

@test "(bad input) a forged or truncated cursor is 400 invalid_query" {
	local c bad long
	kv_req GET '/sentinel?list=true&limit=1'
	assert_code 200
	c=$(jq -r .cursor <<<"$body")
	long=$(printf '61%.0s' $(seq 1 2049))
	for bad in '' "${c:0:${#c}-1}" "${c}00" "00$c" 73656e74696e656c 73656e74696e656c2e2e61 \
		73656e74696e656cff61 62617474657279 "$long" %00; do
		kv_req GET "/sentinel?list=true&limit=1&cursor=$(jq -rn --arg v "$bad" '$v | @uri')"
		assert_error 400 invalid_query
	done
	kv_req GET '/sentinel?list=true&limit=1&cursor=%zz'
	assert_error 400 invalid_query
	assert_unchanged
}

# ---------------------------------------------------------------------------
# Conditional headers

# garbage: entity-tag headers that are not entity tags, one a line.
garbage_tags() {
	printf '%s\n' '"' '"abc' 'W/"' '*,*' '""' ',,,' '"0000000000000000000g"' \
		'"000000000000000000001"' '00000000000000000001' "W/\"$(printf '0%.0s' $(seq 1 20))" \
		"$(printf '"x", %.0s' $(seq 1 500))" $'\xff\xfe' 'é' '* "a"' \
		"$(head -c 6000 /dev/zero | tr '\0' '"')"
}

@test "(bad input) a garbage If-Match fails every write with 412" {
	local tag n=0
	while IFS= read -r tag; do
		# a write and a delete in turn
		if ((n++ % 2 == 0)); then
			kv_put /sentinel.a '{"value": 2}' -H "If-Match: $tag"
		else
			kv_req DELETE /sentinel.b -H "If-Match: $tag"
		fi
		assert_error 412 precondition_failed
	done < <(garbage_tags)
	kv_put /battery.absent '{"value": 2}' -H 'If-Match: "'
	assert_error 412 precondition_failed
	assert_unchanged
}

@test "(bad input) a garbage If-None-Match never turns a GET into a 304" {
	local tag
	while IFS= read -r tag; do
		kv_req GET /sentinel.a -H "If-None-Match: $tag"
		assert_code 200
		assert_json '.s' '"kept"'
	done < <(garbage_tags)
	kv_req GET /battery.absent -H 'If-None-Match: "'
	assert_error 404 not_found
	assert_unchanged
}

@test "(bad input) garbage in the conditional headers the service does not use changes nothing" {
	local h
	for h in If-Modified-Since If-Unmodified-Since If-Range; do
		kv_req GET /sentinel.a -H "$h: not a date"
		assert_code 200
		assert_json '.s' '"kept"'
		kv_req GET /sentinel.a -H "$h: Thu, 01 Jan 1970 00:00:00 GMT"
		assert_code 200
		kv_req DELETE /battery.absent -H "$h: $(head -c 5000 /dev/zero | tr '\0' '9')"
		assert_code 200
		assert_json '.deleted' false
	done
	assert_unchanged
}

# ---------------------------------------------------------------------------
# After the battery

@test "(bad input) afterwards every process still serves and none died" {
	local codes
	codes=$(seq 1 200 | xargs -P 8 -I{} curl -sS --max-time 20 -o /dev/null -w '%{http_code}\n' \
		"$KV_URL/sentinel.a" | sort | uniq -c | awk '{ print $2 ":" $1 }')
	assert_equal "$codes" "200:200"
	kvd_pids >"$BATS_FILE_TMPDIR/pids.after"
	# Every process of the start is still there (Apache may have started
	# more; lighttpd keeps exactly its own).
	run comm -23 "$BATS_FILE_TMPDIR/pids.before" "$BATS_FILE_TMPDIR/pids.after"
	assert_output ''
	[[ -s "$BATS_FILE_TMPDIR/pids.before" ]] || fail "no kvd process was found"
	if [[ $(server) == lighttpd ]]; then
		assert_equal "$(cat "$BATS_FILE_TMPDIR/pids.after")" "$(cat "$BATS_FILE_TMPDIR/pids.before")"
	fi
	run kv_log_contains 'child (exited|signaled)|process died|terminated by|exit\(communication error\)|[Ss]egmentation|AddressSanitizer|runtime error'
	assert_failure
	assert_unchanged
}
