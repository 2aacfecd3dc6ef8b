# tests/deb/deb.bash: what the Debian package's tests share, on top of
# tests/lib/helper.bash
#
# tests/deb.test runs tests/deb/10-package.bats (build, lintian, install,
# start), the HTTP suite's smoke subset against the installed service
# (KV_TEST_URL), 50-installed.bats and 90-remove.bats, in that order, on
# this machine as root. They share KV_DEB_WORK, the directory deb.test
# made: the clone and the packages built from it, the service's pid files
# and kvd's stderr (kvd.log).
load '../lib/helper'

: "${KV_DEB_WORK:?tests/deb.test sets KV_DEB_WORK}"
: "${KV_DEB_PORT:?tests/deb.test sets KV_DEB_PORT}"
: "${KV_DEB_H2_PORT:?tests/deb.test sets KV_DEB_H2_PORT}"
DEB_UNITS=/lib/systemd/system
DEB_LOG=$KV_DEB_WORK/kvd.log

# deb_version: configure.ac's version, which the package's must be.
deb_version() {
	sed -n 's/^AC_INIT(\[kv\], \[\([^]]*\)\].*/\1/p' "$KV_DEB_WORK/src/kv/configure.ac"
}

# deb_file: the package built from the clone.
deb_file() {
	echo "$KV_DEB_WORK/src/kv_$(deb_version)_amd64.deb"
}

# deb_next: the package repacked as a next release, VERSION+next, whose
# /etc/kv/kv.conf gained a line: an upgrade that meets a changed
# conffile. Prints the file's name.
deb_next() {
	local dir=$KV_DEB_WORK/next
	rm -rf "$dir"
	mkdir -p "$dir" &&
		dpkg-deb -R "$(deb_file)" "$dir/root" &&
		sed -i "s/^Version: .*/Version: $(deb_version)+next/" "$dir/root/DEBIAN/control" &&
		echo '# a line of the next release' >>"$dir/root/etc/kv/kv.conf" &&
		dpkg-deb -b "$dir/root" "$dir/kv_$(deb_version)+next_amd64.deb" >/dev/null &&
		echo "$dir/kv_$(deb_version)+next_amd64.deb"
}

# unit_value FILE KEY: the value of the last KEY= line of a unit file.
unit_value() {
	sed -n "s/^$2=//p" "$1" | tail -n 1
}

# deb_start: serve the installed package as systemd would, behind nginx.
# systemd is not running here, so spawn-fcgi stands in for kv.socket: it
# opens the socket of ListenStream= with the owner and mode the socket unit
# says, becomes the service's User= and Group=, and executes kv.service's
# ExecStart= word for word with the socket as standard input
# (StandardInput=socket), its UMask= and the environment of its
# Environment= alone.
# kvd's stderr, the journal under systemd, goes to DEB_LOG. nginx runs the
# installed sample /usr/share/kv/nginx.conf, pointed at that socket as
# kvd(8) says.
deb_start() {
	local listen mode suser sgroup dirmode user group env exec umask_unit umask_was nginx_dir
	local -a cmd vars
	listen=$(unit_value "$DEB_UNITS/kv.socket" ListenStream)
	mode=$(unit_value "$DEB_UNITS/kv.socket" SocketMode)
	suser=$(unit_value "$DEB_UNITS/kv.socket" SocketUser)
	sgroup=$(unit_value "$DEB_UNITS/kv.socket" SocketGroup)
	dirmode=$(unit_value "$DEB_UNITS/kv.socket" DirectoryMode)
	user=$(unit_value "$DEB_UNITS/kv.service" User)
	group=$(unit_value "$DEB_UNITS/kv.service" Group)
	env=$(unit_value "$DEB_UNITS/kv.service" Environment)
	exec=$(unit_value "$DEB_UNITS/kv.service" ExecStart)
	umask_unit=$(unit_value "$DEB_UNITS/kv.service" UMask)
	# Plain words only: quoting or specifiers would need systemd's parser.
	if [[ -z "$listen" || -z "$exec" || "$exec$env" == *[\"\'%\\]* ]]; then
		echo "deb: the units changed shape; teach deb_start their new lines" >&2
		return 1
	fi
	read -ra cmd <<<"$exec"
	read -ra vars <<<"$env"
	mkdir -p -m "$dirmode" "$(dirname "$listen")"
	rm -f "$listen"
	umask_was=$(umask)
	umask "$umask_unit"
	setsid env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "${vars[@]}" \
		spawn-fcgi -n -s "$listen" -M "$mode" -U "$suser" -G "$sgroup" \
		-u "$user" -g "$group" -- "${cmd[@]}" \
		</dev/null >>"$DEB_LOG" 2>&1 3>&- &
	echo "$!" >"$KV_DEB_WORK/kvd.pid"
	umask "$umask_was"

	nginx_dir=$KV_DEB_WORK/nginx
	mkdir -p "$nginx_dir/tmp"
	sed -e "s|unix:@KV_RUNDIR@/kvd.sock|unix:$listen|g" \
		-e "s|@KV_PORT@|$KV_DEB_PORT|g" -e "s|@KV_H2_PORT@|$KV_DEB_H2_PORT|g" \
		-e "s|@KV_RUNDIR@|$nginx_dir|g" \
		-e "s|@KV_ERRORS@|/usr/share/kv/errors|g" -e "s|@KV_USER@|www-data|g" \
		/usr/share/kv/nginx.conf >"$nginx_dir/nginx.conf"
	setsid nginx -p "$nginx_dir/" -c "$nginx_dir/nginx.conf" -e "$nginx_dir/error.log" \
		-g 'daemon off;' </dev/null >>"$nginx_dir/error.log" 2>&1 3>&- &
	echo "$!" >"$KV_DEB_WORK/nginx.pid"
	deb_wait_ready
}

# deb_wait_ready: kvd answers the health check within 30 s (a status
# below 500: 401 once auth is on, since the check sends no token).
deb_wait_ready() {
	local deadline=$((SECONDS + 30)) status
	while ((SECONDS < deadline)); do
		status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$KV_DEB_PORT/kv/") || true
		[[ "$status" =~ ^[1-4][0-9][0-9]$ ]] && return 0
		sleep 0.1
	done
	echo "deb: the health check answered ${status:-nothing}, not below 500" >&2
	cat "$DEB_LOG" "$KV_DEB_WORK/nginx/error.log" >&2 || true
	return 1
}

# deb_stop: as systemd stops kv.service (KillMode=mixed): SIGTERM to the
# main process, multiwatch (and to nginx), then SIGKILL to what is left of
# its process group, a unit's control group under systemd, after 20 s.
deb_stop() {
	local name pid deadline
	for name in nginx kvd; do
		pid=$(cat "$KV_DEB_WORK/$name.pid" 2>/dev/null) || continue
		kill -TERM "$pid" 2>/dev/null || true
		deadline=$((SECONDS + 20))
		while kill -0 -- "-$pid" 2>/dev/null && ((SECONDS < deadline)); do
			sleep 0.1
		done
		kill -KILL -- "-$pid" 2>/dev/null || true
		rm -f "$KV_DEB_WORK/$name.pid"
	done
}
