bats_require_minimum_version 1.7.0
load '../lib/helper'
setup_file() { kv_setup_file; }
teardown_file() { kv_teardown_file; }

# PUT and GET of single keys, and validation of the PUT body.

vs_re='^[0-9a-f]{20}$'

# assert_vs_gt NEW OLD: versionstamps compare as strings.
assert_vs_gt() {
	assert_regex "$1" "$vs_re"
	assert_regex "$2" "$vs_re"
	if ! [[ "$1" > "$2" ]]; then
		fail "versionstamp $1 is not greater than $2"
	fi
}

# assert_absent PATH KEY: GET answers 404 not_found for KEY.
assert_absent() {
	kv_req GET "$1"
	assert_error 404 not_found
	assert_json '.error.message' "\"no such key: $2\""
}

@test "(PUT) answers key, versionstamp, expiresAt null and an ETag" {
	kv_put /users.john '{"value":{"name":"John","age":42}}'
	assert_code 200
	assert_json '.key' '"users.john"'
	assert_json '.expiresAt' 'null'
	assert_json '.versionstamp | test("^[0-9a-f]{20}$")' 'true'
	local vs
	vs=$(jq -r .versionstamp <<<"$body")
	assert_equal "$(kv_header ETag)" "\"$vs\""
	assert_regex "$(kv_header Content-Type)" '^application/json.*charset=utf-8'
	assert_equal "$(kv_header Cache-Control)" 'no-store'
}

@test "(GET) returns the stored value with ETag, JSON content type and no-store" {
	kv_put /get.one '{"value":{"a":[1,2,3],"b":"x"}}'
	assert_code 200
	local vs
	vs=$(jq -r .versionstamp <<<"$body")
	kv_req GET /get.one
	assert_code 200
	assert_equal "$body" '{"a":[1,2,3],"b":"x"}'
	assert_equal "$(kv_header ETag)" "\"$vs\""
	assert_regex "$(kv_header Content-Type)" '^application/json.*charset=utf-8'
	assert_equal "$(kv_header Cache-Control)" 'no-store'
	assert_equal "$(kv_header KV-Expires-At)" ''
}

@test "(GET) an absent key is 404 not_found naming the key" {
	assert_absent /users.nobody users.nobody
}

@test "(GET) a parent or child of a stored key is not that key" {
	kv_put /tree.mid '{"value":1}'
	assert_code 200
	assert_absent /tree tree
	assert_absent /tree.mid.leaf tree.mid.leaf
	assert_absent /tree.mi tree.mi
}

@test "(HEAD) gives GET's status and headers without a body" {
	kv_put /head.one '{"value":"hello"}'
	assert_code 200
	local vs
	vs=$(jq -r .versionstamp <<<"$body")
	kv_req HEAD /head.one
	assert_code 200
	assert_equal "$body" ''
	assert_equal "$(kv_header ETag)" "\"$vs\""
	assert_regex "$(kv_header Content-Type)" '^application/json.*charset=utf-8'
	assert_equal "$(kv_header Cache-Control)" 'no-store'
}

@test "(HEAD) an absent key is 404 without a body" {
	kv_req HEAD /head.absent
	assert_code 404
	assert_equal "$body" ''
	assert_regex "$(kv_header Content-Type)" '^application/json.*charset=utf-8'
	assert_equal "$(kv_header Cache-Control)" 'no-store'
}

@test "(PUT) overwriting replaces the value and raises the versionstamp" {
	kv_put /over.k '{"value":"first"}'
	assert_code 200
	local vs1 vs2
	vs1=$(jq -r .versionstamp <<<"$body")
	kv_put /over.k '{"value":"second"}'
	assert_code 200
	assert_json '.key' '"over.k"'
	vs2=$(jq -r .versionstamp <<<"$body")
	assert_vs_gt "$vs2" "$vs1"
	kv_req GET /over.k
	assert_code 200
	assert_equal "$body" '"second"'
	assert_equal "$(kv_header ETag)" "\"$vs2\""
}

