# tests/lib/helper.bash: run kv behind a web server for one bats file and talk to it with curl
#
# Usage in a test file (tests/http/NN-area.bats):
#   load '../lib/helper'
#   setup_file()    { kv_setup_file; }
#   teardown_file() { kv_teardown_file; }
#   @test "(GET) a missing key is 404 not_found" {
#     kv_req GET /no.such.key
#     assert_error 404 not_found
#   }
#
# Environment read here:
#   KV_TEST_SERVER     lighttpd (default), apache, nginx or apache-proxy
#                      (Apache with mod_proxy_fcgi in front of the pool nginx
#                      uses); cgi or cgid: the
#                      cgi-bin/ kit as plain CGI under Apache set up as a
#                      shared host (conf/apache-cgi.conf, mod_cgi + prefork
#                      or mod_cgid + event), mounted at its script's URL
#                      (KV_URL below); the kit's kv.conf is a symlink to this
#                      file's KV_CONF; cgi-fcgid: the same kit as FastCGI
#                      under that host with mod_fcgid as well
#                      (conf/apache-fcgid-kit.conf); static-chroot: lighttpd with the
#                      static kvd run by chroot(8) in KV_ROOT, a directory
#                      that holds nothing but kvd, kvctl, kv.conf, the store
#                      and /tmp (needs root)
#   KV_EXTRA_CONF      extra lines for the kv.conf of this file, e.g.
#                      KV_EXTRA_CONF=$'open = per_request\nmax_value = 100'
#                      (the file says `auth = off` first; `auth = on` here
#                      turns it back on, and [token] sections go last)
#   KV_TEST_URL        test an already running service instead of starting one
#                      (KV_STORE is then empty and KV_LOG /dev/null)
#   KV_TEST_STORE      serve this existing store directory, as it is, instead
#                      of a fresh one (a restored backup, say)
#   KV_SRCDIR, KV_BUILDDIR, KV_BIN
#                      set by `make check`; by hand they default to this source
#                      tree and its in-tree build ($KV_SRCDIR/src/kvd)
#   KV_STATIC_KVD, KV_STATIC_KVCTL
#                      the programs static-chroot copies into its root
#                      (default: the build's src/kvd-static, src/kvctl-static)
#   KV_PROCS           kvd process count under lighttpd, nginx and apache-proxy
#                      (default 4)
#   KV_SERVER_TIMEOUT  seconds a server may live before `timeout` kills it (1200)
#   KV_START_TIMEOUT   seconds to wait for the first answer (30)
#   KV_READY_STATUS    regex of the health check status that means "up"
#                      (default: below 500)
#   kv_before_start    a function the test file may define: run once the
#                      store directory and kv.conf exist, before the server
#                      starts
#
# Exported by kv_setup_file: KV_URL (http://127.0.0.1:PORT/kv, or under cgi,
# cgid and cgi-fcgid http://127.0.0.1:PORT/~user/cgi-bin/kv.fcgi); under nginx
# also KV_H2_URL, the same service on nginx's second port, which speaks only
# cleartext HTTP/2 with prior knowledge (h2c; empty elsewhere, where KV_URL
# takes it as well as HTTP/1.1); KV_STORE (the
# store directory), KV_LOG (the web server's error log, which also receives
# kvd's stderr), KV_RUNDIR, KV_CONF, KV_SERVER_PID; under static-chroot
# also KV_ROOT, where KV_STORE and KV_CONF then are (/store and /kv.conf to
# the programs inside: `KV_CONF=/kv.conf chroot "$KV_ROOT" /kvctl stats`).
#
# Note: jq 1.6 reads numbers as doubles (12345678901234567890 comes out as
# 12345678901234567000, 1.50 as 1.5): check the digits of stored numbers
# against $body itself, not through assert_json.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

# lighttpd and apache2 live in /usr/sbin, which a non-root PATH may lack.
case ":$PATH:" in
*:/usr/sbin:*) ;;
*) PATH=$PATH:/usr/sbin:/sbin ;;
esac

: "${KV_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${KV_BUILDDIR:=$KV_SRCDIR}"
: "${KV_BIN:=$KV_BUILDDIR/src/kvd}"
export KV_SRCDIR KV_BUILDDIR KV_BIN

# ---------------------------------------------------------------------------
# Server life cycle

