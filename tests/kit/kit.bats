bats_require_minimum_version 1.7.0
# tests/kit/kit.bats: the upload script/kit packs,
# kv-cgi-VERSION-linux-ARCH.tar.gz: its name, its checksum, exactly the kit's
# files with their modes, the build's static programs stripped, a kvd that
# serves from a root with nothing else, the same bytes from a second run.
# KV_KIT names a tarball already made; without it this file makes its own.
load '../lib/helper'

setup_file() {
	if [[ -z "${KV_KIT:-}" ]]; then
		KV_KIT=$("$KV_SRCDIR/script/kit" "$BATS_FILE_TMPDIR/out" | tail -n 1)
	fi
	: "${KV_VERSION:=$(sed -n 's/^VERSION = //p' "$KV_BUILDDIR/Makefile")}"
	KV_KIT_NAME=kv-cgi-$KV_VERSION-linux-$(uname -m)
	KV_KIT_DIR="$BATS_FILE_TMPDIR/unpacked"
	mkdir -p "$KV_KIT_DIR"
	tar -C "$KV_KIT_DIR" -xzf "$KV_KIT"
	export KV_KIT KV_VERSION KV_KIT_NAME KV_KIT_DIR
}

@test "(kit) the tarball is named for the version and the machine, and its checksum matches" {
	[[ -n "$KV_VERSION" ]] || fail "no version"
	assert_equal "$(basename "$KV_KIT")" "$KV_KIT_NAME.tar.gz"
	run bash -c 'cd "$(dirname "$KV_KIT")" && sha256sum -c "$KV_KIT_NAME.tar.gz.sha256"'
	assert_success
	assert_output "$KV_KIT_NAME.tar.gz: OK"
}

@test "(kit) the tarball holds the cgi-bin kit, kvd and kvctl, with their modes, and nothing else" {
	run bash -c 'tar -tvzf "$KV_KIT" | awk "{ print \$1, \$2, \$6 }"'
	assert_success
	assert_output "drwxr-xr-x 0/0 $KV_KIT_NAME/
drwxr-xr-x 0/0 $KV_KIT_NAME/cgi-bin/
-rw-r--r-- 0/0 $KV_KIT_NAME/cgi-bin/.htaccess
-rw-r--r-- 0/0 $KV_KIT_NAME/cgi-bin/README.txt
-rw-r--r-- 0/0 $KV_KIT_NAME/cgi-bin/kv.conf
-rwxr-xr-x 0/0 $KV_KIT_NAME/cgi-bin/kv.fcgi
-rwxr-xr-x 0/0 $KV_KIT_NAME/cgi-bin/kvd
-rwxr-xr-x 0/0 $KV_KIT_NAME/kvctl"
	local f
	for f in kv.fcgi .htaccess kv.conf README.txt; do
		cmp "$KV_SRCDIR/cgi-bin/$f" "$KV_KIT_DIR/$KV_KIT_NAME/cgi-bin/$f"
	done
}

@test "(kit) kvd and kvctl are static and stripped" {
	local prog
	for prog in cgi-bin/kvd kvctl; do
		run ldd "$KV_KIT_DIR/$KV_KIT_NAME/$prog"
		assert_output --partial "not a dynamic executable"
		run readelf -S "$KV_KIT_DIR/$KV_KIT_NAME/$prog"
		assert_success
		refute_output --partial ".symtab"
		refute_output --partial ".debug_info"
	done
	# kvctl runs outside the build as it will on a host: a token.
	run --separate-stderr "$KV_KIT_DIR/$KV_KIT_NAME/kvctl" token me
	assert_success
	assert_line --regexp '^hash = sha256:[0-9a-f]{64}$'
}

@test "(kit) kvd and kvctl are the build's static programs, stripped" {
	strip -o "$BATS_TEST_TMPDIR/kvd" "$KV_BUILDDIR/src/kvd-static"
	strip -o "$BATS_TEST_TMPDIR/kvctl" "$KV_BUILDDIR/src/kvctl-static"
	cmp "$BATS_TEST_TMPDIR/kvd" "$KV_KIT_DIR/$KV_KIT_NAME/cgi-bin/kvd"
	cmp "$BATS_TEST_TMPDIR/kvctl" "$KV_KIT_DIR/$KV_KIT_NAME/kvctl"
}

@test "(kit) the tarball's kvd answers a CGI request in a root that holds only it" {
	[[ $(id -u) == 0 ]] || fail "chroot needs root"
	local root="$BATS_TEST_TMPDIR/root"
	mkdir -p "$root/store"
	cp "$KV_KIT_DIR/$KV_KIT_NAME/cgi-bin/kvd" "$root/kvd"
	printf 'store = /store\nauth = off\n' >"$root/kv.conf"
	run --separate-stderr env -i KV_CONF=/kv.conf GATEWAY_INTERFACE=CGI/1.1 \
		SERVER_PROTOCOL=HTTP/1.1 REQUEST_METHOD=GET REQUEST_URI=/kv/ SCRIPT_NAME=/kv \
		QUERY_STRING= REMOTE_ADDR=127.0.0.1 \
		timeout -k 2 30 "$(command -v chroot)" "$root" /kvd </dev/null
	assert_success
	assert_line --partial 'Content-Type: application/json'
	assert_output --partial '"status":"ok"'
}

@test "(kit) a second run packs the same bytes" {
	local again
	again=$("$KV_SRCDIR/script/kit" "$BATS_FILE_TMPDIR/again" | tail -n 1)
	assert_equal "$(basename "$again")" "$KV_KIT_NAME.tar.gz"
	cmp "$KV_KIT" "$again"
}
