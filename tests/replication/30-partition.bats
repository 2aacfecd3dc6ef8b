bats_require_minimum_version 1.7.0
load '../lib/group'

# Each site in a network namespace of its own, with a link to the
# clients' network and one to the replication network: cutting the
# master's replication link leaves it reachable by clients but alone.
# Needs root (ip netns); CI runs as root.
setup_file() {
	[[ $(id -u) == 0 ]] || skip "network namespaces need root"
	local id tries=0
	while :; do
		id=$((1 + RANDOM % 250))
		ip link show "kvc$id" >/dev/null 2>&1 || break
		((++tries < 50)) || return 1
	done
	export KV_GROUP_NETNS=$id
	group_setup_file
}
teardown_file() { group_teardown_file; }

@test "(partition) a master cut off from its replicas: they elect another, it acknowledges nothing, and after healing it rolls back and rejoins" {
	local old new cut_ms heal_ms vs
	old=$(group_master)
	[[ -n $old ]] || fail "no master: $(group_roles)"
	python3 "$KV_SRCDIR/tests/lib/group_load.py" "$BATS_TEST_TMPDIR/load" 24 4 pt \
		"$SITE_URL_1" "$SITE_URL_2" "$SITE_URL_3" &
	local load=$!
	sleep 4
	"$KV_SRCDIR/script/group" cut "$GROUP_DIR" "$old"
	cut_ms=$(group_now_ms)
	new=$(group_wait_master "$old")
	echo "site $new is master $(($(group_now_ms) - cut_ms)) ms after the cut"
	# Both believe they are master for a while: the old one still takes
	# writes from clients, and must answer none of them 200.
	sleep 6
	heal_ms=$(group_now_ms)
	"$KV_SRCDIR/script/group" heal "$GROUP_DIR" "$old"
	wait "$load"
	local deadline=$(($(group_now_ms) + 60000))
	until [[ $(group_role "$old") == replica ]]; do
		(($(group_now_ms) < deadline)) || fail "site $old did not rejoin as a replica: $(group_roles)"
		sleep 0.2
	done
	echo "site $old is a replica again $(($(group_now_ms) - heal_ms)) ms after the healing"
	echo "writes sent to the cut-off site while cut: $(awk -v url="$(group_url "$old")" -v a="$cut_ms" -v b="$heal_ms" \
		'$4 == url && $8 >= a && $8 < b { print $5 }' "$BATS_TEST_TMPDIR/load" | sort | uniq -c | tr '\n' ' ')"
	vs=$(curl -sS "$(group_url "$new")/" | jq -r .replication.versionstamp)
	group_wait_vs "$old" "$vs"
	local n
	for n in "$new" "$old"; do
		group_backup "$n" "$BATS_TEST_TMPDIR/backup.$n"
		# A write sent to the old master once the cut was in place could
		# not have been acknowledged by anyone: it must not be a 200.
		run python3 "$KV_SRCDIR/tests/lib/group_check.py" "$BATS_TEST_TMPDIR/load" \
			"$BATS_TEST_TMPDIR/backup.$n" pt "$cut_ms" "$(group_url "$old")"
		echo "site $n: $output"
		assert_success
	done
	grep '"key":"pt\.' "$BATS_TEST_TMPDIR/backup.$new" | sort >"$BATS_TEST_TMPDIR/a"
	grep '"key":"pt\.' "$BATS_TEST_TMPDIR/backup.$old" | sort >"$BATS_TEST_TMPDIR/b"
	run diff "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	assert_success
}
