/* connect_key_fuzz.c: Deno keys to the store's btree keys and back
 * (src/connect_key.c) */
#include <string.h>

#include "connect_key.h"
#include "fuzz.h"

static int cmp(const void *a, size_t a_len, const void *b, size_t b_len)
{
	int c = memcmp(a, b, a_len < b_len ? a_len : b_len);

	if (c != 0)
		return c > 0 ? 1 : -1;
	return (a_len > b_len) - (a_len < b_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char stored[2][KEYPATH_MAX + 1], prefix[KEYPATH_MAX + 1];
	static unsigned char back[CONNECT_KEY_MAX];
	size_t half = size / 2, len[2], used[2], n;

	used[0] = connect_key_prefix(data, size, prefix, &n);
	FUZZ_REQUIRE(used[0] <= size && n <= KEYPATH_MAX && n <= used[0]);
	/* An accepted key goes back to the same bytes... */
	used[0] = connect_key_to_stored(data, size, stored[0], &len[0]);
	FUZZ_REQUIRE(used[0] <= size && len[0] <= KEYPATH_MAX);
	if (used[0] == size && size > 0) {
		FUZZ_REQUIRE(connect_key_from_stored(stored[0], len[0], back) == size);
		FUZZ_REQUIRE(memcmp(back, data, size) == 0);
	}
	/* ...and two accepted keys, the input's halves, sort as Deno's do. */
	used[0] = connect_key_to_stored(data, half, stored[0], &len[0]);
	used[1] = connect_key_to_stored(data + half, size - half, stored[1], &len[1]);
	if (half > 0 && used[0] == half && used[1] == size - half)
		FUZZ_REQUIRE(cmp(data, half, data + half, size - half) ==
			     cmp(stored[0], len[0], stored[1], len[1]));
	/* Any btree key reads as a Deno key that is stored as it was. */
	n = connect_key_from_stored((const char *)data, size, back);
	if (n > 0) {
		FUZZ_REQUIRE(connect_key_to_stored(back, n, stored[0], &len[0]) == n);
		FUZZ_REQUIRE(len[0] == size && memcmp(stored[0], data, size) == 0);
	}
	return 0;
}
