/* static_init.c: what the static kvd and kvctl (make kvd-static
 * kvctl-static) add to the ordinary programs, linked into them alone.
 *
 * libcrypto reads its configuration file (OPENSSLDIR/openssl.cnf, or
 * $OPENSSL_CONF) the first time it is used, and loads every provider or
 * engine module the file activates with dlopen. A static program would
 * load the host's module, its libcrypto and the host's shared libc next
 * to the static glibc: undefined behaviour whenever the host's glibc is
 * not the one of the build. kv needs only SHA-256 and random bytes, which
 * the built-in default provider has, so the static programs never read
 * that file; this runs before main, before any use of libcrypto. */
#include <openssl/crypto.h>

__attribute__((constructor)) static void static_init_no_openssl_config(void)
{
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
}
