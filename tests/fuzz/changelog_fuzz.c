/* changelog_fuzz.c: a change log record read back (src/changelog.c)
 *
 * The log is the store's own file, but a damaged one must be refused,
 * never read past: the first byte splits the input into the record's key
 * and its data. */
#include <string.h>

#include "changelog.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct changelog_entry e;
	size_t key_len;
	uint8_t *key, *rest;

	if (size == 0)
		return 0;
	key_len = data[0] % 16;
	if (key_len > size - 1)
		key_len = size - 1;
	/* Copies of their own, so that a read past either shows. */
	key = malloc(key_len + 1);
	rest = malloc(size - 1 - key_len + 1);
	if (key == NULL || rest == NULL)
		goto out;
	memcpy(key, data + 1, key_len);
	memcpy(rest, data + 1 + key_len, size - 1 - key_len);
	if (changelog_unpack(key, key_len, rest, size - 1 - key_len, &e)) {
		FUZZ_REQUIRE(key_len == CHANGELOG_KEY_LEN);
		FUZZ_REQUIRE(CHANGELOG_DATA_HEADER + e.key_len + e.value_len == size - 1 - key_len);
		FUZZ_REQUIRE(e.key_len > 0 && e.op >= CHANGELOG_SET && e.op <= CHANGELOG_EXPIRE);
		FUZZ_REQUIRE(e.key == (const char *)rest + CHANGELOG_DATA_HEADER);
	}
out:
	free(key);
	free(rest);
	return 0;
}