# kv_free_port: print a loopback TCP port nobody listens on right now, chosen
# at random below the kernel's ephemeral range (so outgoing connections do
# not take it). A race with another process remains; kv_setup_file retries.
kv_free_port() {
	local port tries=0
	while ((tries++ < 200)); do
		port=$((20000 + RANDOM % 12000))
		# A refused connect means nothing listens there.
		if ! (exec 9<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	echo "kv_free_port: no free port found" >&2
	return 1
}

# _kv_world_traversable DIR STOP: give others search (x) permission on DIR
# and its parents up to and including STOP, so Apache's www-data workers can
# reach files under bats' private (0700) temporary directories.
_kv_world_traversable() {
	local dir=$1 stop=$2
	while [[ -n "$dir" && "$dir" != / ]]; do
		chmod o+x "$dir"
		[[ "$dir" == "$stop" ]] && break
		dir=$(dirname "$dir")
	done
}

# _kv_start_lighttpd: start lighttpd in the background; sets KV_SERVER_PID.
_kv_start_lighttpd() {
	KV_ERRORS="$KV_SRCDIR/conf/errors" KV_DATA="$KV_STORE" \
		KV_PROCS="${KV_PROCS:-4}" \
		timeout -k 10 "${KV_SERVER_TIMEOUT:-1200}" \
		lighttpd -D -f "$KV_SRCDIR/conf/lighttpd.conf" \
		</dev/null >>"$KV_LOG" 2>&1 3>&- &
	KV_SERVER_PID=$!
}

# _kv_start_apache: start Apache + mod_fcgid in the background; sets
# KV_SERVER_PID. The workers run as www-data: they get their own copy of
# kvd and of the error documents inside KV_RUNDIR, because the source tree
# may sit where www-data cannot go (a clone under /root, say).
_kv_start_apache() {
	rm -rf "$KV_RUNDIR/fcgid" # mod_fcgid must create it itself
	cp "$KV_BIN" "$KV_RUNDIR/kvd"
	chmod 755 "$KV_RUNDIR/kvd"
	rm -rf "$KV_RUNDIR/errors"
	cp -R "$KV_SRCDIR/conf/errors" "$KV_RUNDIR/errors"
	mkdir -p "$KV_RUNDIR/htdocs"
	chmod -R a+rX "$KV_RUNDIR/errors" "$KV_RUNDIR/htdocs"
	chmod 644 "$KV_CONF"
	_kv_world_traversable "$KV_RUNDIR" "${BATS_RUN_TMPDIR:-$BATS_FILE_TMPDIR}"
	if [[ $(id -u) == 0 ]]; then
		chown -R www-data:www-data "$KV_STORE" 2>/dev/null || true # may be missing or read-only on purpose
	fi
	KV_BIN="$KV_RUNDIR/kvd" KV_ERRORS="$KV_RUNDIR/errors" KV_DATA="$KV_STORE" \
		timeout -k 10 "${KV_SERVER_TIMEOUT:-1200}" \
		apache2 -f "$KV_SRCDIR/conf/apache.conf" -DFOREGROUND \
		</dev/null >>"$KV_LOG" 2>&1 3>&- &
	KV_SERVER_PID=$!
}

# _kv_start_nginx, _kv_start_apache-proxy: start script/pool-run (the web
# server, and kvd under spawn-fcgi and multiwatch) in the background; sets
# KV_SERVER_PID. The web server's workers run as www-data and must reach
# KV_RUNDIR, where the script puts the server's files, the socket and a
# copy of the error documents; kvd runs as the caller.
_kv_start_nginx() { _kv_start_pool nginx; }
_kv_start_apache-proxy() { _kv_start_pool apache-proxy; }
_kv_start_pool() {
	_kv_world_traversable "$KV_RUNDIR" "${BATS_RUN_TMPDIR:-$BATS_FILE_TMPDIR}"
	KV_ERRORS="$KV_SRCDIR/conf/errors" KV_DATA="$KV_STORE" \
		KV_PROCS="${KV_PROCS:-4}" \
		timeout -k 10 "${KV_SERVER_TIMEOUT:-1200}" \
		"$KV_SRCDIR/script/pool-run" "$1" \
		</dev/null >>"$KV_LOG" 2>&1 3>&- &
	KV_SERVER_PID=$!
}

# _kv_start_cgi, _kv_start_cgid: start Apache as a shared host
# (conf/apache-cgi.conf) in the background, with the cgi-bin kit uploaded
# to ~user/public_html/cgi-bin as cgi-bin/README.txt says: kv.fcgi,
# .htaccess, kvd, and kv.conf, here a symlink to this file's KV_CONF (a
# later edit of KV_CONF reaches the next request). Sets KV_SERVER_PID.
# Scripts run as www-data, as on a host without suEXEC.
_kv_start_cgi() { _kv_start_apache_cgi -f "$KV_SRCDIR/conf/apache-cgi.conf"; }
_kv_start_cgid() { _kv_start_apache_cgi -f "$KV_SRCDIR/conf/apache-cgi.conf" -D KV_CGID; }
# The kit as FastCGI: mod_fcgid creates its socket directory itself.
_kv_start_cgi-fcgid() {
	rm -rf "$KV_RUNDIR/fcgid"
	_kv_start_apache_cgi -f "$KV_SRCDIR/conf/apache-fcgid-kit.conf"
}
_kv_start_apache_cgi() {
	local kit="$KV_RUNDIR/home/user/public_html/cgi-bin"
	rm -rf "${KV_RUNDIR:?}/home" "${KV_RUNDIR:?}/htdocs"
	mkdir -p "$kit" "$KV_RUNDIR/htdocs"
	cp "$KV_SRCDIR/cgi-bin/kv.fcgi" "$KV_SRCDIR/cgi-bin/.htaccess" "$kit/"
	cp "$KV_BIN" "$kit/kvd"
	ln -s "$KV_CONF" "$kit/kv.conf"
	chmod 755 "$kit/kv.fcgi" "$kit/kvd"
	chmod -R a+rX "$KV_RUNDIR/home" "$KV_RUNDIR/htdocs"
	chmod 644 "$KV_CONF"
	_kv_world_traversable "$KV_RUNDIR" "${BATS_RUN_TMPDIR:-$BATS_FILE_TMPDIR}"
	if [[ $(id -u) == 0 ]]; then
		chown -R www-data:www-data "$KV_STORE" 2>/dev/null || true # may be missing or read-only on purpose
	fi
	timeout -k 10 "${KV_SERVER_TIMEOUT:-1200}" \
		apache2 "$@" -DFOREGROUND \
		</dev/null >>"$KV_LOG" 2>&1 3>&- &
	KV_SERVER_PID=$!
}

# _kv_static_root: make KV_ROOT, the whole file system of static-chroot's
# kvd: the two static programs, an empty /tmp, and the store and kv.conf
# that kv_setup_file puts there.
_kv_static_root() {
	local kvd=${KV_STATIC_KVD:-$KV_BUILDDIR/src/kvd-static}
	local kvctl=${KV_STATIC_KVCTL:-$KV_BUILDDIR/src/kvctl-static}
	if [[ ! -x "$kvd" || ! -x "$kvctl" ]]; then
		echo "kv: no static kvd and kvctl at $kvd and $kvctl (build them: make kvd-static kvctl-static)" >&2
		return 1
	fi
	if [[ $(id -u) != 0 ]]; then
		echo "kv: static-chroot runs kvd under chroot(8), which needs root" >&2
		return 1
	fi
	rm -rf "$KV_ROOT"
	mkdir -p "$KV_ROOT/tmp"
	chmod 1777 "$KV_ROOT/tmp"
	cp "$kvd" "$KV_ROOT/kvd"
	cp "$kvctl" "$KV_ROOT/kvctl"
	chmod 755 "$KV_ROOT/kvd" "$KV_ROOT/kvctl"
}

# _kv_start_static-chroot: lighttpd (conf/lighttpd.conf) whose FastCGI
# program is a wrapper outside the root that runs `chroot KV_ROOT /kvd`:
# the listening socket lighttpd made reaches kvd as its stdin across the
# chroot, and the settings lighttpd passes name the root's own paths.
# Sets KV_SERVER_PID.
_kv_start_static-chroot() {
	local wrapper="$KV_RUNDIR/kvd-chroot"
	printf '#!/bin/sh\nexec chroot %q /kvd\n' "$KV_ROOT" >"$wrapper"
	chmod 755 "$wrapper"
	KV_BIN="$wrapper" KV_CONF=/kv.conf KV_DATA=/store \
		KV_ERRORS="$KV_SRCDIR/conf/errors" KV_PROCS="${KV_PROCS:-4}" \
		timeout -k 10 "${KV_SERVER_TIMEOUT:-1200}" \
		lighttpd -D -f "$KV_SRCDIR/conf/lighttpd.conf" \
		</dev/null >>"$KV_LOG" 2>&1 3>&- &
	KV_SERVER_PID=$!
}

# _kv_wait_ready: poll KV_URL/ until the service answers with a status
# below 500 (or one matching the regex KV_READY_STATUS, for a test of a
# store that cannot be opened). Returns 0 when ready, 2 when the server died because its port
# was taken (the caller retries), 1 on any other failure.
_kv_wait_ready() {
	local deadline=$((SECONDS + ${KV_START_TIMEOUT:-30})) status
	while ((SECONDS < deadline)); do
		if ! kill -0 "$KV_SERVER_PID" 2>/dev/null; then
			wait "$KV_SERVER_PID" 2>/dev/null || true
			grep -q 'Address already in use' "$KV_LOG" 2>/dev/null && return 2
			echo "kv: the $KV_TEST_SERVER server exited during start-up" >&2
			return 1
		fi
		status=$(curl -s -o /dev/null --max-time 5 -w '%{http_code}' "$KV_URL/" 2>/dev/null) || true
		if [[ "$status" =~ ${KV_READY_STATUS:-^[1-4][0-9][0-9]$} ]]; then
			return 0
		fi
		# A kvd that exits at once (lighttpd respawns it, mod_fcgid answers
		# 500): say so now instead of at the deadline.
		if grep -Eq 'gw-backend failed to start|spawning gw failed|End of script output before headers' \
			"$KV_LOG" 2>/dev/null; then
			echo "kv: kvd exits at start-up under $KV_TEST_SERVER" >&2
			return 1
		fi
		sleep 0.05
	done
	echo "kv: no answer below 500 from $KV_URL/ within ${KV_START_TIMEOUT:-30}s (last status: ${status:-none})" >&2
	return 1
}

# kv_setup_file: call from setup_file. Fresh store and kv.conf in
# $BATS_FILE_TMPDIR, a free port, the server named by $KV_TEST_SERVER; fails
# with the server's log if it does not come up.
kv_setup_file() {
	KV_TEST_SERVER=${KV_TEST_SERVER:-lighttpd}
	export KV_TEST_SERVER
	if [[ -n "${KV_TEST_URL:-}" ]]; then
		export KV_URL=$KV_TEST_URL KV_H2_URL='' KV_STORE='' KV_LOG=/dev/null KV_SERVER_PID=''
		return 0
	fi
	if [[ ! -x "$KV_BIN" ]]; then
		echo "kv: no kvd binary at $KV_BIN (build first: script/build)" >&2
		return 1
	fi
	case $KV_TEST_SERVER in
	lighttpd | apache | nginx | apache-proxy | cgi | cgid | cgi-fcgid | static-chroot) ;;
	*)
		echo "kv: KV_TEST_SERVER must be lighttpd, apache, nginx, apache-proxy, cgi, cgid, cgi-fcgid or static-chroot, not '$KV_TEST_SERVER'" >&2
		return 1
		;;
	esac

	KV_STORE=${KV_TEST_STORE:-$BATS_FILE_TMPDIR/store}
	KV_RUNDIR="$BATS_FILE_TMPDIR/run"
	KV_CONF="$BATS_FILE_TMPDIR/kv.conf"
	KV_LOG="$KV_RUNDIR/error.log"
	# The store as kvd names it: the same path, but in static-chroot's root.
	local store_seen=$KV_STORE
	if [[ $KV_TEST_SERVER == static-chroot ]]; then
		if [[ -n "${KV_TEST_STORE:-}" ]]; then
			echo "kv: KV_TEST_STORE does not work under static-chroot: its store is inside the root" >&2
			return 1
		fi
		KV_ROOT="$BATS_FILE_TMPDIR/root"
		KV_STORE="$KV_ROOT/store"
		KV_CONF="$KV_ROOT/kv.conf"
		store_seen=/store
		export KV_ROOT
		_kv_static_root || return 1
	fi
	[[ -n "${KV_TEST_STORE:-}" ]] || rm -rf "$KV_STORE"
	rm -rf "$KV_RUNDIR"
	mkdir -p "$KV_STORE" "$KV_RUNDIR"
	{
		echo "# kv.conf written by tests/lib/helper.bash for $BATS_TEST_FILENAME"
		echo "store = $store_seen"
		echo "auth = off"
		if [[ -n "${KV_EXTRA_CONF:-}" ]]; then
			printf '%s\n' "$KV_EXTRA_CONF"
		fi
	} >"$KV_CONF"
	export KV_STORE KV_RUNDIR KV_CONF KV_LOG
	# A test file may define kv_before_start to prepare (or break) the
	# store directory before the server starts.
	if declare -F kv_before_start >/dev/null; then
		kv_before_start || return 1
	fi

	local rc=1
	for _ in 1 2 3 4 5; do
		KV_PORT=$(kv_free_port) || return 1
		KV_URL="http://127.0.0.1:$KV_PORT/kv"
		KV_H2_PORT='' KV_H2_URL=''
		case $KV_TEST_SERVER in
		cgi | cgid | cgi-fcgid) KV_URL="http://127.0.0.1:$KV_PORT/~user/cgi-bin/kv.fcgi" ;;
		nginx)
			# Its h2c port (conf/nginx.conf): another free one.
			for _ in 1 2 3; do
				KV_H2_PORT=$(kv_free_port) || return 1
				[[ $KV_H2_PORT == "$KV_PORT" ]] || break
			done
			KV_H2_URL="http://127.0.0.1:$KV_H2_PORT/kv"
			;;
		esac
		export KV_PORT KV_URL KV_H2_PORT KV_H2_URL
		: >"$KV_LOG"
		"_kv_start_$KV_TEST_SERVER"
		export KV_SERVER_PID
		rc=0
		_kv_wait_ready || rc=$?
		((rc == 2)) || break
		echo "kv: port $KV_PORT was taken, retrying" >&2
	done
	if ((rc != 0)); then
		echo "----- $KV_LOG -----" >&2
		cat "$KV_LOG" >&2 || true
		echo "-----" >&2
		kv_teardown_file
		return 1
	fi
}

