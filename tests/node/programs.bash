# tests/node/programs.bash: the test programs of tests/node, ready to run.
#
# KV_NODE_MODULES is the node_modules that holds @deno/kv (default: the
# one script/bootstrap installs). The programs import "@deno/kv" as any
# Node.js program does, which Node resolves from the program's own
# directory, so node_programs copies them into NODE_PROGRAMS (in the bats
# file's temporary directory) beside a link to that node_modules.
node_programs() {
	: "${KV_NODE_MODULES:=/usr/local/lib/kv-node/node_modules}"
	if ! command -v node >/dev/null; then
		echo "node is not installed (script/bootstrap installs it)" >&2
		return 1
	fi
	if [[ ! -f "$KV_NODE_MODULES/@deno/kv/package.json" ]]; then
		echo "@deno/kv is not in $KV_NODE_MODULES (script/bootstrap installs it)" >&2
		return 1
	fi
	export NODE_PROGRAMS=$BATS_FILE_TMPDIR/node
	mkdir -p "$NODE_PROGRAMS"
	ln -sfn "$KV_NODE_MODULES" "$NODE_PROGRAMS/node_modules"
	cp "$KV_SRCDIR"/tests/node/*.mjs "$NODE_PROGRAMS/"
}
