/* keypath_fuzz.c: the keypath of a request URI: percent-decoding, the
 * contract's rules and the btree encoding (src/keypath.c) */
#include <string.h>

#include "fuzz.h"
#include "keypath.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *decoded = malloc(size + 1);
	char *encoded = NULL;
	size_t len = 0;

	if (decoded == NULL)
		return 0;
	/* out has room for exactly size bytes, as keypath_unescape promises
	 * to need; the +1 is request.c's terminator. */
	if (!keypath_unescape((const char *)data, size, decoded, &len))
		goto out;
	FUZZ_REQUIRE(len <= size);
	if (!keypath_valid(decoded, len))
		goto out;
	FUZZ_REQUIRE(len >= 1 && len <= KEYPATH_MAX);
	FUZZ_REQUIRE(decoded[0] != '.' && decoded[len - 1] != '.');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)decoded[i];

		FUZZ_REQUIRE(c >= 0x20 && c != 0x7f && c != '/');
		FUZZ_REQUIRE(!(c == '.' && i + 1 < len && decoded[i + 1] == '.'));
	}
	/* The btree form holds no dot and decodes back to the same key. */
	encoded = malloc(len);
	if (encoded == NULL)
		goto out;
	keypath_encode(decoded, len, encoded);
	FUZZ_REQUIRE(memchr(encoded, '.', len) == NULL);
	keypath_decode(encoded, len, encoded);
	FUZZ_REQUIRE(memcmp(encoded, decoded, len) == 0);
out:
	free(encoded);
	free(decoded);
	return 0;
}
