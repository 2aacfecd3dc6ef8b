bats_require_minimum_version 1.7.0
load '../lib/helper'
setup_file() { kv_setup_file; }
teardown_file() { kv_teardown_file; }

# Values come back exactly as they were written: the program stores the
# validated raw text, so digits, escapes and whitespace inside the value
# survive. Nesting and the default size limits are checked here too.

# roundtrip PATH VALUE: PUT {"value":VALUE} and GET it back byte for byte.
roundtrip() {
	kv_put "$1" "{\"value\":$2}"
	assert_code 200
	kv_req GET "$1"
	assert_code 200
	assert_equal "$body" "$2"
}

# nested N OPEN CLOSE INNER: INNER wrapped in N pairs of OPEN/CLOSE.
nested() {
	local i out=''
	for ((i = 0; i < $1; i++)); do out+=$2; done
	out+=$4
	for ((i = 0; i < $1; i++)); do out+=$3; done
	printf '%s' "$out"
}

@test "(values) decimals keep their written digits" {
	roundtrip /num.dec1 '0.1'
	roundtrip /num.dec2 '3.141592653589793238462643383279'
	roundtrip /num.dec3 '2.50'
	roundtrip /num.dec4 '-1.25E-3'
}

@test "(values) integers beyond 64 bits keep their digits" {
	roundtrip /num.int1 '12345678901234567890'
	roundtrip /num.int2 '100000000000000000000000000000'
	roundtrip /num.int3 '-9223372036854775809'
	roundtrip /num.int4 '9007199254740993'
}

@test "(values) -0, 0 and exponents keep their form" {
	roundtrip /num.exp1 '-0'
	roundtrip /num.exp2 '0'
	roundtrip /num.exp3 '1.5e10'
	roundtrip /num.exp4 '1E+2'
	roundtrip /num.exp5 '-0.0'
}

@test "(values) null, true and false" {
	roundtrip /lit.null 'null'
	roundtrip /lit.true 'true'
	roundtrip /lit.false 'false'
}

@test "(values) non-ASCII strings, raw and escaped, come back as sent" {
	roundtrip /str.e1 '"é"'
	roundtrip /str.e2 '"\u00e9"'
	roundtrip /str.e3 '"\u00E9"'
	roundtrip /str.emoji1 '"😀"'
	roundtrip /str.emoji2 '"\ud83d\ude00"'
	roundtrip /str.cjk '"漢字 𝄞"'
}

@test "(values) escapes and HTML-looking strings come back as sent" {
	roundtrip /str.script '"</script><script>alert(1)</script>"'
	roundtrip /str.slash1 '"a/b"'
	roundtrip /str.slash2 '"a\/b"'
	roundtrip /str.esc '"q\"b\\s\n\t\r\b\f"'
	roundtrip /str.nul '"a\u0000b"'
	roundtrip /str.ctl '"\u001f\u007f"'
	roundtrip /str.empty '""'
}

@test "(values) objects and arrays, nested, come back as sent" {
	roundtrip /obj.empty '{}'
	roundtrip /obj.arr '[]'
	roundtrip /obj.nest '{"a":{"b":{"c":[1,{"d":null}]}},"e":[[],{}]}'
	roundtrip /obj.mixed '[1,"two",3.0,true,false,null,{"x":[]}]'
	roundtrip /obj.keys '{"":1,"é":2,"a.b":3,"a/b":4}'
}

@test "(values) whitespace inside the value is kept as sent" {
	roundtrip /ws.a '[1, 2 ,{"a" : [ ] }]'
	roundtrip /ws.b $'{\n  "a": 1,\n\t"b": [\r\n 2 ]\n}'
}

@test "(values) whitespace around the value is not part of it" {
	kv_put /ws.around $'{"value":  \n [1,2] \t\n}'
	assert_code 200
	kv_req GET /ws.around
	assert_code 200
	assert_equal "$body" '[1,2]'
}

@test "(values) a list returns each entry's value" {
	kv_put /lv.a '{"value":{"a":[1,2]}}'
	kv_put /lv.b '{"value":"\u00e9\ud83d\ude00</script>"}'
	kv_put /lv.c '{"value":null}'
	kv_put /lv.d '{"value":[true,false,{}]}'
	kv_req GET '/lv?list=true'
	assert_code 200
	assert_json '[.entries[] | {(.key): .value}] | add' \
		'{"lv.a":{"a":[1,2]},"lv.b":"é😀</script>","lv.c":null,"lv.d":[true,false,{}]}'
	assert_json '[.entries[] | has("value")] | all' 'true'
}

@test "(values) a list keeps numbers' written digits" {
	kv_put /ln.a '{"value":0.1}'
	kv_put /ln.b '{"value":12345678901234567890}'
	kv_put /ln.c '{"value":1.5e10}'
	kv_put /ln.d '{"value":[3.141592653589793238462643383279]}'
	kv_req GET '/ln?list=true'
	assert_code 200
	assert_json '[.entries[].key]' '["ln.a","ln.b","ln.c","ln.d"]'
	assert_regex "$body" '"value": *0\.1 *[,}]'
	assert_regex "$body" '"value": *12345678901234567890 *[,}]'
	assert_regex "$body" '"value": *1\.5e10 *[,}]'
	assert_regex "$body" '"value": *\[ *3\.141592653589793238462643383279 *\]'
}

