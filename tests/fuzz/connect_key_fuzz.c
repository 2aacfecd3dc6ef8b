/* connect_key_fuzz.c: Deno keys read as keypaths (src/connect_key.c) */
#include <string.h>

#include "connect_key.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[KEYPATH_MAX + 1], enc[KEYPATH_MAX + 1];
	unsigned char back[CONNECT_KEY_MAX];
	size_t len, enc_len, used;

	used = connect_key_prefix(data, size, enc, &enc_len);
	FUZZ_REQUIRE(used <= size && enc_len <= KEYPATH_MAX && enc_len <= used);
	if (!connect_key_to_keypath(data, size, path, &len))
		return 0;
	/* an accepted key is a valid keypath whose encoding is the input */
	FUZZ_REQUIRE(len > 0 && len <= KEYPATH_MAX && keypath_valid(path, len));
	keypath_encode(path, len, enc);
	FUZZ_REQUIRE(connect_key_from_encoded(enc, len, back) == size);
	FUZZ_REQUIRE(memcmp(back, data, size) == 0);
	return 0;
}
