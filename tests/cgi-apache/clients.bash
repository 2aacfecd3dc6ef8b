# tests/cgi-apache/clients.bash: concurrent curl clients for the plain-CGI
# tests, and the checks of what they saw. Loaded by tests/cgi-apache/*.bats
# after tests/lib/helper.bash.
#
# A client is a bash background job that sends its requests one after the
# other with curl and writes one line per request to its log:
#   <request number> <status> <key> <versionstamp of the answer, or ->
# status is curl's %{http_code}: 000 when no answer came (curl failed or
# --max-time 30 ran out), "late" for requests never sent because the
# client's deadline (CLIENT_DEADLINE seconds, 300) had passed.
# Nothing is retried: under the contract a commit is 200 or an error, and
# these tests want every one of them to be 200.

CLIENT_DEADLINE=${CLIENT_DEADLINE:-300}

# run_clients N FN ARGS...: run `FN CLIENT LOG ARGS...` for CLIENT 0..N-1
# at once, LOG being $BATS_TEST_TMPDIR/client.CLIENT, and wait for them all.
run_clients() {
	local n=$1 fn=$2 c pids=()
	shift 2
	# Where this run's part of the server log starts (server_log_summary).
	KV_LOG_MARK=$(stat -c %s "$KV_LOG" 2>/dev/null || echo 0)
	for ((c = 0; c < n; c++)); do
		: >"$BATS_TEST_TMPDIR/client.$c"
		"$fn" "$c" "$BATS_TEST_TMPDIR/client.$c" "$@" &
		pids+=($!)
	done
	for c in "${pids[@]}"; do wait "$c" || true; done
	cat "$BATS_TEST_TMPDIR"/client.* >"$BATS_TEST_TMPDIR/all"
}

