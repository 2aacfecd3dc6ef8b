bats_require_minimum_version 1.7.0
load '../lib/helper'
setup_file() { kv_setup_file; }
teardown_file() { kv_teardown_file; }

# Expiry: expiresAt, KV-Expires-At, and an expired key being gone for every
# reader and every check. No fixed sleeps: wait for the clock, then poll.

now_ms() { date +%s%3N; }

# put_ttl PATH JSON: PUT and check expiresAt against the clock around it;
# leaves expiresAt in $exp and the versionstamp in $vs.
put_ttl() {
	local ttl t0 t1
	ttl=$(jq -r .ttl <<<"$2")
	t0=$(now_ms)
	kv_put "$1" "$2"
	t1=$(now_ms)
	assert_code 200
	assert_json '.expiresAt | type' '"number"'
	exp=$(jq -r .expiresAt <<<"$body")
	vs=$(jq -r .versionstamp <<<"$body")
	if ((exp < t0 + ttl - 2000 || exp > t1 + ttl + 2000)); then
		fail "expiresAt $exp is not about now+$ttl (clock $t0..$t1)"
	fi
}

# wait_expired PATH EXP: wait until the clock passes EXP, then GET PATH,
# which must be 404 at once (the contract: an expired key is gone for
# every reader as soon as it expires; the server reads the same clock),
# and leave the 404 response in the globals.
wait_expired() {
	local path=$1 exp=$2
	while (($(now_ms) <= exp)); do sleep 0.05; done
	kv_req GET "$path" >/dev/null
	[[ $code == 404 ]] || fail "$path was $code after its expiresAt $exp"
}

# before EXP: true when the answer just read came back before EXP, so
# that the key was live when the server read it. A slow machine may
# answer after EXP, and then what a live key shows cannot be asked for.
before() { (($(now_ms) < $1)); }

@test "(ttl) expiresAt is commit time plus ttl and GET shows it in KV-Expires-At" {
	local exp vs
	put_ttl /t.hdr '{"value":"soon","ttl":600000}'
	assert_equal "$(kv_header ETag)" "\"$vs\""
	kv_req GET /t.hdr
	assert_code 200
	assert_equal "$body" '"soon"'
	assert_equal "$(kv_header KV-Expires-At)" "$exp"
	assert_equal "$(kv_header ETag)" "\"$vs\""
	kv_req HEAD /t.hdr
	assert_code 200
	assert_equal "$(kv_header KV-Expires-At)" "$exp"
}

@test "(ttl) a list shows expiresAt of a key with a ttl" {
	local exp vs
	put_ttl /tl.a '{"value":1,"ttl":600000}'
	kv_put /tl.b '{"value":2}'
	kv_req GET '/tl?list=true'
	assert_code 200
	assert_json '[.entries[] | {key, expiresAt}]' "[{\"key\":\"tl.a\",\"expiresAt\":$exp},{\"key\":\"tl.b\",\"expiresAt\":null}]"
	kv_req GET '/tl?list=true&values=false'
	assert_code 200
	assert_json '.entries[0].expiresAt' "$exp"
}

@test "(ttl) a long ttl of one year is accepted" {
	local exp vs
	put_ttl /t.year '{"value":1,"ttl":31536000000}'
	kv_req GET /t.year
	assert_code 200
	assert_equal "$(kv_header KV-Expires-At)" "$exp"
}

@test "(ttl) an expired key is 404 on GET and HEAD" {
	local exp vs
	put_ttl /t.get '{"value":"brief","ttl":1500}'
	kv_req GET /t.get
	if before "$exp"; then assert_code 200; fi
	wait_expired /t.get "$exp"
	assert_error 404 not_found
	assert_json '.error.message' '"no such key: t.get"'
	kv_req HEAD /t.get
	assert_code 404
	assert_equal "$body" ''
	kv_req GET /t.get -H "If-None-Match: \"$vs\""
	assert_error 404 not_found
}

@test "(ttl) an expired key is left out of lists" {
	local exp vs
	put_ttl /tx.gone '{"value":1,"ttl":1500}'
	kv_put /tx.stays '{"value":2}'
	kv_req GET '/tx?list=true'
	assert_code 200
	if before "$exp"; then assert_json '[.entries[].key]' '["tx.gone","tx.stays"]'; fi
	wait_expired /tx.gone "$exp"
	kv_req GET '/tx?list=true'
	assert_code 200
	assert_json '[.entries[].key]' '["tx.stays"]'
	kv_req GET '/tx?list=true&reverse=true&values=false'
	assert_code 200
	assert_json '[.entries[].key]' '["tx.stays"]'
	kv_req GET '/?list=true'
	assert_code 200
	assert_json '[.entries[].key | select(. == "tx.gone")]' '[]'
}

@test "(ttl) deleting an expired key answers deleted false" {
	local exp vs
	put_ttl /t.del '{"value":1,"ttl":1500}'
	wait_expired /t.del "$exp"
	kv_req DELETE /t.del
	assert_code 200
	assert_json '{key, deleted}' '{"key":"t.del","deleted":false}'
}

@test "(ttl) an expired key counts as absent for conditional writes" {
	local exp vs
	put_ttl /t.cond '{"value":"old","ttl":1500}'
	wait_expired /t.cond "$exp"
	# If-Match with the old versionstamp or * no longer matches
	kv_put /t.cond '{"value":"x"}' -H "If-Match: \"$vs\""
	assert_error 412 precondition_failed
	kv_put /t.cond '{"value":"x"}' -H 'If-Match: *'
	assert_error 412 precondition_failed
	kv_req DELETE /t.cond -H 'If-Match: *'
	assert_error 412 precondition_failed
	kv_req GET /t.cond
	assert_error 404 not_found
	# If-None-Match: * succeeds and the new key has no expiry
	kv_put /t.cond '{"value":"new"}' -H 'If-None-Match: *'
	assert_code 200
	assert_json '.expiresAt' 'null'
	kv_req GET /t.cond
	assert_code 200
	assert_equal "$body" '"new"'
	assert_equal "$(kv_header KV-Expires-At)" ''
}

@test "(ttl) overwriting without a ttl removes the expiry" {
	local exp vs
	put_ttl /t.keep '{"value":"v1","ttl":1500}'
	kv_put /t.keep '{"value":"v2"}'
	assert_code 200
	assert_json '.expiresAt' 'null'
	kv_req GET /t.keep
	assert_code 200
	assert_equal "$(kv_header KV-Expires-At)" ''
	while (($(now_ms) <= exp + 300)); do sleep 0.05; done
	kv_req GET /t.keep
	assert_code 200
	assert_equal "$body" '"v2"'
	kv_req GET '/t?list=true'
	assert_json '[.entries[].key | select(. == "t.keep")]' '["t.keep"]'
}

@test "(ttl) overwriting with a longer ttl moves the expiry" {
	local exp vs old
	put_ttl /t.move '{"value":"v1","ttl":1500}'
	old=$exp
	put_ttl /t.move '{"value":"v2","ttl":600000}'
	kv_req GET /t.move
	assert_equal "$(kv_header KV-Expires-At)" "$exp"
	while (($(now_ms) <= old + 300)); do sleep 0.05; done
	kv_req GET /t.move
	assert_code 200
	assert_equal "$body" '"v2"'
	assert_equal "$(kv_header KV-Expires-At)" "$exp"
}
