bats_require_minimum_version 1.7.0
load '../lib/helper'
setup_file() { kv_setup_file; }
teardown_file() { kv_teardown_file; }

# The atomic commit, POST /kv/: checks, then mutations in one transaction
# with one versionstamp, or nothing at all.

# kv_commit JSON: POST the JSON (a body of any size, through stdin) to the root.
kv_commit() {
	kv_req POST / -H 'Content-Type: application/json' --data-binary @- "${@:2}" \
		< <(printf '%s' "$1")
}

# vs_of PATH: print the key's versionstamp (from its ETag), or "absent".
vs_of() {
	kv_req GET "$1" >/dev/null
	if [[ "$code" == 404 ]]; then
		echo absent
	else
		kv_header ETag | tr -d '"'
	fi
}

# assert_absent PATH...: each key answers 404.
assert_absent() {
	local p
	for p in "$@"; do
		kv_req GET "$p"
		assert_error 404 not_found
	done
}

@test "(commit) set, sum and delete apply together under one versionstamp" {
	kv_put /c1.gone '{"value":"bye"}'
	assert_code 200
	kv_commit '{"mutations":[{"type":"set","key":"c1.a","value":{"n":1}},
		{"type":"sum","key":"c1.hits","value":5},
		{"type":"delete","key":"c1.gone"}]}'
	assert_code 200
	assert_json .ok true
	local vs
	vs=$(jq -r .versionstamp <<<"$body")
	assert_regex "$vs" '^[0-9a-f]{20}$'
	assert_equal "$(vs_of /c1.a)" "$vs"
	assert_equal "$(vs_of /c1.hits)" "$vs"
	kv_req GET /c1.hits
	assert_equal "$body" '5'
	assert_absent /c1.gone
}

@test "(commit) a set stores its value exactly as written" {
	kv_commit '{"mutations":[{"type":"set","key":"c2.n","value":[0.1, 12345678901234567890, "é\u00e9", 1E2]}]}'
	assert_code 200
	kv_req GET /c2.n
	assert_code 200
	assert_equal "$body" '[0.1, 12345678901234567890, "é\u00e9", 1E2]'
}

@test "(commit) versionstamps keep increasing across PUTs and commits" {
	kv_put /c3.a '{"value":1}'
	local v1 v2 v3
	v1=$(jq -r .versionstamp <<<"$body")
	kv_commit '{"mutations":[{"type":"set","key":"c3.b","value":2}]}'
	v2=$(jq -r .versionstamp <<<"$body")
	kv_put /c3.c '{"value":3}'
	v3=$(jq -r .versionstamp <<<"$body")
	[[ "$v1" < "$v2" && "$v2" < "$v3" ]] || fail "not increasing: $v1 $v2 $v3"
}

@test "(commit) a check on the current versionstamp holds" {
	kv_put /c4.acct '{"value":10}'
	local vs
	vs=$(jq -r .versionstamp <<<"$body")
	kv_commit "{\"checks\":[{\"key\":\"c4.acct\",\"versionstamp\":\"$vs\"}],
		\"mutations\":[{\"type\":\"set\",\"key\":\"c4.acct\",\"value\":20}]}"
	assert_code 200
	kv_req GET /c4.acct
	assert_equal "$body" '20'
}

@test "(commit) a stale check is 409 check_failed and writes nothing" {
	kv_put /c5.acct '{"value":10}'
	local old
	old=$(jq -r .versionstamp <<<"$body")
	kv_put /c5.acct '{"value":11}'
	kv_commit "{\"checks\":[{\"key\":\"c5.acct\",\"versionstamp\":\"$old\"}],
		\"mutations\":[{\"type\":\"set\",\"key\":\"c5.acct\",\"value\":99},
		{\"type\":\"set\",\"key\":\"c5.other\",\"value\":1}]}"
	assert_error 409 check_failed
	assert_regex "$(jq -r .error.message <<<"$body")" 'c5\.acct'
	kv_req GET /c5.acct
	assert_equal "$body" '11'
	assert_absent /c5.other
}

@test "(commit) a null versionstamp checks that the key is absent" {
	kv_commit '{"checks":[{"key":"c6.lock","versionstamp":null}],
		"mutations":[{"type":"set","key":"c6.lock","value":"me"}]}'
	assert_code 200
	kv_commit '{"checks":[{"key":"c6.lock","versionstamp":null}],
		"mutations":[{"type":"set","key":"c6.lock","value":"you"},{"type":"set","key":"c6.x","value":1}]}'
	assert_error 409 check_failed
	kv_req GET /c6.lock
	assert_equal "$body" '"me"'
	assert_absent /c6.x
}

