bats_require_minimum_version 1.7.0
load '../lib/helper'
setup_file() { kv_setup_file; }
teardown_file() { kv_teardown_file; }

# Listing with ?list=true: prefix semantics, order, paging, query checks.

# The entries with their members in a fixed order, for comparing.
entry_filter='[.entries[] | {key, value, versionstamp, expiresAt}]'

# seed PREFIX: the same ten keys under PREFIX, plus PREFIX itself and two
# look-alike neighbours (PREFIXx.a, PREFIX_a), written out of order.
seed() {
	local p=$1 k
	for k in "$p" "$p.a.c" "$p.a-" "$p.a.b.c" "$p.%C3%A9" "$p.a" "$p.Z" "$p.a.ba" \
		"$p.a.b" "$p.a0" "$p.b" "${p}x.a" "${p}_a"; do
		kv_put "/$k" "{\"value\":\"$k\"}" >/dev/null
		assert_code 200
	done
}

# expected PREFIX: the keys seed writes under PREFIX, in contract order.
expected() {
	local p=$1
	printf '["%s.Z","%s.a","%s.a.b","%s.a.b.c","%s.a.ba","%s.a.c","%s.a-","%s.a0","%s.b","%s.é"]' \
		"$p" "$p" "$p" "$p" "$p" "$p" "$p" "$p" "$p" "$p"
}

# page_all PATH LIMIT [EXTRA_QUERY]: follow cursors from the first page
# until cursor is null; print the keys seen, as a JSON array.
page_all() {
	local path=$1 limit=$2 extra=${3-} cursor='' keys='[]' pages=0 q n
	while :; do
		q="list=true&limit=$limit$extra"
		if [[ -n $cursor ]]; then q+="&cursor=$cursor"; fi
		kv_req GET "$path?$q" >/dev/null
		assert_code 200
		n=$(jq '.entries | length' <<<"$body")
		if ((n > limit)); then fail "page of $n entries with limit $limit: $body"; fi
		keys=$(jq -c --argjson acc "$keys" '$acc + [.entries[].key]' <<<"$body")
		cursor=$(jq -r 'if .cursor == null then "" else .cursor | @uri end' <<<"$body")
		pages=$((pages + 1))
		if ((pages > 50)); then fail "more than 50 pages"; fi
		if [[ -z $cursor ]]; then break; fi
	done
	printf '%s\n' "$keys"
}

@test "(list) lists the keys strictly under the prefix in segment order" {
	seed ord
	kv_req GET '/ord?list=true'
	assert_code 200
	assert_json '[.entries[].key]' "$(expected ord)"
	assert_json '.cursor' 'null'
}

@test "(list) entries carry key, value, versionstamp and expiresAt" {
	kv_put /ent.one '{"value":{"a":1}}'
	assert_code 200
	local vs1 vs2
	vs1=$(jq -r .versionstamp <<<"$body")
	kv_put /ent.two '{"value":[2]}'
	vs2=$(jq -r .versionstamp <<<"$body")
	kv_req GET '/ent?list=true'
	assert_code 200
	assert_json '[.entries[] | keys]' '[["expiresAt","key","value","versionstamp"],["expiresAt","key","value","versionstamp"]]'
	assert_json "$entry_filter" \
		"[{\"key\":\"ent.one\",\"value\":{\"a\":1},\"versionstamp\":\"$vs1\",\"expiresAt\":null},{\"key\":\"ent.two\",\"value\":[2],\"versionstamp\":\"$vs2\",\"expiresAt\":null}]"
	assert_json '.cursor' 'null'
	assert_regex "$(kv_header Content-Type)" '^application/json.*charset=utf-8'
	assert_equal "$(kv_header Cache-Control)" 'no-store'
}

@test "(list) the prefix itself and look-alike prefixes are left out" {
	local k
	for k in users users.john users.john.x usersx.a user.a users_a; do
		kv_put "/$k" '{"value":1}' >/dev/null
		assert_code 200
	done
	kv_req GET '/users?list=true'
	assert_code 200
	assert_json '[.entries[].key]' '["users.john","users.john.x"]'
	kv_req GET '/users.john?list=true'
	assert_code 200
	assert_json '[.entries[].key]' '["users.john.x"]'
}

@test "(list) a prefix with nothing under it is 200 with an empty list" {
	kv_put /leaf.only '{"value":1}'
	assert_code 200
	kv_req GET '/leaf.only?list=true'
	assert_code 200
	assert_json '{entries, cursor}' '{"entries":[],"cursor":null}'
	kv_req GET '/nothing.here?list=true'
	assert_code 200
	assert_json '{entries, cursor}' '{"entries":[],"cursor":null}'
}