# kv_teardown_file: call from teardown_file. Stops the server and every
# process it started (they share the process group `timeout` made), waiting
# up to ~20 s: Apache takes seconds and SIGKILLs its mod_fcgid children.
kv_teardown_file() {
	local pid=${KV_SERVER_PID:-} deadline
	[[ -n "$pid" ]] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	deadline=$((SECONDS + 20))
	while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
		sleep 0.1
	done
	# kvd workers outlive the web server briefly while they leave the
	# store; killing one inside Berkeley DB would leave the environment
	# needing recovery. Give the group a few seconds, then kill what is
	# left (timeout's own pid is the group id).
	deadline=$((SECONDS + 5))
	while kill -0 -- "-$pid" 2>/dev/null && ((SECONDS < deadline)); do
		sleep 0.1
	done
	kill -KILL -- "-$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	KV_SERVER_PID=
}

# kv_kvd_pids: the kvd processes of this file's server (its process group),
# one a line.
kv_kvd_pids() {
	pgrep -g "$KV_SERVER_PID" -x kvd
}

# kv_kvd_signal SIGNAL: send SIGNAL (STOP, CONT...) to every kvd process of
# this file's server; succeeds when there is none.
kv_kvd_signal() {
	local pids
	pids=$(kv_kvd_pids) || return 0
	# shellcheck disable=SC2086 # one pid a word
	kill -"$1" $pids 2>/dev/null || true
}