@test "(commit) a check on a key that does not exist fails unless null" {
	kv_commit '{"checks":[{"key":"c7.none","versionstamp":"00000000000000000001"}],
		"mutations":[{"type":"set","key":"c7.x","value":1}]}'
	assert_error 409 check_failed
	assert_absent /c7.x
}

@test "(commit) an expired key counts as absent for a check" {
	kv_commit '{"mutations":[{"type":"set","key":"c8.lease","value":1,"ttl":300}]}'
	assert_code 200
	sleep 0.5
	kv_commit '{"checks":[{"key":"c8.lease","versionstamp":null}],
		"mutations":[{"type":"set","key":"c8.lease","value":2}]}'
	assert_code 200
	kv_req GET /c8.lease
	assert_equal "$body" '2'
	assert_equal "$(kv_header KV-Expires-At)" ''
}

@test "(commit) a set with a ttl expires like a PUT with one" {
	local t0
	t0=$(date +%s%3N)
	kv_commit '{"mutations":[{"type":"set","key":"c9.s","value":1,"ttl":60000}]}'
	assert_code 200
	kv_req GET /c9.s
	local exp
	exp=$(kv_header KV-Expires-At)
	((exp >= t0 + 58000 && exp <= t0 + 62000)) || fail "KV-Expires-At $exp is not about now+60s"
}

@test "(commit) sum, min and max on an absent key store the operand" {
	kv_commit '{"mutations":[{"type":"sum","key":"c10.s","value":-3},
		{"type":"min","key":"c10.lo","value":7},{"type":"max","key":"c10.hi","value":-7}]}'
	assert_code 200
	kv_req GET /c10.s && assert_equal "$body" '-3'
	kv_req GET /c10.lo && assert_equal "$body" '7'
	kv_req GET /c10.hi && assert_equal "$body" '-7'
}

@test "(commit) sum adds and min and max keep the extreme" {
	kv_put /c11.n '{"value":10}'
	kv_put /c11.lo '{"value":10}'
	kv_put /c11.hi '{"value":10}'
	kv_commit '{"mutations":[{"type":"sum","key":"c11.n","value":32},
		{"type":"min","key":"c11.lo","value":3},{"type":"max","key":"c11.hi","value":3}]}'
	assert_code 200
	kv_req GET /c11.n && assert_equal "$body" '42'
	kv_req GET /c11.lo && assert_equal "$body" '3'
	kv_req GET /c11.hi && assert_equal "$body" '10'
}

@test "(commit) mutations apply in order, so later ones see earlier ones" {
	kv_commit '{"mutations":[{"type":"set","key":"c12.n","value":1},
		{"type":"sum","key":"c12.n","value":2},{"type":"max","key":"c12.n","value":2}]}'
	assert_code 200
	kv_req GET /c12.n
	assert_equal "$body" '3'
}

@test "(commit) sum keeps the key's expiry unless it gives a ttl" {
	kv_commit '{"mutations":[{"type":"set","key":"c13.n","value":1,"ttl":600000}]}'
	kv_req GET /c13.n
	local exp
	exp=$(kv_header KV-Expires-At)
	kv_commit '{"mutations":[{"type":"sum","key":"c13.n","value":1}]}'
	assert_code 200
	kv_req GET /c13.n
	assert_equal "$body" '2'
	assert_equal "$(kv_header KV-Expires-At)" "$exp"
	kv_commit '{"mutations":[{"type":"sum","key":"c13.n","value":1,"ttl":900000}]}'
	kv_req GET /c13.n
	(($(kv_header KV-Expires-At) > exp)) || fail "the new ttl did not replace the expiry"
}