@test "(list) an empty prefix lists every key in segment order" {
	kv_put /all1.x '{"value":1}'
	kv_put /all2 '{"value":2}'
	kv_put /all1 '{"value":3}'
	kv_req GET '/?list=true'
	assert_code 200
	assert_json '[.entries[].key] | (index("all1") < index("all1.x")) and (index("all1.x") < index("all2"))' 'true'
	assert_json '[.entries[].key] == ([.entries[].key] | sort_by(split(".") | map(explode)))' 'true'
	assert_json '[.entries[].key] | length == (unique | length)' 'true'
	local slash=$body
	kv_req GET '?list=true'
	assert_code 200
	assert_equal "$body" "$slash"
}

@test "(list) reverse=true gives the exact reverse order" {
	seed rev
	kv_req GET '/rev?list=true&reverse=true'
	assert_code 200
	assert_json '[.entries[].key]' "$(expected rev | jq -c reverse)"
	assert_json '.cursor' 'null'
	kv_req GET '/rev?list=true&reverse=false'
	assert_code 200
	assert_json '[.entries[].key]' "$(expected rev)"
}

@test "(list) values=false leaves out the value and keeps the metadata" {
	kv_put /nov.a '{"value":{"big":"x"}}'
	local vs
	vs=$(jq -r .versionstamp <<<"$body")
	kv_put /nov.b '{"value":null}'
	kv_req GET '/nov?list=true&values=false'
	assert_code 200
	assert_json '[.entries[].key]' '["nov.a","nov.b"]'
	assert_json '[.entries[] | has("value")]' '[false,false]'
	assert_json '.entries[0] | keys' '["expiresAt","key","versionstamp"]'
	assert_json '.entries[0] | {key, versionstamp, expiresAt}' "{\"key\":\"nov.a\",\"versionstamp\":\"$vs\",\"expiresAt\":null}"
	kv_req GET '/nov?list=true&values=true'
	assert_code 200
	assert_json '[.entries[].value]' '[{"big":"x"},null]'
}

@test "(list) 1 and 0 are booleans too" {
	seed bool
	kv_req GET '/bool?list=1&reverse=1&values=0'
	assert_code 200
	assert_json '[.entries[].key]' "$(expected bool | jq -c reverse)"
	assert_json '[.entries[] | has("value")] | any' 'false'
	assert_json '[.entries[] | has("versionstamp")] | all' 'true'
}

@test "(list) pages hold at most limit entries and the last page has a null cursor" {
	local k
	for k in a b c d e; do kv_put "/pg5.$k" '{"value":1}' >/dev/null; done
	kv_req GET '/pg5?list=true&limit=2'
	assert_code 200
	assert_json '[.entries[].key]' '["pg5.a","pg5.b"]'
	assert_json '.cursor | type' '"string"'
	local c
	c=$(jq -r '.cursor | @uri' <<<"$body")
	kv_req GET "/pg5?list=true&limit=2&cursor=$c"
	assert_code 200
	assert_json '[.entries[].key]' '["pg5.c","pg5.d"]'
	assert_json '.cursor | type' '"string"'
	c=$(jq -r '.cursor | @uri' <<<"$body")
	kv_req GET "/pg5?list=true&limit=2&cursor=$c"
	assert_code 200
	assert_json '[.entries[].key]' '["pg5.e"]'
	assert_json '.cursor' 'null'
}

@test "(list) paging with the cursor reassembles the full list" {
	seed page
	local want
	want=$(expected page)
	assert_equal "$(page_all /page 2)" "$want"
	assert_equal "$(page_all /page 3)" "$want"
	assert_equal "$(page_all /page 1)" "$want"
	assert_equal "$(page_all /page 2 '&values=false')" "$want"
}

@test "(list) paging in reverse reassembles the full reverse list" {
	seed rpage
	local want
	want=$(expected rpage | jq -c reverse)
	assert_equal "$(page_all /rpage 2 '&reverse=true')" "$want"
	assert_equal "$(page_all /rpage 3 '&reverse=true')" "$want"
}

@test "(list) paging the whole store from the root reassembles the full list" {
	seed root
	kv_req GET '/?list=true'
	assert_code 200
	local want
	want=$(jq -c '[.entries[].key]' <<<"$body")
	assert_equal "$(page_all / 9)" "$want"
	assert_equal "$(page_all / 7 '&reverse=true')" "$(jq -c reverse <<<"$want")"
}