# kv_wait_dead PID...: until each process is dead (a zombie or reaped), at
# most 10 s in all. A process killed with SIGKILL keeps its listening
# socket until the kernel has torn down its memory, which takes long under
# AddressSanitizer, and a request the web server sends it meanwhile is one
# the kill cut short, not one the store failed.
kv_wait_dead() {
	local pid state until_ms=$(($(date +%s%3N) + 10000))
	for pid in "$@"; do
		while state=$(awk '/^State:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) &&
			[[ -n $state && $state != Z ]]; do
			(($(date +%s%3N) < until_ms)) || fail "kvd $pid still runs 10 s after SIGKILL"
			sleep 0.01
		done
	done
}

# kv_wait_healthy SECONDS: poll the health check until it answers 200;
# fails when it has not within SECONDS.
kv_wait_healthy() {
	local deadline=$((SECONDS + $1))
	while ((SECONDS < deadline)); do
		[[ "$(curl -sS -o /dev/null -w '%{http_code}' --max-time 15 "$KV_URL/" 2>/dev/null)" == 200 ]] &&
			return 0
		sleep 0.5
	done
	return 1
}

# kv_log_contains PATTERN: succeed (printing the matching lines) when the
# server log, which holds kvd's stderr, matches the extended regex PATTERN.
kv_log_contains() {
	grep -E -- "$1" "$KV_LOG"
}

# ---------------------------------------------------------------------------
# Requests

# kv_req METHOD PATH [curl args...]: one request to $KV_URL$PATH, PATH sent
# as is ("" is /kv itself, "/?list=true", "/a%01b"). Sets the globals code
# (status as a number; 0 when curl got no answer), body and headers (the
# final response's header block, CR stripped), and prints all of them so a
# failing test shows what came back. Returns curl's status when curl fails.
kv_req() {
	local method=$1 path=$2
	shift 2
	local dir=${BATS_TEST_TMPDIR:-${BATS_FILE_TMPDIR:-/tmp}}
	local hfile="$dir/kv_req.headers" bfile="$dir/kv_req.body" rc=0
	local -a how
	if [[ "$method" == HEAD ]]; then
		how=(--head) # -X HEAD would wait for a body that never comes
	else
		how=(-X "$method")
	fi
	local cfile="$dir/kv_req.code" line block=
	rm -f "$hfile" "$bfile" "$cfile"
	# Every step below stays in this shell where it can (no $(...), no
	# tr or awk): the suite makes thousands of requests, and each process
	# started costs more than the request itself.
	curl -sS --path-as-is --max-time 20 "${how[@]}" "$KV_URL$path" \
		-D "$hfile" -o "$bfile" -w '%{http_code}' "$@" >"$cfile" || rc=$?
	code=
	# (no newline after the status: read sets code and returns 1)
	[[ -s "$cfile" ]] && { read -r code <"$cfile" || :; }
	[[ "$code" =~ ^[0-9]+$ ]] || code=0
	code=$((10#$code))
	# -D holds every header block (100 Continue first, say): keep the
	# last, without its CRs.
	headers=
	if [[ -f "$hfile" ]]; then
		while IFS= read -r line || [[ -n "$line" ]]; do
			line=${line%$'\r'}
			if [[ -z "$line" ]]; then
				[[ -n "$block" ]] && headers=$block
				block=
			else
				block+=${block:+$'\n'}$line
			fi
		done <"$hfile"
		[[ -n "$block" ]] && headers=$block
	fi
	body=
	if [[ "$method" != HEAD && -f "$bfile" ]]; then
		body=$(<"$bfile")
	fi
	echo "> $method $path${*:+ (curl $*)}"
	echo "< $code"
	[[ -n "$headers" ]] && printf '%s\n' "$headers"
	if ((${#body} > 4096)); then
		printf '%s... (%d bytes)\n' "${body:0:4096}" "${#body}"
	else
		printf '%s\n' "$body"
	fi
	return "$rc"
}

# Tokens

# kv_new_token: print a fresh random token, as kvctl token mints them.
kv_new_token() {
	head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'
}

# kv_token_hash TOKEN: print the hash line's value for TOKEN in kv.conf.
kv_token_hash() {
	printf 'sha256:%s' "$(printf %s "$1" | sha256sum | cut -d' ' -f1)"
}

# kv_paste_lines PRINTOUT: print the lines a `kvctl token` printout says to
# paste at the end of kv.conf ("# Paste the N lines below ...").
kv_paste_lines() {
	local count
	count=$(sed -n 's/^# Paste the \([0-9]*\) lines below.*/\1/p' <<<"$1")
	[[ -n $count ]] || return 1
	tail -n "$count" <<<"$1"
}

# kv_put PATH JSON [curl args...]: PUT JSON (any bytes, sent as they are)
# as the request body.
kv_put() {
	local path=$1 json=$2
	shift 2
	if [[ "$json" == @* ]]; then
		# curl would read a file named by what follows the @: use stdin.
		kv_req PUT "$path" -H 'Content-Type: application/json' --data-binary @- "$@" \
			< <(printf '%s' "$json")
	else
		kv_req PUT "$path" -H 'Content-Type: application/json' --data-binary "$json" "$@"
	fi
}

# kv_header NAME: print the value of response header NAME from the last
# kv_req (case-insensitive, first occurrence, trimmed); prints nothing and
# still succeeds when it is absent.
kv_header() {
	_kv_header "$1"
	[[ -z "$REPLY" && $_kv_header_found == 0 ]] || printf '%s\n' "$REPLY"
}

# _kv_header NAME: kv_header's lookup without a subshell or a loop (both
# cost more than the request under bats): sets REPLY to the value, or to
# '' with _kv_header_found=0 when the header is absent.
_kv_header() {
	local lower=$'\n'${headers,,} all=$'\n'$headers rest value
	REPLY='' _kv_header_found=0
	rest=${lower#*$'\n'"${1,,}:"}
	[[ "$rest" != "$lower" ]] || return 0
	_kv_header_found=1
	value=${all:${#lower}-${#rest}}
	value=${value%%$'\n'*}
	value=${value#"${value%%[![:space:]]*}"}
	REPLY=${value%"${value##*[![:space:]]}"}
}

# ---------------------------------------------------------------------------
# Assertions (they print what they compared and fail the test)

# assert_code N: the last response had status N.
assert_code() {
	[[ "$code" == "$1" ]] || {
		fail "expected HTTP status $1, got $code"
		return 1
	}
}

# assert_json FILTER EXPECTED: `jq -c FILTER` over $body prints EXPECTED
# exactly (compact jq output: assert_json '.key' '"users.john"').
assert_json() {
	local filter=$1 expected=$2 actual
	actual=$(jq -c "$filter" <<<"$body" 2>&1) || {
		fail "jq '$filter' failed on the body: $actual"
		return 1
	}
	[[ "$actual" == "$expected" ]] || {
		fail "jq '$filter': expected $expected, got $actual"
		return 1
	}
}

# assert_error STATUS CODE: the last response is the contract's error: that
# status, JSON, not cacheable, and {"error": {"status": STATUS, "code":
# "CODE", "message": "..."}} with a message that shows no file path or
# Berkeley DB internals. (One jq run: tests loop over it a lot.)
assert_error() {
	local status=$1 ecode=$2 ctype cache fields got message
	assert_code "$status" || return 1
	_kv_header Content-Type
	ctype=$REPLY
	[[ "${ctype,,}" == application/json* ]] || {
		fail "expected Content-Type application/json, got '$ctype'"
		return 1
	}
	_kv_header Cache-Control
	cache=$REPLY
	[[ "${cache,,}" == *no-store* ]] || {
		fail "expected Cache-Control: no-store, got '$cache'"
		return 1
	}
	fields=$(jq -r 'if (.error | type) == "object"
		then [(.error.status | tojson), (.error.code | tojson),
		      (.error.message | type), (.error.message | tostring)] | join("\u0001")
		else "no error object" end' <<<"$body" 2>&1) || {
		fail "the body is not JSON: $fields"
		return 1
	}
	got=${fields%%$'\001'*}
	fields=${fields#*$'\001'}
	[[ "$got" == "$status" ]] || { fail "expected .error.status $status, got $got"; return 1; }
	got=${fields%%$'\001'*}
	fields=${fields#*$'\001'}
	[[ "$got" == "\"$ecode\"" ]] || { fail "expected .error.code \"$ecode\", got $got"; return 1; }
	got=${fields%%$'\001'*}
	message=${fields#*$'\001'}
	[[ "$got" == string ]] || { fail "expected .error.message to be a string, got $got"; return 1; }
	[[ -n "$message" ]] || { fail "the error message is empty"; return 1; }
	local re='(^|[^[:alnum:]])/(tmp|var|etc|home|root|usr|srv|opt|proc|dev|run|work|mnt|lib|builds)(/|[^[:alnum:]]|$)'
	re+='|\.db([^[:alnum:]]|$)|__db\.|log\.[0-9]{10}|BDB[0-9]{4}|DB_[A-Z]{3,}'
	if [[ "$message" =~ $re ]]; then
		fail "the error message shows a path or library internals: $message"
		return 1
	fi
	if [[ -n "${KV_STORE:-}" && "$message" == *"$KV_STORE"* ]]; then
		fail "the error message shows the store path: $message"
		return 1
	fi
}
