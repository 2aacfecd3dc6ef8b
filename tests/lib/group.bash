# tests/lib/group.bash: a three-site replicated group for one bats file,
# started by script/group (docs/replication.md)
#
#   setup_file()    { group_setup_file; }
#   teardown_file() { group_teardown_file; }
#
# Exported: GROUP_DIR (the sites' files, DIR/siteN), PORT and REPL_PORT
# (script/group's), and SITE_URL_1..3. group_url N, group_roles,
# group_master (the number of the site that says it is master, or
# nothing), group_wait_master [EXCEPT] and group_backup N FILE.
# GROUP_KEEP_LOGS=DIR copies the sites' files there when the file ends.
# A file may define group_before_up, run before the group starts (with
# GROUP_DIR set; site N's store is $GROUP_DIR/siteN/store), and again
# before each new start when a port was taken.
# With KV_GROUP_NETNS set (script/group) each site has a network namespace.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

: "${KV_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${KV_BUILDDIR:=$KV_SRCDIR}"
: "${KV_BIN:=$KV_BUILDDIR/src/kvd}"
export KV_SRCDIR KV_BUILDDIR KV_BIN
PATH=$PATH:/usr/sbin:/sbin

group_now_ms() { date +%s%3N; }

# _group_ports_free BASE: whether BASE..BASE+2 and BASE+100..BASE+102 are
# free on loopback.
_group_ports_free() {
	local p
	for p in $1 $(($1 + 1)) $(($1 + 2)) $(($1 + 100)) $(($1 + 101)) $(($1 + 102)); do
		(exec 9<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && return 1
	done
	return 0
}

group_setup_file() {
	local attempt rc
	export GROUP_DIR=$BATS_FILE_TMPDIR/group
	# Other suites take ports in the same range: one taken between the
	# check and the start makes script/group exit 3, and the group starts
	# again from nothing on other ports (a site's store records the
	# group's addresses).
	for attempt in 1 2 3; do
		_group_pick_ports || return 1
		rm -rf "$GROUP_DIR"
		if declare -F group_before_up >/dev/null; then
			group_before_up
		fi
		rc=0
		"$KV_SRCDIR/script/group" up "$GROUP_DIR" || rc=$?
		((rc == 3)) || return "$rc"
		"$KV_SRCDIR/script/group" down "$GROUP_DIR" || true
		echo "group: a port was taken (attempt $attempt); trying others" >&2
	done
	return 1
}

# _group_pick_ports: free ports for the group; exports PORT, REPL_PORT and
# SITE_URL_1..3.
_group_pick_ports() {
	local base tries=0 n host
	while :; do
		base=$((21000 + (RANDOM % 80) * 100 + RANDOM % 50))
		_group_ports_free "$base" && break
		((++tries < 50)) || { echo "no free ports" >&2; return 1; }
	done
	export PORT=$base REPL_PORT=$((base + 100))
	for n in 1 2 3; do
		host=127.0.0.1
		[[ -z ${KV_GROUP_NETNS:-} ]] || host=10.213.$KV_GROUP_NETNS.$n
		export "SITE_URL_$n=http://$host:$((base + n - 1))/kv"
	done
}

group_teardown_file() {
	[[ -n ${GROUP_KEEP_LOGS:-} ]] && cp -r "$GROUP_DIR" "$GROUP_KEEP_LOGS"
	"$KV_SRCDIR/script/group" down "$GROUP_DIR" || true
}

group_url() {
	local v=SITE_URL_$1
	echo "${!v}"
}

# group_role N: what site N says it is (master, replica), or down.
group_role() {
	local r
	r=$(curl -sS --max-time 2 "$(group_url "$1")/" 2>/dev/null | jq -r '.replication.role // "down"' 2>/dev/null) || true
	echo "${r:-down}"
}

group_roles() {
	echo "$(group_role 1) $(group_role 2) $(group_role 3)"
}

group_master() {
	local n
	for n in 1 2 3; do
		[[ $(group_role "$n") == master ]] && { echo "$n"; return 0; }
	done
	return 0
}

# group_wait_master [EXCEPT]: until a site other than EXCEPT says it is
# master, for at most 30 s; prints its number.
group_wait_master() {
	local n deadline=$(($(group_now_ms) + 30000))
	while (($(group_now_ms) < deadline)); do
		for n in 1 2 3; do
			[[ $n == "${1:-}" ]] && continue
			[[ $(group_role "$n") == master ]] && { echo "$n"; return 0; }
		done
		sleep 0.1
	done
	echo "no master after 30 s: $(group_roles)" >&2
	return 1
}

# group_wait_vs N VS: until site N has applied versionstamp VS, 30 s at most.
group_wait_vs() {
	local got deadline=$(($(group_now_ms) + 30000))
	while (($(group_now_ms) < deadline)); do
		got=$(curl -sS --max-time 2 "$(group_url "$1")/" 2>/dev/null | jq -r '.replication.versionstamp // ""')
		[[ -n $got && ! $got < $2 ]] && return 0
		sleep 0.1
	done
	echo "site $1 is at ${got:-nothing}, not $2, after 30 s; its store says:" >&2
	"$KV_BUILDDIR/src/kvctl" -c "$GROUP_DIR/site$1/kv.conf" stats 2>&1 | grep versionstamp >&2
	group_log_tails "$1" >&2
	return 1
}

# group_log_tails N: the end of site N's logs, for a failure's report.
group_log_tails() {
	"$KV_SRCDIR/script/group" logs "$GROUP_DIR" "$1"
}

# group_backup N FILE: site N's backup (every live key, as JSON lines).
group_backup() {
	curl -sS --fail --max-time 30 -o "$2" "$(group_url "$1")/?backup=true"
}
