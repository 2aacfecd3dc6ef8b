bats_require_minimum_version 1.7.0
load '../lib/helper'
setup_file() { kv_setup_file; }
teardown_file() { kv_teardown_file; }

# Conditional requests: If-None-Match on GET/HEAD, If-Match and
# If-None-Match: * on PUT, If-Match on DELETE. A 412 writes nothing.

# put_vs PATH JSON: PUT and leave the new versionstamp in $vs.
put_vs() {
	kv_put "$1" "$2"
	assert_code 200
	vs=$(jq -r .versionstamp <<<"$body")
	assert_regex "$vs" '^[0-9a-f]{20}$'
}

# assert_value PATH VALUE VS: GET PATH is 200 with VALUE and ETag "VS".
assert_value() {
	kv_req GET "$1"
	assert_code 200
	assert_equal "$body" "$2"
	assert_equal "$(kv_header ETag)" "\"$3\""
}

@test "(GET) If-None-Match with the current versionstamp is 304 without a body" {
	local vs
	put_vs /inm.a '{"value":{"x":1}}'
	kv_req GET /inm.a -H "If-None-Match: \"$vs\""
	assert_code 304
	assert_equal "$body" ''
	assert_equal "$(kv_header ETag)" "\"$vs\""
	assert_equal "$(kv_header Cache-Control)" 'no-store'
}

@test "(GET) If-None-Match with a list containing the versionstamp is 304" {
	local vs
	put_vs /inm.list '{"value":2}'
	kv_req GET /inm.list -H "If-None-Match: \"00000000000000000000\", \"$vs\""
	assert_code 304
	assert_equal "$body" ''
	kv_req GET /inm.list -H "If-None-Match: \"$vs\",\"x\""
	assert_code 304
	assert_equal "$body" ''
}

@test "(GET) If-None-Match: * on an existing key is 304" {
	local vs
	put_vs /inm.star '{"value":3}'
	kv_req GET /inm.star -H 'If-None-Match: *'
	assert_code 304
	assert_equal "$body" ''
}

@test "(GET) a non-matching If-None-Match is 200 with the value" {
	local vs old
	put_vs /inm.stale '{"value":"v1"}'
	old=$vs
	put_vs /inm.stale '{"value":"v2"}'
	kv_req GET /inm.stale -H "If-None-Match: \"$old\""
	assert_code 200
	assert_equal "$body" '"v2"'
	assert_equal "$(kv_header ETag)" "\"$vs\""
}

@test "(GET) a garbage If-None-Match is 200 with the value" {
	local vs
	put_vs /inm.garbage '{"value":"g"}'
	local h
	for h in 'garbage' "$vs" "\"$vs" '""' '"' ',' "W/\"x\""; do
		kv_req GET /inm.garbage -H "If-None-Match: $h"
		assert_code 200
		assert_equal "$body" '"g"'
	done
}

@test "(GET) If-None-Match on an absent key is 404 not_found" {
	kv_req GET /inm.absent -H 'If-None-Match: *'
	assert_error 404 not_found
	kv_req GET /inm.absent -H 'If-None-Match: "00000000000000000001"'
	assert_error 404 not_found
}

@test "(HEAD) If-None-Match with the current versionstamp is 304" {
	local vs
	put_vs /inm.head '{"value":4}'
	kv_req HEAD /inm.head -H "If-None-Match: \"$vs\""
	assert_code 304
	assert_equal "$body" ''
	kv_req HEAD /inm.head -H 'If-None-Match: "nope"'
	assert_code 200
	assert_equal "$body" ''
	assert_equal "$(kv_header ETag)" "\"$vs\""
}

@test "(PUT) If-Match with the current versionstamp writes" {
	local vs old
	put_vs /im.ok '{"value":"v1"}'
	old=$vs
	kv_put /im.ok '{"value":"v2"}' -H "If-Match: \"$old\""
	assert_code 200
	assert_json '.key' '"im.ok"'
	vs=$(jq -r .versionstamp <<<"$body")
	[[ "$vs" > "$old" ]] || fail "versionstamp $vs not above $old"
	assert_value /im.ok '"v2"' "$vs"
}

@test "(PUT) If-Match with a stale versionstamp is 412 and writes nothing" {
	local vs old
	put_vs /im.stale '{"value":"v1"}'
	old=$vs
	put_vs /im.stale '{"value":"v2"}'
	kv_put /im.stale '{"value":"v3"}' -H "If-Match: \"$old\""
	assert_error 412 precondition_failed
	assert_value /im.stale '"v2"' "$vs"
}

