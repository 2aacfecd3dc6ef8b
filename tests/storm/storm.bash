# tests/storm/storm.bash: a kill storm against the service and the checker
# that compares every acknowledged write with the store afterwards.
#
# storm_run TAG SECONDS MIN_PAUSE_DS MAX_PAUSE_DS: for SECONDS, 4 clients PUT
# storm.TAG.N.I = {"n":N,"i":I} and 2 clients commit a sum +1 on
# storm.TAG.counter together with a set of storm.TAG.cN.I, while a killer
# SIGKILLs a random kvd of the server every MIN..MAX tenths of a second.
# Then, with nothing restarted, it waits for the service to answer 200 and
# checks: every write answered 200 is in the store with its value, nothing
# else is under the prefix, and the counter lies between the commits
# acknowledged and the commits sent. A watcher follows the prefix's change
# feed with long-polls through the storm (asking again from where it was
# after any error) and must have seen every acknowledged write with its
# value, in versionstamp order. Prints one line of outcome:
#   storm TAG: kills K, acknowledged A (puts P, commits C of S sent),
#   counter X, answering again after T s
# and the recoveries and watchdog exits the server's log shows
# and fails (status 1) on any lost write.

# Seconds the service may take to answer 200 again once the storm ends.
: "${STORM_RECOVER_S:=30}"

# _storm_client KIND N DIR TAG: until DIR/stop exists, sends write I = 0,
# 1, ... of client N (KIND put: a PUT of storm.TAG.N.I; commit: a sum +1 on
# storm.TAG.counter with a set of storm.TAG.cN.I), logging "<status> I" to
# DIR/KIND.N.
_storm_client() {
	local kind=$1 n=$2 dir=$3 tag=$4 i=0 code value
	local -a how
	while [[ ! -e "$dir/stop" ]]; do
		value="{\"n\":$n,\"i\":$i}"
		if [[ $kind == put ]]; then
			how=(-X PUT --data-binary "{\"value\":$value}" "$KV_URL/storm.$tag.$n.$i")
		else
			how=(-X POST --data-binary "{\"mutations\":[{\"type\":\"sum\",\"key\":\"storm.$tag.counter\",\"value\":1},{\"type\":\"set\",\"key\":\"storm.$tag.c$n.$i\",\"value\":$value}]}" "$KV_URL/")
		fi
		code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 30 "${how[@]}" 2>/dev/null) ||
			code=000
		echo "$code $i" >>"$dir/$kind.$n"
		i=$((i + 1))
	done
}

# _storm_watcher DIR TAG SINCE: until DIR/stop exists, follows the change
# feed of storm.TAG from SINCE with long-polls, appending each answer to
# DIR/watch (one JSON line each) and asking again from its versionstamp;
# after an error, from where it was. Then, once DIR/done says every
# client's last write has its answer, reads on until it has caught up
# with the store.
_storm_watcher() {
	local dir=$1 tag=$2 since=$3 code more=true tries=0
	while [[ ! -e "$dir/stop" ]]; do
		code=$(curl -sS -o "$dir/watch.answer" -w '%{http_code}' --max-time 10 \
			"$KV_URL/storm.$tag?changes=true&since=$since&wait=2000" 2>/dev/null) || code=000
		if [[ $code == 200 ]] && jq -e .versionstamp "$dir/watch.answer" >/dev/null 2>&1; then
			jq -c . "$dir/watch.answer" >>"$dir/watch"
			since=$(jq -r .versionstamp "$dir/watch.answer")
		else
			echo "$code" >>"$dir/watch.errors"
			sleep 0.2
		fi
	done
	while [[ ! -e "$dir/done" ]] && ((tries++ < 600)); do
		sleep 0.1
	done
	tries=0
	while ((tries++ < 200)); do
		code=$(curl -sS -o "$dir/watch.answer" -w '%{http_code}' --max-time 10 \
			"$KV_URL/storm.$tag?changes=true&since=$since" 2>/dev/null) || code=000
		if [[ $code != 200 ]]; then
			sleep 0.2
			continue
		fi
		jq -c . "$dir/watch.answer" >>"$dir/watch"
		since=$(jq -r .versionstamp "$dir/watch.answer")
		more=$(jq -r .more "$dir/watch.answer")
		[[ $more == true ]] || break
	done
}

