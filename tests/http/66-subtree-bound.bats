bats_require_minimum_version 1.7.0
load '../lib/helper'

# The recursive delete at its default bound (max_recursive_delete =
# 100,000): a subtree of 100,000 keys of 1 KiB values is deleted in one
# request, one key more is refused with nothing deleted. The keys are
# seeded before the server starts by bench/seed, through the store API.

kv_before_start() {
	"$KV_BUILDDIR/bench/seed" "$KV_CONF" 100000 1024 big.tree 2>/dev/null &&
		"$KV_BUILDDIR/bench/seed" "$KV_CONF" 1 1024 big.tree.k00000 2>/dev/null
}
setup_file() { kv_setup_file; }
teardown_file() { kv_teardown_file; }

# assert_tree_keys N: the keys under big.tree, counted through list pages.
assert_tree_keys() {
	local n=0 cursor= page
	while :; do
		kv_req GET "/big.tree?list=true&values=false${cursor:+&cursor=$cursor}" >/dev/null
		assert_code 200
		page=$(jq '.entries | length' <<<"$body")
		n=$((n + page))
		cursor=$(jq -r '.cursor // empty' <<<"$body")
		[[ -n "$cursor" ]] || break
	done
	assert_equal "$n" "$1"
}

@test "(recurse bound) 100,001 keys: 413 too_many_keys, nothing deleted" {
	kv_req GET '/big?list=true&depth=1'
	assert_code 200
	assert_json '[.entries[] | [.key, .hasValue, .hasChildren]]' '[["big.tree",false,true]]'
	kv_req DELETE '/big.tree?recurse=true'
	assert_error 413 too_many_keys
	assert_tree_keys 100001
}

@test "(recurse bound) 100,000 keys of 1 KiB: deleted in one request" {
	kv_req DELETE /big.tree.k00000.k00000
	assert_json '.deleted' 'true'
	kv_req DELETE '/big.tree?recurse=true'
	assert_code 200
	assert_json '.deleted' '100000'
	assert_tree_keys 0
	kv_req GET '/big?list=true&depth=1'
	assert_json '.entries' '[]'
}