# _send LOG SEQ KEY curl-args...: one request, one log line. Uses no
# process but curl: the versionstamp is taken from the body by bash.
_send() {
	local log=$1 seq=$2 key=$3 out code vs=-
	shift 3
	out=$(curl -sS --max-time 30 -w '\n%{http_code}' "$@" 2>/dev/null) || true
	code=${out##*$'\n'}
	[[ "$code" =~ ^[0-9]{3}$ ]] || code=000
	if [[ "$out" =~ \"versionstamp\":\"([0-9a-f]+)\" ]]; then
		vs=${BASH_REMATCH[1]}
	fi
	echo "$seq $code $key $vs" >>"$log"
}

# sum_client CLIENT LOG COUNT KEY...: COUNT atomic commits of sum +1, POSTed
# to the mount's root, the Nth on the (N mod number of keys)th KEY, starting
# with the CLIENTth.
sum_client() {
	local c=$1 log=$2 count=$3 i key deadline=$((SECONDS + CLIENT_DEADLINE))
	shift 3
	local -a keys=("$@")
	for ((i = 0; i < count; i++)); do
		key=${keys[(c + i) % ${#keys[@]}]}
		if ((SECONDS > deadline)); then
			echo "$i late $key -" >>"$log"
			continue
		fi
		_send "$log" "$i" "$key" -X POST -H 'Content-Type: application/json' \
			--data-binary "{\"mutations\":[{\"type\":\"sum\",\"key\":\"$key\",\"value\":1}]}" \
			"$KV_URL/"
	done
}

# put_client CLIENT LOG COUNT: COUNT PUTs, each of its own key
# cgi.put.cCLIENT.iN with the value "vCLIENT.N".
put_client() {
	local c=$1 log=$2 count=$3 i key deadline=$((SECONDS + CLIENT_DEADLINE))
	for ((i = 0; i < count; i++)); do
		key=cgi.put.c$c.i$i
		if ((SECONDS > deadline)); then
			echo "$i late $key -" >>"$log"
			continue
		fi
		_send "$log" "$i" "$key" -X PUT -H 'Content-Type: application/json' \
			--data-binary "{\"value\":\"v$c.$i\"}" "$KV_URL/$key"
	done
}

# get_client CLIENT LOG WRITES: GET back every key that the put_client log
# WRITES.CLIENT saw committed (200). Logs
#   <request number> <status> <key> <ETag's versionstamp or -> <body>
get_client() {
	local c=$1 log=$2 writes=$3.$1 seq code key vs out etag deadline=$((SECONDS + CLIENT_DEADLINE))
	while read -r seq code key vs; do
		[[ "$code" == 200 ]] || continue
		if ((SECONDS > deadline)); then
			echo "$seq late $key - -" >>"$log"
			continue
		fi
		out=$(curl -sS --max-time 30 -D - -w '\n%{http_code}' "$KV_URL/$key" 2>/dev/null) || true
		code=${out##*$'\n'}
		[[ "$code" =~ ^[0-9]{3}$ ]] || code=000
		etag=-
		if [[ "$out" =~ [Ee][Tt][Aa][Gg]:\ *\"([0-9a-f]+)\" ]]; then
			etag=${BASH_REMATCH[1]}
		fi
		out=${out%$'\n'*}
		echo "$seq $code $key $etag ${out##*$'\r\n\r\n'}" >>"$log"
	done <"$writes"
}

# status_counts [FILE]: "N× STATUS" for each status in FILE ($BATS_TEST_TMPDIR/all)
# on one line, e.g. "790×200 8×503 2×500".
status_counts() {
	awk '{ n[$2]++ } END { for (s in n) printf "%d×%s ", n[s], s }' \
		"${1:-$BATS_TEST_TMPDIR/all}" | sed 's/ $//'
}

# server_log_summary: what the web server logged (kvd's stderr included)
# since the last run_clients began, the most frequent messages first,
# without their timestamps, pids and paths.
server_log_summary() {
	[[ -s "$KV_LOG" ]] || return 0
	echo "--- $KV_LOG since these clients started, by message (count, message):"
	tail -c +$((${KV_LOG_MARK:-0} + 1)) "$KV_LOG" | sed -E -e 's/^\[[^]]*\] //' -e 's/\[pid [0-9]+(:tid [0-9]+)?\] //' \
		-e 's/\[client [^]]*\] //' -e 's/kvd\[[0-9]+\]/kvd/' -e 's/id=[0-9a-f]+/id=…/' \
		-e 's/versionstamp [0-9a-f]{20}/versionstamp …/g' \
		-e 's#stderr from [^ ]*/kv\.fcgi: #kv.fcgi: #' -e 's#(file|store|run)/[^ ]*/#…/#g' |
		cut -c1-240 | sort | uniq -c | sort -rn | head -15
}

# check_answers EXPECTED_200: every request of every client was answered
# 200 (EXPECTED_200 of them), each 200 with a well-formed versionstamp, no
# two the same, and each client's strictly increasing. Fails with the
# status counts, per client, and the server log's summary otherwise.
check_answers() {
	local want=$1 dir=$BATS_TEST_TMPDIR problems=() got c line
	echo "answers: $(status_counts)"
	got=$(awk '$2 == 200' "$dir/all" | wc -l)
	if ((got != want)) || [[ -n "$(awk '$2 != 200' "$dir/all")" ]]; then
		problems+=("expected $want answers of 200, got: $(status_counts)")
	fi
	line=$(awk '$2 == 200 && (length($4) != 20 || $4 !~ /^[0-9a-f]+$/) { print; exit }' "$dir/all")
	[[ -z "$line" ]] || problems+=("a 200 without a well-formed versionstamp: $line")
	line=$(awk '$2 == 200 { print $4 }' "$dir/all" | sort | uniq -d | head -5 | tr '\n' ' ')
	[[ -z "$line" ]] || problems+=("versionstamps given to more than one commit: $line")
	for c in "$dir"/client.*; do
		# String comparison ("v" prefix): 20 hex digits compare as text.
		line=$(awk '$2 == 200 { v = "v" $4; if (prev != "" && v <= prev) { print "request " $1 ": " substr(prev, 2) " then " $4; exit } prev = v }' "$c")
		[[ -z "$line" ]] || problems+=("${c##*/}'s versionstamps did not only grow: $line")
	done
	((${#problems[@]} == 0)) && return 0
	{
		echo "per client:"
		for c in "$dir"/client.*; do
			echo "  ${c##*/}: $(status_counts "$c")"
		done
		server_log_summary
	} >&2
	fail "$(printf '%s; ' "${problems[@]}")"
}

# key_value KEY: set value (the stored value of KEY: "absent" for a 404,
# "status-N" for another status) and etag (its versionstamp).
key_value() {
	kv_req GET "/$1" >/dev/null
	etag=$(kv_header ETag)
	etag=${etag//\"/}
	# shellcheck disable=SC2154 # code and body are set by kv_req
	case $code in
	200) value=$body ;;
	404) value=absent ;;
	*) value=status-$code ;;
	esac
}

# check_counter KEY: the stored value of KEY is the number of 200s the
# clients got for it, and its versionstamp is the greatest of them. Leaves
# value and etag set, as key_value does.
check_counter() {
	local key=$1 want last
	want=$(awk -v k="$key" '$2 == 200 && $3 == k' "$BATS_TEST_TMPDIR/all" | wc -l)
	last=$(awk -v k="$key" '$2 == 200 && $3 == k { print $4 }' "$BATS_TEST_TMPDIR/all" | sort | tail -1)
	key_value "$key"
	echo "$key: $value (versionstamp $etag); 200s for it: $want (greatest versionstamp $last)"
	if [[ "$value" != "$want" ]]; then
		server_log_summary >&2
		fail "$key holds $value, but $want commits on it were answered 200 (answers: $(status_counts))"
		return 1
	fi
	if [[ "$etag" != "$last" ]]; then
		fail "$key's versionstamp is $etag, but the greatest answered to a commit on it is $last"
		return 1
	fi
}

# ---------------------------------------------------------------------------
# The tests themselves, shared by concurrency.bats and sync-on.bats.

# sum_one_key CLIENTS COUNT KEY: CLIENTS clients x COUNT sum +1 commits on
# KEY, every one 200, KEY ending at CLIENTS x COUNT.
sum_one_key() {
	local n=$(($1 * $2))
	run_clients "$1" sum_client "$2" "$3"
	check_answers "$n"
	check_counter "$3"
	assert_equal "$value" "$n"
}

# sum_two_keys CLIENTS COUNT KEY1 KEY2: the same, alternating over two keys
# (each client starting with the other one from its neighbour).
sum_two_keys() {
	local n=$(($1 * $2))
	run_clients "$1" sum_client "$2" "$3" "$4"
	check_answers "$n"
	check_counter "$3"
	assert_equal "$value" $((n / 2))
	check_counter "$4"
	assert_equal "$value" $((n / 2))
}

# put_get CLIENTS COUNT: CLIENTS clients x COUNT PUTs of keys of their own,
# every one 200; then the same clients read back every key whose PUT was
# 200: its value, and an ETag that is the versionstamp the PUT was given.
put_get() {
	local dir=$BATS_TEST_TMPDIR c put_problem=0 bad
	run_clients "$1" put_client "$2"
	check_answers $(($1 * $2)) || put_problem=1
	cp "$dir/all" "$dir/puts"
	for c in "$dir"/client.*; do mv "$c" "$dir/put.${c##*.}"; done
	run_clients "$1" get_client "$dir/put"
	echo "reads: $(status_counts)"
	# cgi.put.c3.i7 holds "v3.7".
	bad=$(awk '{ split($3, p, "."); want = "\"v" substr(p[3], 2) "." substr(p[4], 2) "\"" }
		$2 != 200 || $5 != want { print; n++ } n == 10 { exit }' "$dir/all" | sed 's/^/  /')
	if [[ -n "$bad" ]]; then
		server_log_summary >&2
		fail "reading back the keys whose PUT was answered 200 did not give their values (reads: $(status_counts)); the first (seq status key etag body):
$bad"
	fi
	bad=$(join <(awk '$2 == 200 { print $3, $4 }' "$dir/puts" | sort) \
		<(awk '$2 == 200 { print $3, $4 }' "$dir/all" | sort) | awk '$2 != $3' | head -5)
	[[ -z "$bad" ]] || fail "an ETag read back is not the versionstamp its PUT was given (key put get): $bad"
	((put_problem == 0)) || fail "the PUTs were not all answered 200 (see above)"
}
