bats_require_minimum_version 1.7.0
load '../lib/helper'

# Whole subtrees (docs/API.md): DELETE ?recurse=true, the one-level list
# (?list=true&depth=1) and the read of many keys (POST /kv/?read=true).
# The bound on a recursive delete is lowered so that a test can pass it.

export KV_EXTRA_CONF='max_recursive_delete = 200'
setup_file() { kv_setup_file; }
teardown_file() { kv_teardown_file; }

# commit JSON: an atomic commit, which must be applied.
commit() {
	kv_req POST / -H 'Content-Type: application/json' --data-binary "$1"
	assert_code 200
}

# fill PREFIX N: N keys PREFIX.k0 .. PREFIX.k(N-1) in one commit.
fill() {
	local prefix=$1 n=$2 i muts=
	for ((i = 0; i < n; i++)); do
		muts+="${muts:+,}{\"type\":\"set\",\"key\":\"$prefix.k$i\",\"value\":$i}"
	done
	commit "{\"mutations\":[$muts]}"
}

# store_vs: the store's current versionstamp (an empty commit's); sets $vs.
store_vs() {
	commit '{}'
	vs=$(jq -r .versionstamp <<<"$body")
}

# read_many JSON: POST /kv/?read=true with JSON as the body.
read_many() {
	kv_req POST '/?read=true' -H 'Content-Type: application/json' --data-binary "$1"
}

# ---- DELETE ?recurse=true

@test "(recurse) deletes the key and every key below it, not a sibling sharing its bytes" {
	kv_put /rd '{"value":"top"}'
	kv_put /rd.a '{"value":1}'
	kv_put /rd.a.b.c '{"value":2}'
	kv_put /rd.z '{"value":3}'
	kv_put /rdx '{"value":"sibling"}'
	kv_put /rdx.a '{"value":"sibling child"}'
	store_vs
	local before=$vs
	kv_req DELETE '/rd?recurse=true'
	assert_code 200
	assert_json 'keys' '["deleted","versionstamp"]'
	assert_json '.deleted' '4'
	local dvs
	dvs=$(jq -r .versionstamp <<<"$body")
	[[ "$dvs" > "$before" ]] || fail "the delete's versionstamp $dvs is not above $before"
	for key in rd rd.a rd.a.b.c rd.z; do
		kv_req GET "/$key"
		assert_error 404 not_found
	done
	kv_req GET /rdx
	assert_code 200
	kv_req GET '/rdx?list=true'
	assert_json '[.entries[].key]' '["rdx.a"]'
}

@test "(recurse) one delete takes one versionstamp, the next write the one after it" {
	fill rv 30
	kv_req DELETE '/rv?recurse=true'
	assert_code 200
	assert_json '.deleted' '30'
	local dvs
	dvs=$(jq -r .versionstamp <<<"$body")
	kv_put /rv.after '{"value":1}'
	assert_code 200
	assert_equal "$(jq -r .versionstamp <<<"$body")" "$(printf '%020x' $((16#$dvs + 1)))"
}

@test "(recurse) a subtree that is not there answers 0 and a null versionstamp" {
	store_vs
	local before=$vs
	kv_req DELETE '/rn.never?recurse=true'
	assert_code 200
	assert_json '.' '{"deleted":0,"versionstamp":null}'
	store_vs
	assert_equal "$vs" "$before"
}

@test "(recurse) a prefix with only keys below it and no value of its own" {
	kv_put /rb.x.y '{"value":1}'
	kv_put /rb.x.z '{"value":2}'
	kv_req DELETE '/rb.x?recurse=true'
	assert_code 200
	assert_json '.deleted' '2'
	kv_req GET '/rb?list=true'
	assert_json '.entries' '[]'
}

@test "(recurse) expired keys go too, but only live keys are counted" {
	kv_put /re.live '{"value":1}'
	kv_put /re.gone '{"value":2,"ttl":1}'
	kv_put /re.gone.below '{"value":3,"ttl":1}'
	sleep 0.1
	kv_req DELETE '/re?recurse=true'
	assert_code 200
	assert_json '.deleted' '1'
	assert_json '.versionstamp | type' '"string"'
	kv_req GET '/re?list=true'
	assert_json '.entries' '[]'
}