# The kvd processes under this test's web server.
_storm_kvd_pids() {
	pgrep -g "$KV_SERVER_PID" -x kvd || true
}

# Every entry under PREFIX as one JSON object {key: value}, page by page,
# into the file OUT.
_storm_list_all() {
	local prefix=$1 out=$2 cursor='' tries n=0
	: >"$out.pages"
	while :; do
		for ((tries = 0; tries < 20; tries++)); do
			curl -sS --max-time 30 -o "$out.page" \
				"$KV_URL/$prefix?list=true&limit=1000${cursor:+&cursor=$cursor}" &&
				jq -e '.entries' "$out.page" >/dev/null 2>&1 && break
			sleep 0.5
		done
		cat "$out.page" >>"$out.pages"
		cursor=$(jq -r '.cursor // empty' "$out.page")
		[[ -n "$cursor" && $((n += 1)) -lt 1000 ]] || break
	done
	jq -s -c 'map(.entries[]) | map({(.key): .value}) | add // {}' "$out.pages" >"$out"
}

# Says a line of the outcome in the test's output and in the TAP stream,
# so that passing runs show their numbers too.
_storm_say() {
	echo "$*"
	echo "# $*" >&3
}

storm_run() {
	local tag=$1 seconds=$2 min=$3 max=$4
	local dir=$BATS_TEST_TMPDIR/storm.$tag pids=() n kills=0 victim end
	mkdir -p "$dir"
	local rec0 stuck0
	rec0=$(grep -c 'recovering the store' "$KV_LOG" || true)
	stuck0=$(grep -c 'stuck in the store' "$KV_LOG" || true)
	local since0 watcher
	since0=$(curl -sS --max-time 10 "$KV_URL/?changes=true" | jq -r .versionstamp)
	[[ $since0 =~ ^[0-9a-f]{20}$ ]] || { echo "no versionstamp to follow the feed from"; return 1; }
	for n in 0 1 2 3; do
		_storm_client put "$n" "$dir" "$tag" &
		pids+=($!)
	done
	for n in 0 1; do
		_storm_client commit "$n" "$dir" "$tag" &
		pids+=($!)
	done
	_storm_watcher "$dir" "$tag" "$since0" &
	watcher=$!
	end=$((SECONDS + seconds))
	while ((SECONDS < end)); do
		sleep "$(awk -v a="$min" -v b="$max" -v r="$RANDOM" 'BEGIN { printf "%.1f", (a + r % (b - a + 1)) / 10 }')"
		victim=$(_storm_kvd_pids | shuf -n 1)
		[[ -n "$victim" ]] && kill -KILL "$victim" 2>/dev/null && kills=$((kills + 1))
	done
	touch "$dir/stop"
	for n in "${pids[@]}"; do wait "$n"; done
	touch "$dir/done"

	# Back by itself: nothing is restarted.
	local t0=$SECONDS back=-1
	kill -0 "$KV_SERVER_PID" || { echo "the web server died"; return 1; }
	while ((SECONDS - t0 < STORM_RECOVER_S)); do
		if [[ "$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 "$KV_URL/" 2>/dev/null)" == 200 ]]; then
			back=$((SECONDS - t0))
			break
		fi
		sleep 0.2
	done
	if ((back < 0)); then
		echo "storm $tag: the service did not answer 200 within ${STORM_RECOVER_S}s of the storm's end"
		return 1
	fi
	wait "$watcher"

	local entries=$dir/entries lost=0 puts=0 commits=0 sent=0 code i key
	_storm_list_all "storm.$tag" "$entries"
	for n in 0 1 2 3; do
		while read -r code i; do
			[[ "$code" == 200 ]] || continue
			puts=$((puts + 1))
			echo "storm.$tag.$n.$i {\"n\":$n,\"i\":$i}"
		done <"$dir/put.$n"
	done >"$dir/acked"
	for n in 0 1; do
		while read -r code i; do
			sent=$((sent + 1))
			[[ "$code" == 200 ]] || continue
			commits=$((commits + 1))
			echo "storm.$tag.c$n.$i {\"n\":$n,\"i\":$i}"
		done <"$dir/commit.$n"
	done >>"$dir/acked"
	puts=$(grep -c "^storm\.$tag\.[0-9]" "$dir/acked" || true)
	commits=$(grep -c "^storm\.$tag\.c" "$dir/acked" || true)
	# Every acknowledged write is there with its value.
	lost=$(jq -n -r --slurpfile have "$entries" --rawfile acked "$dir/acked" '
		[$acked | split("\n")[] | select(length > 0) | split(" ")
		 | select($have[0][.[0]] != (.[1] | fromjson)) | .[0]] | .[]')
	# Nothing under the prefix but what was written to it.
	local stray counter
	stray=$(jq -r --arg t "$tag" 'to_entries[] | select(.key != "storm.\($t).counter")
		| select(.key != "storm.\($t).\(.value.n).\(.value.i)" and .key != "storm.\($t).c\(.value.n).\(.value.i)") | .key' "$entries")
	counter=$(jq -r --arg k "storm.$tag.counter" '.[$k] // 0' "$entries")
	_storm_say "storm $tag: kills $kills, acknowledged $((puts + commits)) (puts $puts, commits $commits of $sent sent), counter $counter, answering again after ${back}s"
	_storm_say "storm $tag: recoveries $(($(grep -c 'recovering the store' "$KV_LOG" || true) - rec0)), watchdog exits $(($(grep -c 'stuck in the store' "$KV_LOG" || true) - stuck0))"
	echo "storm $tag: answers $(cat "$dir"/put.* "$dir"/commit.* | cut -d' ' -f1 | sort | uniq -c | tr -s ' \n' ' ')"
	local failed=0
	if [[ -n "$lost" ]]; then
		echo "storm $tag: LOST acknowledged writes: $(head -n 20 <<<"$lost" | tr '\n' ' ')"
		failed=1
	fi
	if [[ -n "$stray" ]]; then
		echo "storm $tag: keys nobody wrote: $(head -n 20 <<<"$stray" | tr '\n' ' ')"
		failed=1
	fi
	if ((counter < commits || counter > sent)); then
		echo "storm $tag: counter $counter outside [$commits, $sent]"
		failed=1
	fi
	# The watcher saw every acknowledged write, in versionstamp order.
	local unseen disorder seen
	seen=$(jq -s 'map(.changes[]) | length' "$dir/watch")
	unseen=$(jq -n -r --slurpfile w "$dir/watch" --rawfile acked "$dir/acked" '
		($w | map(.changes[] | select(.op == "set") | {(.key): .value}) | add // {}) as $sets
		| [$acked | split("\n")[] | select(length > 0) | split(" ")
		   | select($sets[.[0]] != (.[1] | fromjson)) | .[0]] | .[]')
	disorder=$(jq -s '[map(.changes[].versionstamp) | . as $v | range(1; length)
		| select($v[.] < $v[. - 1])] | length' "$dir/watch")
	_storm_say "storm $tag: the watcher saw $seen changes, after $(cat "$dir/watch.errors" 2>/dev/null | wc -l) errors"
	if [[ -n "$unseen" ]]; then
		echo "storm $tag: acknowledged writes the change feed never showed: $(head -n 20 <<<"$unseen" | tr '\n' ' ')"
		failed=1
	fi
	if ((disorder != 0)); then
		echo "storm $tag: the change feed went back in versionstamp $disorder times"
		failed=1
	fi
	if ((puts + commits < 20)); then
		echo "storm $tag: too few writes were acknowledged to prove anything"
		failed=1
	fi
	# The commits are atomic: each acknowledged set came with its sum, so
	# the sets present (acknowledged or not) bound the counter from below.
	local sets
	sets=$(jq -r --arg t "$tag" '[keys[] | select(test("^storm\\.\($t)\\.c[0-9]"))] | length' "$entries")
	if ((counter != sets)); then
		echo "storm $tag: counter $counter but $sets commit sets present: a commit was split"
		failed=1
	fi
	return "$failed"
}
