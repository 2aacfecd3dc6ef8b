bats_require_minimum_version 1.7.0
load '../lib/helper'
setup_file() { kv_setup_file; }
teardown_file() { kv_teardown_file; }

# kvd writes one line to stderr per failed request and per start-up, which
# every web server keeps in its error log (KV_LOG here), and sends the
# request id back as X-Request-Id. A successful request leaves no line, and
# neither the Authorization header nor the query string reaches the log.

# log_count ID: how many lines of the server's log hold "id=ID ". kvd writes
# the line before it answers, but give a slow log writer a moment.
log_count() {
	local n tries=0
	while :; do
		n=$(grep -cF -- "id=$1 " "$KV_LOG") || true
		((n > 0 || tries++ >= 20)) && break
		sleep 0.1
	done
	echo "$n"
}

# a fresh id for one test, so lines of other tests cannot match
fresh_id() { echo "t$BATS_TEST_NUMBER-$RANDOM$RANDOM"; }

@test "(log) kvd says when it starts" {
	run kv_log_contains 'kvd\[[0-9]+\]: started: kv [0-9.]+, FastCGI'
	assert_success
}

@test "(log) a failed request leaves exactly one line with its request id" {
	local id
	id=$(fresh_id)
	kv_req GET /log.no.such.key -H "X-Request-Id: $id"
	assert_error 404 not_found
	assert_equal "$(kv_header X-Request-Id)" "$id"
	assert_equal "$(log_count "$id")" 1
	run kv_log_contains "id=$id 404 not_found: GET /kv/log.no.such.key: "
	assert_success
}

@test "(log) every kind of failure is logged once: 400, 405, 412, 413" {
	local id
	id=$(fresh_id)
	kv_put /log.bad '{"value": 1, "extra": 2}' -H "X-Request-Id: $id-a"
	assert_error 400 invalid_body
	kv_req PATCH /log.bad -H "X-Request-Id: $id-b"
	assert_error 405 method_not_allowed
	kv_put /log.bad '{"value": 1}' -H 'If-Match: "00000000000000000001"' -H "X-Request-Id: $id-c"
	assert_error 412 precondition_failed
	head -c $((2 * 1024 * 1024)) /dev/zero >"$BATS_TEST_TMPDIR/big"
	kv_req PUT /log.bad --data-binary @"$BATS_TEST_TMPDIR/big" -H "X-Request-Id: $id-d"
	assert_error 413 body_too_large
	local suffix
	for suffix in a b c d; do
		assert_equal "$(log_count "$id-$suffix")" 1
	done
}

@test "(log) without a usable X-Request-Id an id is made, sent back and logged" {
	local sent got
	for sent in '' 'has space' "$(printf 'x%.0s' {1..65})" 'quote"d'; do
		if [[ -z "$sent" ]]; then
			kv_req GET /log.made.id
		else
			kv_req GET /log.made.id -H "X-Request-Id: $sent"
		fi
		assert_error 404 not_found
		got=$(kv_header X-Request-Id)
		assert_regex "$got" '^[0-9a-f]{16,32}$'
		assert_equal "$(log_count "$got")" 1
	done
}

@test "(log) a successful request carries an id and leaves no line" {
	local id
	id=$(fresh_id)
	kv_put /log.ok '{"value": true}' -H "X-Request-Id: $id"
	assert_code 200
	assert_equal "$(kv_header X-Request-Id)" "$id"
	kv_req GET /log.ok -H "X-Request-Id: $id"
	assert_code 200
	assert_equal "$(kv_header X-Request-Id)" "$id"
	sleep 0.5
	assert_equal "$(grep -cF -- "id=$id " "$KV_LOG")" 0
}

@test "(log) no token, Authorization header or query string reaches the log" {
	local id secret=Sekr1tToken$RANDOM
	id=$(fresh_id)
	kv_req GET "/log.none?list=maybe&cursor=q$secret" -H "Authorization: Bearer $secret" \
		-H "X-Request-Id: $id"
	assert_error 400 invalid_query
	assert_equal "$(log_count "$id")" 1
	run grep -F -- "$secret" "$KV_LOG"
	assert_failure
}