@test "(values) 128 nested arrays are accepted and come back identical" {
	local v
	v=$(nested 128 '[' ']' '')
	roundtrip /deep.arr128 "$v"
	v=$(nested 127 '[' ']' '{}')
	roundtrip /deep.mix128 "$v"
	v=$(nested 128 '[' ']' '1')
	roundtrip /deep.arr128leaf "$v"
	v=$(nested 128 '[' ']' '"s"')
	roundtrip /deep.arr128str "$v"
}

@test "(values) 128 nested objects are accepted and come back identical" {
	local v
	v=$(nested 128 '{"a":' '}' '1')
	roundtrip /deep.obj128 "$v"
}

@test "(values) 129 nested arrays or objects are 400 invalid_json" {
	local v
	v=$(nested 129 '[' ']' '')
	kv_put /deep.arr129 "{\"value\":$v}"
	assert_error 400 invalid_json
	v=$(nested 129 '{"a":' '}' '1')
	kv_put /deep.arr129 "{\"value\":$v}"
	assert_error 400 invalid_json
	v=$(nested 64 '[' ']' "$(nested 65 '{"a":' '}' 'null')")
	kv_put /deep.arr129 "{\"value\":$v}"
	assert_error 400 invalid_json
	kv_req GET /deep.arr129
	assert_error 404 not_found
}

@test "(values) 100000 nested arrays are 400 invalid_json" {
	{
		printf '{"value":'
		head -c 100000 /dev/zero | tr '\0' '['
		head -c 100000 /dev/zero | tr '\0' ']'
		printf '}'
	} >"$BATS_TEST_TMPDIR/deep.json"
	kv_req PUT /deep.huge --data-binary "@$BATS_TEST_TMPDIR/deep.json"
	assert_error 400 invalid_json
	# unbalanced: only opening brackets
	head -c 100000 /dev/zero | tr '\0' '[' | sed 's/^/{"value":/' >"$BATS_TEST_TMPDIR/open.json"
	kv_req PUT /deep.huge --data-binary "@$BATS_TEST_TMPDIR/open.json"
	assert_error 400 invalid_json
	kv_req GET /deep.huge
	assert_error 404 not_found
}

@test "(limits) a value of exactly 65536 bytes is accepted by default" {
	{ printf '{"value":"'; head -c 65534 /dev/zero | tr '\0' 'x'; printf '"}'; } >"$BATS_TEST_TMPDIR/v.json"
	kv_req PUT /big.ok --data-binary "@$BATS_TEST_TMPDIR/v.json" >/dev/null
	assert_code 200
	kv_req GET /big.ok >/dev/null
	assert_code 200
	assert_equal "${#body}" 65536
	assert_equal "$body" "$(sed 's/^{"value"://; s/}$//' "$BATS_TEST_TMPDIR/v.json")"
}

@test "(limits) a value above 65536 bytes is 413 value_too_large by default" {
	{ printf '{"value":"'; head -c 65535 /dev/zero | tr '\0' 'x'; printf '"}'; } >"$BATS_TEST_TMPDIR/v.json"
	kv_req PUT /big.no --data-binary "@$BATS_TEST_TMPDIR/v.json" >/dev/null
	echo "code: $code body: $body"
	assert_error 413 value_too_large
	kv_req GET /big.no
	assert_error 404 not_found
}

@test "(limits) a body of exactly 1 MiB is accepted by default" {
	# a small value padded with whitespace before it
	{ printf '{'; head -c $((1048576 - 11)) /dev/zero | tr '\0' ' '; printf '"value":1}'; } >"$BATS_TEST_TMPDIR/b.json"
	assert_equal "$(stat -c %s "$BATS_TEST_TMPDIR/b.json")" 1048576
	kv_req PUT /body.ok --data-binary "@$BATS_TEST_TMPDIR/b.json" >/dev/null
	echo "code: $code body: $body"
	assert_code 200
	kv_req GET /body.ok
	assert_code 200
	assert_equal "$body" '1'
}

@test "(limits) a body above 1 MiB is 413 body_too_large by default" {
	{ printf '{'; head -c $((1048577 - 11)) /dev/zero | tr '\0' ' '; printf '"value":1}'; } >"$BATS_TEST_TMPDIR/b.json"
	assert_equal "$(stat -c %s "$BATS_TEST_TMPDIR/b.json")" 1048577
	kv_req PUT /body.no --data-binary "@$BATS_TEST_TMPDIR/b.json" >/dev/null
	echo "code: $code body: $body"
	assert_error 413 body_too_large
	kv_req GET /body.no
	assert_error 404 not_found
}