@test "(commit) sum on a value that is not an integer is 409 type_mismatch" {
	local v
	for v in '"12"' '1.5' '1e3' '[1]' 'null' 'true' '{"n":1}'; do
		kv_put /c14.v "{\"value\":$v}"
		assert_code 200
		kv_commit '{"mutations":[{"type":"set","key":"c14.side","value":1},{"type":"sum","key":"c14.v","value":1}]}'
		assert_error 409 type_mismatch
		kv_req GET /c14.v
		assert_equal "$body" "$v"
		assert_absent /c14.side
	done
	kv_commit '{"mutations":[{"type":"max","key":"c14.v","value":1}]}'
	assert_error 409 type_mismatch
}

@test "(commit) a sum outside the signed 64-bit range is 409 overflow" {
	kv_put /c15.big '{"value":9223372036854775807}'
	kv_commit '{"mutations":[{"type":"sum","key":"c15.big","value":1}]}'
	assert_error 409 overflow
	kv_put /c15.small '{"value":-9223372036854775808}'
	kv_commit '{"mutations":[{"type":"sum","key":"c15.small","value":-1}]}'
	assert_error 409 overflow
	kv_commit '{"mutations":[{"type":"sum","key":"c15.small","value":9223372036854775807}]}'
	assert_code 200
	kv_req GET /c15.small
	assert_equal "$body" '-1'
	kv_req GET /c15.big
	assert_equal "$body" '9223372036854775807'
}

@test "(commit) an operand that is not a 64-bit integer is 400 invalid_body" {
	local v
	for v in '1.5' '"1"' '9223372036854775808' 'null' '[]'; do
		kv_commit "{\"mutations\":[{\"type\":\"sum\",\"key\":\"c16.n\",\"value\":$v}]}"
		assert_error 400 invalid_body
	done
	assert_absent /c16.n
}

@test "(commit) checks alone answer the current versionstamp and write nothing" {
	kv_put /c17.a '{"value":1}'
	local vs
	vs=$(jq -r .versionstamp <<<"$body")
	kv_commit "{\"checks\":[{\"key\":\"c17.a\",\"versionstamp\":\"$vs\"}]}"
	assert_code 200
	assert_json .versionstamp "\"$vs\""
	kv_commit '{}'
	assert_code 200
	assert_json .versionstamp "\"$vs\""
}

@test "(commit) 100 checks and 1000 mutations are allowed, one more is not" {
	local checks mutations
	checks=$(jq -nc '[range(100) | {key: "c18.none\(.)", versionstamp: null}]')
	mutations=$(jq -nc '[range(1000) | {type: "set", key: "c18.k\(.)", value: .}]')
	kv_commit "{\"checks\":$checks,\"mutations\":$mutations}"
	assert_code 200
	kv_req GET /c18.k999
	assert_equal "$body" '999'

	checks=$(jq -nc '[range(101) | {key: "c19.none\(.)", versionstamp: null}]')
	kv_commit "{\"checks\":$checks,\"mutations\":[{\"type\":\"set\",\"key\":\"c19.x\",\"value\":1}]}"
	assert_error 400 too_many_operations
	mutations=$(jq -nc '[range(1001) | {type: "set", key: "c19.k\(.)", value: .}]')
	kv_commit "{\"mutations\":$mutations}"
	assert_error 400 too_many_operations
	assert_absent /c19.x /c19.k0
}