@test "(recurse) above max_recursive_delete: 413 too_many_keys and nothing deleted" {
	fill rm 200
	kv_put /rm '{"value":"own"}'
	kv_req DELETE '/rm?recurse=true'
	assert_error 413 too_many_keys
	assert_json '.error.message' '"more keys lie under rm than one request may delete; nothing was deleted"'
	kv_req GET /rm
	assert_code 200
	kv_req GET '/rm?list=true&values=false'
	assert_json '.entries | length' '200'
	# exactly the bound is allowed
	kv_req DELETE /rm
	kv_req DELETE '/rm?recurse=true'
	assert_code 200
	assert_json '.deleted' '200'
}

@test "(recurse) If-Match or If-None-Match is 400 invalid_query and nothing is deleted" {
	kv_put /ri.a '{"value":1}'
	local tag
	tag=$(kv_header ETag)
	kv_req DELETE '/ri.a?recurse=true' -H "If-Match: $tag"
	assert_error 400 invalid_query
	kv_req DELETE '/ri?recurse=true' -H 'If-None-Match: *'
	assert_error 400 invalid_query
	kv_req GET /ri.a
	assert_code 200
}

@test "(recurse) recurse=false is a plain delete; a bad value is 400; the root takes none" {
	kv_put /rf '{"value":1}'
	kv_put /rf.child '{"value":2}'
	kv_req DELETE '/rf?recurse=false'
	assert_code 200
	assert_json '{key, deleted}' '{"key":"rf","deleted":true}'
	kv_req GET /rf.child
	assert_code 200
	kv_req DELETE '/rf?recurse=yes'
	assert_error 400 invalid_query
	kv_req GET /rf.child
	assert_code 200
	kv_req DELETE '/?recurse=true'
	assert_error 405 method_not_allowed
	assert_equal "$(kv_header Allow)" 'GET, HEAD, POST'
	kv_req GET /rf.child
	assert_code 200
}

@test "(recurse) racing writers: no key under the prefix is older than the delete" {
	fill race 50
	local i j n pids=()
	for i in 1 2 3 4; do
		(
			for ((j = 0; j < 40; j++)); do
				curl -sS -o /dev/null --max-time 20 -X PUT "$KV_URL/race.w$i.k$j" \
					--data-binary '{"value":1}'
			done
		) &
		pids+=($!)
	done
	# the delete starts once the writers have begun
	for ((n = 0; n < 200; n++)); do
		kv_req GET '/race?list=true&values=false' >/dev/null
		(($(jq '[.entries[].key | select(startswith("race.w"))] | length' <<<"$body") >= 4)) && break
		sleep 0.02
	done
	kv_req DELETE '/race?recurse=true'
	assert_code 200
	local dvs deleted left
	dvs=$(jq -r .versionstamp <<<"$body")
	deleted=$(jq .deleted <<<"$body")
	wait "${pids[@]}"
	kv_req GET '/race?list=true&values=false'
	assert_code 200
	# every key left was written after the delete
	assert_json "[.entries[] | select(.versionstamp <= \"$dvs\")] | length" '0'
	left=$(jq '.entries | length' <<<"$body")
	echo "deleted $deleted at $dvs, $left keys written after it"
	((deleted > 50 && deleted + left == 210)) ||
		fail "expected 160 writes split around the delete of 50 keys and some of theirs"
}

# ---- ?list=true&depth=1

# The tree of the one-level tests:
#   ch = "own"; ch.a = 1, ch.a.x = 2, ch.a.y.z = 3; ch.b.q = 4 (ch.b has no
#   value); ch.c = 5; chx.a = "not under ch"
setup_children() {
	[[ -n "${CH_DONE:-}" ]] && return
	commit '{"mutations":[
		{"type":"set","key":"ch","value":"own"},
		{"type":"set","key":"ch.a","value":1},
		{"type":"set","key":"ch.a.x","value":2},
		{"type":"set","key":"ch.a.y.z","value":3},
		{"type":"set","key":"ch.b.q","value":4},
		{"type":"set","key":"ch.c","value":5},
		{"type":"set","key":"chx.a","value":"not under ch"}]}'
	CH_DONE=1
}

@test "(depth=1) the direct children, each once, with hasValue and hasChildren" {
	setup_children
	kv_req GET '/ch?list=true&depth=1'
	assert_code 200
	assert_json '[.entries[] | [.key, .hasValue, .hasChildren, .value]]' \
		'[["ch.a",true,true,1],["ch.b",false,true,null],["ch.c",true,false,5]]'
	assert_json '.cursor' 'null'
	assert_json 'keys_unsorted' '["entries","cursor","versionstamp"]'
	local page_vs=$(jq -r .versionstamp <<<"$body")
	store_vs
	assert_equal "$page_vs" "$vs"
	kv_req GET '/ch?list=true&depth=1'
	assert_json '.entries[0] | keys_unsorted' '["key","hasValue","hasChildren","value","versionstamp","expiresAt"]'
	assert_json '.entries[1] | [.versionstamp, .expiresAt]' '[null,null]'
	local vs
	vs=$(jq -r '.entries[0].versionstamp' <<<"$body")
	kv_req GET /ch.a
	assert_equal "$(kv_header ETag)" "\"$vs\""
}