@test "(PUT) versionstamps strictly increase across different keys" {
	local prev='' vs i
	for i in 1 2 3 4 5 6; do
		kv_put "/seq.k$((i % 3))" "{\"value\":$i}"
		assert_code 200
		vs=$(jq -r .versionstamp <<<"$body")
		if [[ -n $prev ]]; then assert_vs_gt "$vs" "$prev"; fi
		prev=$vs
	done
}

@test "(PUT) concurrent writes all commit with distinct versionstamps" {
	local i out=$BATS_TEST_TMPDIR/conc
	mkdir -p "$out"
	for i in $(seq 1 10); do
		curl -sS --path-as-is -X PUT --max-time 60 -o "$out/$i.body" -w '%{http_code}' \
			--data-binary "{\"value\":$i}" "$KV_URL/conc.k$((i % 4))" >"$out/$i.code" 3>&- &
	done
	wait
	cat "$out"/*.code; echo
	assert_equal "$(cat "$out"/*.code)" "$(printf '200%.0s' $(seq 1 10))"
	local n
	n=$(cat "$out"/*.body | jq -r .versionstamp | sort -u | grep -cE "$vs_re")
	assert_equal "$n" 10
	# The last committed write of each key is the one GET sees.
	for i in 0 1 2 3; do
		kv_req GET "/conc.k$i"
		assert_code 200
		local best
		best=$(for f in "$out"/*.body; do jq -r "select(.key == \"conc.k$i\") | .versionstamp" "$f"; done | sort | tail -n1)
		assert_equal "$(kv_header ETag)" "\"$best\""
	done
}

@test "(PUT) ttl null means no expiry" {
	kv_put /ttl.null '{"value":1,"ttl":null}'
	assert_code 200
	assert_json '.expiresAt' 'null'
	kv_req GET /ttl.null
	assert_code 200
	assert_equal "$body" '1'
	assert_equal "$(kv_header KV-Expires-At)" ''
}

@test "(PUT) members may come in any order and with whitespace" {
	kv_put /order.k $' {\n  "ttl" : null ,\n  "value" : [1]\n}\n'
	assert_code 200
	assert_json '.key' '"order.k"'
	kv_req GET /order.k
	assert_code 200
	assert_json '.' '[1]'
}

@test "(PUT) a chunked request body is accepted" {
	kv_req PUT /chunked.k -H 'Transfer-Encoding: chunked' --data-binary '{"value":"chunky"}'
	assert_code 200
	assert_json '.key' '"chunked.k"'
	kv_req GET /chunked.k
	assert_code 200
	assert_equal "$body" '"chunky"'
}

@test "(PUT) the request Content-Type is not required to be JSON" {
	kv_req PUT /ctype.k -H 'Content-Type: text/plain' --data-binary '{"value":true}'
	assert_code 200
	kv_req GET /ctype.k
	assert_code 200
	assert_equal "$body" 'true'
}

# bad_body PATH BODY CODE: PUT BODY is 400 CODE and nothing is written.
bad_body() {
	kv_req PUT "$1" --data-binary "$2"
	assert_error 400 "$3"
}

@test "(PUT) a body without value is 400 invalid_body" {
	bad_body /bb.novalue '{}' invalid_body
	bad_body /bb.novalue '{"ttl":1000}' invalid_body
	assert_absent /bb.novalue bb.novalue
}

@test "(PUT) an unknown top-level member is 400 invalid_body" {
	bad_body /bb.unknown '{"value":1,"extra":2}' invalid_body
	bad_body /bb.unknown '{"value":1,"Value":2}' invalid_body
	bad_body /bb.unknown '{"value":1,"ttl":null,"expiresAt":null}' invalid_body
	assert_absent /bb.unknown bb.unknown
}

@test "(PUT) a duplicate top-level member is 400 invalid_body" {
	bad_body /bb.dup '{"value":1,"value":2}' invalid_body
	bad_body /bb.dup '{"value":1,"ttl":1000,"ttl":2000}' invalid_body
	assert_absent /bb.dup bb.dup
}

@test "(PUT) a body that is JSON but not an object is 400 invalid_body" {
	bad_body /bb.notobj '[]' invalid_body
	bad_body /bb.notobj '"value"' invalid_body
	bad_body /bb.notobj '1' invalid_body
	bad_body /bb.notobj 'null' invalid_body
	bad_body /bb.notobj '[{"value":1}]' invalid_body
	assert_absent /bb.notobj bb.notobj
}

@test "(PUT) a body that is not JSON is 400 invalid_json" {
	bad_body /bj.notjson 'not json' invalid_json
	bad_body /bj.notjson 'value=1' invalid_json
	bad_body /bj.notjson '{"value":' invalid_json
	bad_body /bj.notjson '{"value":1' invalid_json
	bad_body /bj.notjson '{"value":1}}' invalid_json
	bad_body /bj.notjson '{"value":1} x' invalid_json
	bad_body /bj.notjson '{"value":1}{"value":2}' invalid_json
	bad_body /bj.notjson '{value:1}' invalid_json
	bad_body /bj.notjson '{"value":"unterminated}' invalid_json
	assert_absent /bj.notjson bj.notjson
}

@test "(PUT) an empty body is 400 invalid_json" {
	bad_body /bj.empty '' invalid_json
	kv_req PUT /bj.empty
	assert_error 400 invalid_json
	bad_body /bj.empty $' \n\t' invalid_json
	assert_absent /bj.empty bj.empty
}

@test "(PUT) NaN and Infinity are 400 invalid_json" {
	bad_body /bj.nan '{"value":NaN}' invalid_json
	bad_body /bj.nan '{"value":Infinity}' invalid_json
	bad_body /bj.nan '{"value":-Infinity}' invalid_json
	bad_body /bj.nan '{"value":nan}' invalid_json
	assert_absent /bj.nan bj.nan
}

@test "(PUT) non-JSON number forms are 400 invalid_json" {
	local n
	for n in '1.' '.5' '01' '-01' '+1' '0x10' '1e' '1e+' '--1' '-' '1.e5'; do
		bad_body /bj.num "{\"value\":$n}" invalid_json
	done
	assert_absent /bj.num bj.num
}

@test "(PUT) single-quoted strings and bare words are 400 invalid_json" {
	bad_body /bj.quote "{'value':1}" invalid_json
	bad_body /bj.quote "{\"value\":'x'}" invalid_json
	bad_body /bj.quote '{"value":True}' invalid_json
	bad_body /bj.quote '{"value":nul}' invalid_json
	bad_body /bj.quote '{"value":undefined}' invalid_json
	assert_absent /bj.quote bj.quote
}

@test "(PUT) trailing commas are 400 invalid_json" {
	bad_body /bj.comma '{"value":1,}' invalid_json
	bad_body /bj.comma '{"value":[1,2,]}' invalid_json
	bad_body /bj.comma '{"value":{"a":1,}}' invalid_json
	bad_body /bj.comma '{"value":[,1]}' invalid_json
	bad_body /bj.comma '{,"value":1}' invalid_json
	assert_absent /bj.comma bj.comma
}

@test "(PUT) comments are 400 invalid_json" {
	bad_body /bj.comment '{"value":1 /* c */}' invalid_json
	bad_body /bj.comment $'// c\n{"value":1}' invalid_json
	bad_body /bj.comment $'{"value":1} // c' invalid_json
	bad_body /bj.comment $'{"value":1} # c' invalid_json
	assert_absent /bj.comment bj.comment
}

