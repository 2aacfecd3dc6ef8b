#!/bin/sh
# kv.fcgi: start kvd with the kv.conf that sits next to this wrapper.
#
# Works both ways Apache can run it:
#   mod_fcgid (AddHandler fcgid-script .fcgi): stdin is the FastCGI listening
#     socket, which exec hands on to kvd, and kvd serves requests until
#     mod_fcgid stops it;
#   plain CGI (AddHandler cgi-script .fcgi): kvd serves the one request in
#     its environment and stdin, and exits.
# The service is mounted at this script's URL, e.g.
#   https://example.org/cgi-bin/kv.fcgi/users.john
# See README.txt.

# The directory of this script: mod_fcgid passes its full path as $0,
# mod_cgi only its name but runs it from its directory.
case $0 in
*/*) here=${0%/*} ;;
*) here=. ;;
esac
here=$(cd "$here" && pwd) || exit 1

# Settings, unless the server's environment already has them.
KV_CONF=${KV_CONF:-$here/kv.conf}
export KV_CONF
# Where the kvd binary is; keep it next to this script or say where it is.
KVD=${KVD:-$here/kvd}

exec "$KVD"