@test "(depth=1) values=false leaves the values out; reverse=true reverses" {
	setup_children
	kv_req GET '/ch?list=true&depth=1&values=false'
	assert_code 200
	assert_json '[.entries[] | has("value")] | any' 'false'
	assert_json '[.entries[].key]' '["ch.a","ch.b","ch.c"]'
	kv_req GET '/ch?list=true&depth=1&reverse=true'
	assert_code 200
	assert_json '[.entries[].key]' '["ch.c","ch.b","ch.a"]'
}

@test "(depth=1) pages of one child follow the cursor, forward and in reverse" {
	setup_children
	local dir order cursor keys
	for dir in false true; do
		keys=() cursor=
		for _ in 1 2 3 4; do
			kv_req GET "/ch?list=true&depth=1&limit=1&reverse=$dir${cursor:+&cursor=$cursor}"
			assert_code 200
			keys+=("$(jq -r '.entries[].key' <<<"$body")")
			cursor=$(jq -r '.cursor // empty' <<<"$body")
			[[ -n "$cursor" ]] || break
		done
		order=$(IFS=,; echo "${keys[*]}")
		if [[ $dir == false ]]; then
			assert_equal "$order" 'ch.a,ch.b,ch.c'
		else
			assert_equal "$order" 'ch.c,ch.b,ch.a'
		fi
	done
}

@test "(depth=1) the root lists first segments once each" {
	setup_children
	kv_req GET '/?list=true&depth=1'
	assert_code 200
	assert_json '[.entries[].key | select(. == "ch" or . == "chx")]' '["ch","chx"]'
	assert_json '[.entries[].key | select(contains("."))] | length' '0'
	assert_json '.entries | map(.key) | (. == unique)' 'true'
	assert_json '.entries[] | select(.key == "ch") | [.hasValue, .hasChildren, .value]' '[true,true,"own"]'
}

@test "(depth=1) expired keys are not shown, nor children with nothing live below" {
	commit '{"mutations":[
		{"type":"set","key":"ce.gone.x","value":1,"ttl":1},
		{"type":"set","key":"ce.half","value":1,"ttl":1},
		{"type":"set","key":"ce.half.x","value":2},
		{"type":"set","key":"ce.leaf.x","value":1,"ttl":1},
		{"type":"set","key":"ce.leaf","value":3}]}'
	sleep 0.1
	kv_req GET '/ce?list=true&depth=1'
	assert_code 200
	assert_json '[.entries[] | [.key, .hasValue, .hasChildren]]' \
		'[["ce.half",false,true],["ce.leaf",true,false]]'
}

@test "(depth=1) depth other than 1, and a cursor below a child, are 400 invalid_query" {
	setup_children
	kv_req GET '/ch?list=true&depth=2'
	assert_error 400 invalid_query
	assert_json '.error.message' '"depth must be 1"'
	kv_req GET '/ch?list=true&depth=0'
	assert_error 400 invalid_query
	# the hex of ch.a.x: a key under the prefix, but no child of it
	kv_req GET "/ch?list=true&depth=1&cursor=$(printf %s ch.a.x | od -An -tx1 | tr -d " \n")"
	assert_error 400 invalid_query
	kv_req GET "/ch?list=true&depth=1&cursor=$(printf %s ch.a | od -An -tx1 | tr -d " \n")"
	assert_code 200
	assert_json '[.entries[].key]' '["ch.b","ch.c"]'
	# without list=true, depth means nothing
	kv_req GET '/ch?depth=1'
	assert_code 200
	assert_equal "$body" '"own"'
}

# ---- POST /kv/?read=true