@test "(PUT) a raw control character inside a string is 400 invalid_json" {
	bad_body /bj.ctl $'{"value":"a\tb"}' invalid_json
	bad_body /bj.ctl $'{"value":"a\nb"}' invalid_json
	bad_body /bj.ctl $'{"value":"a\x01b"}' invalid_json
	bad_body /bj.ctl $'{"value":"a\x1fb"}' invalid_json
	bad_body /bj.ctl $'{"value\x01":1}' invalid_json
	printf '{"value":"a\0b"}' >"$BATS_TEST_TMPDIR/nul.json"
	kv_req PUT /bj.ctl --data-binary "@$BATS_TEST_TMPDIR/nul.json"
	assert_error 400 invalid_json
	assert_absent /bj.ctl bj.ctl
}

@test "(PUT) a NUL byte outside strings is 400 invalid_json" {
	printf '{"value":1}\0' >"$BATS_TEST_TMPDIR/nul.json"
	kv_req PUT /bj.nul --data-binary "@$BATS_TEST_TMPDIR/nul.json"
	assert_error 400 invalid_json
	printf '{"value":1\0}' >"$BATS_TEST_TMPDIR/nul2.json"
	kv_req PUT /bj.nul --data-binary "@$BATS_TEST_TMPDIR/nul2.json"
	assert_error 400 invalid_json
	assert_absent /bj.nul bj.nul
}