@test "(commit) bad bodies are refused with the contract's codes and write nothing" {
	kv_commit '{"mutations":[{"type":"set","key":"c20.x","value":1}'
	assert_error 400 invalid_json
	kv_commit '[]'
	assert_error 400 invalid_body
	kv_commit '{"mutations":[{"type":"set","key":"c20.x","value":1}],"extra":1}'
	assert_error 400 invalid_body
	kv_commit '{"mutations":{"type":"set","key":"c20.x","value":1}}'
	assert_error 400 invalid_body
	kv_commit '{"mutations":[{"type":"upsert","key":"c20.x","value":1}]}'
	assert_error 400 invalid_body
	kv_commit '{"mutations":[{"type":"set","key":"c20.x"}]}'
	assert_error 400 invalid_body
	kv_commit '{"mutations":[{"type":"set","value":1}]}'
	assert_error 400 invalid_body
	kv_commit '{"mutations":[{"type":"set","key":1,"value":1}]}'
	assert_error 400 invalid_body
	kv_commit '{"mutations":[{"type":"delete","key":"c20.x","value":1}]}'
	assert_error 400 invalid_body
	kv_commit '{"mutations":[{"type":"set","key":"c20.x","value":1,"key":"c20.y"}]}'
	assert_error 400 invalid_body
	kv_commit '{"checks":[{"key":"c20.x"}]}'
	assert_error 400 invalid_body
	kv_commit '{"checks":[{"key":"c20.x","versionstamp":"0000000000000000000A"}]}'
	assert_error 400 invalid_body
	kv_commit '{"checks":[{"key":"c20.x","versionstamp":"1"}]}'
	assert_error 400 invalid_body
	assert_absent /c20.x /c20.y
}

@test "(commit) a bad key is 400 invalid_key, a bad ttl 400 invalid_ttl" {
	local k
	for k in 'c21..x' '.c21' 'c21.' '' 'c21/x' 'c21\u0000x' 'c21\u001fx'; do
		kv_commit "{\"mutations\":[{\"type\":\"set\",\"key\":\"$k\",\"value\":1}]}"
		assert_error 400 invalid_key
	done
	kv_commit '{"checks":[{"key":"c21..y","versionstamp":null}]}'
	assert_error 400 invalid_key
	local t
	for t in 0 -1 1.5 '"60"' 9007199254740991; do
		kv_commit "{\"mutations\":[{\"type\":\"set\",\"key\":\"c21.t\",\"value\":1,\"ttl\":$t}]}"
		assert_error 400 invalid_ttl
	done
	assert_absent /c21.t
}

@test "(commit) an escaped key names the same key as its plain spelling" {
	kv_commit '{"mutations":[{"type":"set","key":"c22.\u00e9t\u00e9","value":1}]}'
	assert_code 200
	kv_req GET /c22.%C3%A9t%C3%A9
	assert_code 200
	assert_equal "$body" '1'
}

@test "(commit) a value over max_value is 413 value_too_large" {
	local big
	big=$(head -c 70000 /dev/zero | tr '\0' 'a')
	kv_commit "{\"mutations\":[{\"type\":\"set\",\"key\":\"c23.a\",\"value\":1},{\"type\":\"set\",\"key\":\"c23.big\",\"value\":\"$big\"}]}"
	assert_error 413 value_too_large
	assert_absent /c23.a /c23.big
}

@test "(commit) a body over max_body is 413 body_too_large" {
	local mutations
	mutations=$(jq -nc '[range(40) | {type: "set", key: "c24.k\(.)", value: ("x" * 30000)}]')
	kv_commit "{\"mutations\":$mutations}"
	assert_error 413 body_too_large
	assert_absent /c24.k0
}

@test "(commit) a value nested 128 deep is stored, 129 deep is invalid_json" {
	local deep
	deep="$(printf '[%.0s' {1..128})1$(printf ']%.0s' {1..128})"
	kv_commit "{\"mutations\":[{\"type\":\"set\",\"key\":\"c25.d\",\"value\":$deep}]}"
	assert_code 200
	deep="[$deep]"
	kv_commit "{\"mutations\":[{\"type\":\"set\",\"key\":\"c25.e\",\"value\":$deep}]}"
	assert_error 400 invalid_json
	assert_absent /c25.e
}
