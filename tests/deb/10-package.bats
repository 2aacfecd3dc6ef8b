bats_require_minimum_version 1.5.0
load deb

# The package built from a clone of the checkout's HEAD, checked, installed
# on this machine and started from its units. The version is configure.ac's.

setup_file() {
	local clone=$KV_DEB_WORK/src/kv
	[[ -d "$clone" ]] && return 0
	git clone -q "$KV_SRCDIR" "$clone"
	(cd "$clone" && dpkg-buildpackage -us -uc -b -j2) >"$KV_DEB_WORK/build.log" 2>&1 || {
		tail -n 40 "$KV_DEB_WORK/build.log" >&2
		return 1
	}
}

@test "(deb) a clone builds kv_VERSION_amd64.deb and keeps nothing git does not ignore" {
	[[ -n "$(deb_version)" ]] || fail "no version in configure.ac"
	[[ -f "$(deb_file)" ]] || fail "no $(deb_file): $(ls "$KV_DEB_WORK/src")"
	run git -C "$KV_DEB_WORK/src/kv" status --porcelain
	assert_success
	assert_output ""
}

@test "(deb) the package holds the programs, the conffile, the units, the manuals, the samples and the documentation" {
	run dpkg-deb -c "$(deb_file)"
	assert_success
	for path in ./usr/bin/kvd ./usr/bin/kvctl ./etc/kv/kv.conf \
		./lib/systemd/system/kv.service ./lib/systemd/system/kv.socket \
		./lib/systemd/system/kv-replicate.service \
		./usr/share/man/man8/kvd.8.gz ./usr/share/man/man1/kvctl.1.gz \
		./usr/share/kv/nginx.conf ./usr/share/kv/apache.conf ./usr/share/kv/lighttpd.conf \
		./usr/share/kv/errors/404.html ./usr/share/kv/cgi-bin/kv.fcgi \
		./usr/share/doc/kv/operations.md.gz ./usr/share/doc/kv/API.md.gz \
		./usr/share/doc/kv/configuration.md.gz ./usr/share/doc/kv/replication.md.gz \
		./usr/share/doc/kv/copyright; do
		[[ "$output" == *" $path"$'\n'* || "$output" == *" $path" ]] || fail "the package lacks $path"
	done
	# Nothing of the tree's own: no static programs, no benchmark, no tests.
	refute_output --partial kvd-static
	refute_output --partial bench
	run dpkg-deb -f "$(deb_file)" Package Version Architecture Depends
	assert_line "Version: $(deb_version)"
	assert_line "Architecture: amd64"
	assert_line --regexp '^Depends: .*multiwatch'
	rm -rf "$BATS_TEST_TMPDIR/control"
	dpkg-deb -e "$(deb_file)" "$BATS_TEST_TMPDIR/control"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/control/conffiles")" /etc/kv/kv.conf
}

@test "(deb) lintian finds no error" {
	run lintian --tag-display-limit 0 "$(deb_file)"
	# Each line it printed, as a TAP comment; docs/hacking.md lists what
	# lintian says and why.
	printf '# %s\n' "${lines[@]}" >&3
	assert_success
	refute_output --regexp '^E: '
}

@test "(deb) apt installs it: the user kv, its store /var/lib/kv, /etc/kv/kv.conf found unasked" {
	run env DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends "$(deb_file)"
	assert_success
	run dpkg-query -W -f='${db:Status-Status} ${Version}' kv
	assert_output "installed $(deb_version)"
	IFS=: read -r _ _ uid gid _ home shell < <(getent passwd kv)
	((uid < 1000)) || fail "kv is not a system user: uid $uid"
	assert_equal "$home" /var/lib/kv
	assert_equal "$shell" /usr/sbin/nologin
	assert_equal "$(getent group kv | cut -d: -f3)" "$gid"
	assert_equal "$(stat -c '%U:%G %a' /var/lib/kv)" "kv:kv 750"
	assert_equal "$(sed -n 's/^store = //p' /etc/kv/kv.conf)" /var/lib/kv
	run /usr/bin/kvctl --help
	assert_output --partial "else \$KV_CONF, else"
	assert_output --partial "/etc/kv/kv.conf"
	# The package starts nothing: the administrator writes the tokens first.
	[[ ! -e /run/kv/kvd.sock ]] || fail "a socket exists already"
}

@test "(deb) systemd-analyze verify passes the installed units" {
	# --man=no: the manuals are checked in the package's contents above;
	# a minimal system may have man-db's database missing.
	run systemd-analyze verify --man=no "$DEB_UNITS/kv.socket" "$DEB_UNITS/kv.service" \
		"$DEB_UNITS/kv-replicate.service"
	assert_success
	assert_output ""
}

@test "(deb) the units' command line serves behind nginx, as kv, on a socket for www-data alone" {
	# The HTTP suite sends no token: this file's configuration says so,
	# as an administrator would change the conffile.
	sed -i 's/^auth = on$/auth = off/' /etc/kv/kv.conf
	grep -q '^auth = off$' /etc/kv/kv.conf
	deb_start
	assert_equal "$(curl -s -o /dev/null -w '%{http_code}' "$KV_TEST_URL/")" 200
	# The sample's second port speaks h2c, for the Deno CLI.
	assert_equal "$(curl -s --http2-prior-knowledge -o /dev/null -w '%{http_version} %{http_code}' \
		"http://127.0.0.1:$KV_DEB_H2_PORT/kv/")" "2 200"
	assert_equal "$(stat -c '%U:%G %a' /run/kv/kvd.sock)" "kv:www-data 660"
	# The service's processes: multiwatch and its 4 kvd, all as kv.
	run ps -s "$(cat "$KV_DEB_WORK/kvd.pid")" -o user=,comm=
	assert_success
	assert_equal "$(awk '{ print $1 }' <<<"$output" | sort -u)" kv
	assert_equal "$(grep -c ' kvd$' <<<"$output")" 4
	assert_equal "$(grep -c ' multiwatch$' <<<"$output")" 1
}