@test "(PUT) If-Match with a list containing the current versionstamp writes" {
	local vs
	put_vs /im.list '{"value":"v1"}'
	kv_put /im.list '{"value":"v2"}' -H "If-Match: \"00000000000000000000\", \"$vs\""
	assert_code 200
	vs=$(jq -r .versionstamp <<<"$body")
	assert_value /im.list '"v2"' "$vs"
}

@test "(PUT) If-Match: * writes when the key exists" {
	local vs
	put_vs /im.star '{"value":"v1"}'
	kv_put /im.star '{"value":"v2"}' -H 'If-Match: *'
	assert_code 200
	vs=$(jq -r .versionstamp <<<"$body")
	assert_value /im.star '"v2"' "$vs"
}

@test "(PUT) If-Match on an absent key is 412 and writes nothing" {
	kv_put /im.absent '{"value":1}' -H 'If-Match: *'
	assert_error 412 precondition_failed
	kv_put /im.absent '{"value":1}' -H 'If-Match: "00000000000000000001"'
	assert_error 412 precondition_failed
	kv_req GET /im.absent
	assert_error 404 not_found
}

@test "(PUT) a garbage If-Match never matches" {
	local vs h
	put_vs /im.garbage '{"value":"v1"}'
	for h in 'garbage' "$vs" "\"$vs" '""' "W/\"$vs\"" ','; do
		kv_put /im.garbage '{"value":"v2"}' -H "If-Match: $h"
		assert_error 412 precondition_failed
	done
	assert_value /im.garbage '"v1"' "$vs"
}

@test "(PUT) If-None-Match: * creates an absent key" {
	kv_put /inms.new '{"value":"fresh"}' -H 'If-None-Match: *'
	assert_code 200
	assert_json '.key' '"inms.new"'
	local vs
	vs=$(jq -r .versionstamp <<<"$body")
	assert_value /inms.new '"fresh"' "$vs"
}

@test "(PUT) If-None-Match: * on an existing key is 412 and writes nothing" {
	local vs
	put_vs /inms.exists '{"value":"kept"}'
	kv_put /inms.exists '{"value":"lost"}' -H 'If-None-Match: *'
	assert_error 412 precondition_failed
	assert_value /inms.exists '"kept"' "$vs"
}

@test "(PUT) If-None-Match: * after a delete creates the key again" {
	local vs
	put_vs /inms.del '{"value":1}'
	kv_req DELETE /inms.del
	assert_code 200
	kv_put /inms.del '{"value":2}' -H 'If-None-Match: *'
	assert_code 200
	vs=$(jq -r .versionstamp <<<"$body")
	assert_value /inms.del '2' "$vs"
}

@test "(PUT) a rejected If-Match leaves a key absent and other keys untouched" {
	local vs
	put_vs /im.side.a '{"value":"a"}'
	kv_put /im.side.b '{"value":"b"}' -H "If-Match: \"$vs\""
	assert_error 412 precondition_failed
	kv_req GET /im.side.b
	assert_error 404 not_found
	assert_value /im.side.a '"a"' "$vs"
}

@test "(DELETE) If-Match with the current versionstamp deletes" {
	local vs
	put_vs /dim.ok '{"value":1}'
	kv_req DELETE /dim.ok -H "If-Match: \"$vs\""
	assert_code 200
	assert_json '{key, deleted}' '{"key":"dim.ok","deleted":true}'
	kv_req GET /dim.ok
	assert_error 404 not_found
}

@test "(DELETE) If-Match with a stale versionstamp is 412 and deletes nothing" {
	local vs old
	put_vs /dim.stale '{"value":1}'
	old=$vs
	put_vs /dim.stale '{"value":2}'
	kv_req DELETE /dim.stale -H "If-Match: \"$old\""
	assert_error 412 precondition_failed
	assert_value /dim.stale '2' "$vs"
}

@test "(DELETE) If-Match: * deletes an existing key" {
	local vs
	put_vs /dim.star '{"value":1}'
	kv_req DELETE /dim.star -H 'If-Match: *'
	assert_code 200
	assert_json '.deleted' 'true'
	kv_req GET /dim.star
	assert_error 404 not_found
}

@test "(DELETE) If-Match on an absent key is 412" {
	kv_req DELETE /dim.absent -H 'If-Match: *'
	assert_error 412 precondition_failed
	kv_req DELETE /dim.absent -H 'If-Match: "00000000000000000001"'
	assert_error 412 precondition_failed
	kv_req GET /dim.absent
	assert_error 404 not_found
}

@test "(DELETE) a garbage If-Match never matches" {
	local vs
	put_vs /dim.garbage '{"value":1}'
	kv_req DELETE /dim.garbage -H "If-Match: $vs"
	assert_error 412 precondition_failed
	kv_req DELETE /dim.garbage -H 'If-Match: garbage'
	assert_error 412 precondition_failed
	assert_value /dim.garbage '1' "$vs"
}