@test "(read) many keys in one answer, in the order asked, absent ones null" {
	commit '{"mutations":[
		{"type":"set","key":"rm2.a","value":{"x":[1,2]}},
		{"type":"set","key":"rm2.n","value":null},
		{"type":"set","key":"rm2.t","value":"t","ttl":600000}]}'
	local cvs
	cvs=$(jq -r .versionstamp <<<"$body")
	read_many '{"keys":["rm2.t","rm2.none","rm2.a","rm2.n","rm2.a"]}'
	assert_code 200
	assert_json '[.entries[].key]' '["rm2.t","rm2.none","rm2.a","rm2.n","rm2.a"]'
	assert_json '.entries[1]' '{"key":"rm2.none","value":null,"versionstamp":null,"expiresAt":null}'
	assert_json '.entries[2].value' '{"x":[1,2]}'
	assert_json '.entries[3] | [.value, .versionstamp]' "[null,\"$cvs\"]"
	assert_json '.entries[0].expiresAt | type' '"number"'
	assert_json '.entries[4] == .entries[2]' 'true'
	assert_json '.versionstamp >= .entries[0].versionstamp' 'true'
	store_vs
	read_many '{"keys":["rm2.a"]}'
	assert_json '.versionstamp' "\"$vs\""
}

@test "(read) an expired key is absent; an empty list answers no entries" {
	kv_put /rx.gone '{"value":1,"ttl":1}'
	sleep 0.1
	read_many '{"keys":["rx.gone"]}'
	assert_code 200
	assert_json '.entries[0].versionstamp' 'null'
	read_many '{"keys":[]}'
	assert_code 200
	assert_json '.entries' '[]'
}

@test "(read) 100 keys are read, 101 are 400 too_many_operations" {
	local keys100 keys101
	keys100=$(jq -nc '{keys: [range(100) | "many.k\(.)"]}')
	keys101=$(jq -nc '{keys: [range(101) | "many.k\(.)"]}')
	read_many "$keys100"
	assert_code 200
	assert_json '.entries | length' '100'
	read_many "$keys101"
	assert_error 400 too_many_operations
}

@test "(read) bad bodies get the contract's errors" {
	read_many 'nope'
	assert_error 400 invalid_json
	read_many '["a"]'
	assert_error 400 invalid_body
	read_many '{}'
	assert_error 400 invalid_body
	read_many '{"keys":"a"}'
	assert_error 400 invalid_body
	read_many '{"keys":[1]}'
	assert_error 400 invalid_body
	read_many '{"keys":["a"],"more":1}'
	assert_error 400 invalid_body
	read_many '{"keys":["a"],"keys":["b"]}'
	assert_error 400 invalid_body
	read_many '{"keys":["ok","a..b"]}'
	assert_error 400 invalid_key
	assert_json '.error.message' '"keys[1]: not a valid keypath"'
	read_many '{"keys":[["a"]]}'
	assert_error 400 invalid_body
}

@test "(read) read=true is for the root: POST on a key is 405, read=false is a commit" {
	kv_req POST '/rk?read=true' --data-binary '{"keys":["rk"]}'
	assert_error 405 method_not_allowed
	kv_req POST '/?read=false' --data-binary '{"keys":["rk"]}'
	assert_error 400 invalid_body
	kv_req POST '/?read=maybe' --data-binary '{"keys":["rk"]}'
	assert_error 400 invalid_query
}

@test "(read) one snapshot: 100 keys a commit writes together are read together" {
	local i r keys out=$BATS_TEST_TMPDIR/reads
	keys=$(jq -nc '{keys: [range(100) | "snap.k\(.)"]}')
	commit "$(jq -nc '{mutations: [range(100) | {type: "set", key: "snap.k\(.)", value: 0}]}')"
	(
		for ((i = 1; i <= 60; i++)); do
			curl -sS -o /dev/null --max-time 20 -X POST "$KV_URL/" --data-binary \
				"$(jq -nc --argjson i "$i" '{mutations: [range(100) | {type: "set", key: "snap.k\(.)", value: $i}]}')"
		done
	) &
	local writer=$! readers=()
	for r in 1 2 3; do
		(
			while kill -0 "$writer" 2>/dev/null; do
				curl -sS --max-time 20 -X POST "$KV_URL/?read=true" --data-binary "$keys"
				echo
			done >"$out.$r"
		) &
		readers+=($!)
	done
	wait "$writer" "${readers[@]}"
	cat "$out".* >"$out"
	local n torn
	n=$(grep -c . "$out")
	# each answer: one value and one versionstamp for all 100 keys, at or
	# below the answer's own
	torn=$(jq -c 'select(([.entries[].value] | unique | length) != 1 or
		([.entries[].versionstamp] | unique | length) != 1 or
		.versionstamp < .entries[0].versionstamp) | [.entries[].value] | unique' "$out" | wc -l)
	echo "$n reads during the writes, $torn torn"
	assert_equal "$torn" 0
	((n > 20)) || fail "only $n reads overlapped the writes"
	assert_equal "$(jq -s 'map(.entries | length) | unique' "$out" | jq -c .)" '[100]'
}