@test "(PUT) bad string escapes are 400 invalid_json" {
	bad_body /bj.esc '{"value":"\ud800"}' invalid_json
	bad_body /bj.esc '{"value":"\udc00"}' invalid_json
	bad_body /bj.esc '{"value":"\ud800x"}' invalid_json
	bad_body /bj.esc '{"value":"\ud800\u0041"}' invalid_json
	bad_body /bj.esc '{"value":"\x41"}' invalid_json
	bad_body /bj.esc '{"value":"\u12"}' invalid_json
	bad_body /bj.esc '{"value":"\a"}' invalid_json
	bad_body /bj.esc $'{"value":"\\\'"}' invalid_json
	assert_absent /bj.esc bj.esc
}

@test "(PUT) invalid UTF-8 in the body is 400 invalid_json" {
	bad_body /bj.utf8 $'{"value":"\xff"}' invalid_json
	bad_body /bj.utf8 $'{"value":"\xc3"}' invalid_json
	bad_body /bj.utf8 $'{"value":"\xc0\xaf"}' invalid_json
	bad_body /bj.utf8 $'{"value":"\xed\xa0\x80"}' invalid_json
	assert_absent /bj.utf8 bj.utf8
}

@test "(PUT) a fractional or exponent ttl is 400 invalid_ttl" {
	bad_body /bt.frac '{"value":1,"ttl":1.0}' invalid_ttl
	bad_body /bt.frac '{"value":1,"ttl":1e3}' invalid_ttl
	bad_body /bt.frac '{"value":1,"ttl":1500.5}' invalid_ttl
	bad_body /bt.frac '{"value":1,"ttl":1E3}' invalid_ttl
	assert_absent /bt.frac bt.frac
}

@test "(PUT) a zero or negative ttl is 400 invalid_ttl" {
	bad_body /bt.neg '{"value":1,"ttl":0}' invalid_ttl
	bad_body /bt.neg '{"value":1,"ttl":-5}' invalid_ttl
	bad_body /bt.neg '{"value":1,"ttl":-0}' invalid_ttl
	assert_absent /bt.neg bt.neg
}

@test "(PUT) a ttl that is not a number is 400 invalid_ttl" {
	bad_body /bt.type '{"value":1,"ttl":"10"}' invalid_ttl
	bad_body /bt.type '{"value":1,"ttl":true}' invalid_ttl
	bad_body /bt.type '{"value":1,"ttl":false}' invalid_ttl
	bad_body /bt.type '{"value":1,"ttl":[1000]}' invalid_ttl
	bad_body /bt.type '{"value":1,"ttl":{"ms":1000}}' invalid_ttl
	assert_absent /bt.type bt.type
}

@test "(PUT) a ttl whose expiry does not fit is 400 invalid_ttl" {
	bad_body /bt.big '{"value":1,"ttl":9223372036854775807}' invalid_ttl
	bad_body /bt.big '{"value":1,"ttl":9223372036854775808}' invalid_ttl
	bad_body /bt.big '{"value":1,"ttl":18446744073709551616}' invalid_ttl
	bad_body /bt.big '{"value":1,"ttl":123456789012345678901234567890}' invalid_ttl
	assert_absent /bt.big bt.big
}

@test "(PUT) a rejected body leaves an existing value unchanged" {
	kv_put /keep.k '{"value":"original"}'
	assert_code 200
	local vs
	vs=$(jq -r .versionstamp <<<"$body")
	bad_body /keep.k '{"value":"new","extra":1}' invalid_body
	bad_body /keep.k '{"value":"new",}' invalid_json
	bad_body /keep.k '{"value":"new","ttl":0}' invalid_ttl
	kv_req GET /keep.k
	assert_code 200
	assert_equal "$body" '"original"'
	assert_equal "$(kv_header ETag)" "\"$vs\""
}