@test "(list) a cursor keeps working when keys change between pages" {
	local k
	for k in a b c d e; do kv_put "/pgc.$k" '{"value":1}' >/dev/null; done
	kv_req GET '/pgc?list=true&limit=2'
	assert_code 200
	assert_json '[.entries[].key]' '["pgc.a","pgc.b"]'
	local c
	c=$(jq -r '.cursor | @uri' <<<"$body")
	kv_put /pgc.c0 '{"value":1}'
	kv_put /pgc.a0 '{"value":1}'
	kv_req DELETE /pgc.d
	assert_json '.deleted' 'true'
	kv_req GET "/pgc?list=true&limit=10&cursor=$c"
	assert_code 200
	assert_json '[.entries[].key]' '["pgc.c","pgc.c0","pgc.e"]'
	assert_json '.cursor' 'null'
}

@test "(list) limit 1 and 1000 are accepted" {
	seed lim
	kv_req GET '/lim?list=true&limit=1'
	assert_code 200
	assert_json '[.entries[].key]' '["lim.Z"]'
	assert_json '.cursor | type' '"string"'
	kv_req GET '/lim?list=true&limit=1000'
	assert_code 200
	assert_json '[.entries[].key]' "$(expected lim)"
	assert_json '.cursor' 'null'
}

@test "(list) a bad boolean is 400 invalid_query" {
	local q
	for q in 'list=yes' 'list=True' 'list=TRUE' 'list=2' 'list=' \
		'list=true&reverse=2' 'list=true&reverse=yes' 'list=true&reverse=' \
		'list=true&values=maybe' 'list=true&values=no' 'list=true&values='; do
		kv_req GET "/bq?$q"
		assert_error 400 invalid_query
	done
}

@test "(list) a limit outside 1..1000 or not an integer is 400 invalid_query" {
	local l
	for l in 0 -1 1001 abc '' 1.5 5x %205 99999999999999999999 0x10; do
		kv_req GET "/bl?list=true&limit=$l"
		assert_error 400 invalid_query
	done
}

@test "(list) a forged or truncated cursor is 400 invalid_query" {
	local k c
	for k in a b c; do kv_put "/cur.$k" '{"value":1}' >/dev/null; done
	kv_req GET '/cur?list=true&limit=1'
	assert_code 200
	c=$(jq -r .cursor <<<"$body")
	for bad in zz 00 "${c:0:${#c}-2}" "${c:0:1}" "${c}zz" "x$c"; do
		kv_req GET "/cur?list=true&limit=1&cursor=$(jq -rn --arg c "$bad" '$c | @uri')"
		assert_error 400 invalid_query
	done
}

@test "(list) a cursor from another prefix's listing is 400 invalid_query" {
	local k c
	for k in a b c; do kv_put "/curx.$k" '{"value":1}' >/dev/null; done
	for k in a b c; do kv_put "/cury.$k" '{"value":1}' >/dev/null; done
	kv_req GET '/curx?list=true&limit=1'
	assert_code 200
	c=$(jq -r '.cursor | @uri' <<<"$body")
	kv_req GET "/cury?list=true&limit=1&cursor=$c"
	assert_error 400 invalid_query
}

@test "(list) list=false and list=0 on a key are plain GETs" {
	kv_put /plain.k '{"value":"v"}'
	kv_put /plain.k.child '{"value":"c"}'
	kv_req GET '/plain.k?list=false'
	assert_code 200
	assert_equal "$body" '"v"'
	kv_req GET '/plain.k?list=0'
	assert_code 200
	assert_equal "$body" '"v"'
	kv_req GET '/plain.absent?list=false'
	assert_error 404 not_found
}

@test "(list) unknown query parameters are ignored" {
	kv_put /unk.a '{"value":1}'
	kv_put /unk.b '{"value":2}'
	kv_req GET '/unk?list=true&foo=bar&x'
	assert_code 200
	assert_json '[.entries[].key]' '["unk.a","unk.b"]'
	kv_req GET '/unk.a?foo=bar'
	assert_code 200
	assert_equal "$body" '1'
}

@test "(list) an entry shows the latest value and versionstamp" {
	kv_put /late.k '{"value":"old"}'
	kv_put /late.k '{"value":"new"}'
	local vs
	vs=$(jq -r .versionstamp <<<"$body")
	kv_req GET '/late?list=true'
	assert_code 200
	assert_json "$entry_filter" "[{\"key\":\"late.k\",\"value\":\"new\",\"versionstamp\":\"$vs\",\"expiresAt\":null}]"
}
