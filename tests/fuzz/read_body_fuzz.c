/* read_body_fuzz.c: the body of a read of many keys (src/read_body.c on
 * src/jsontext.c) */
#include <string.h>

#include "fuzz.h"
#include "keypath.h"
#include "read_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The body arrives NUL-terminated, like body_read's. */
	char *text = malloc(size + 1);
	struct read_body rb;
	struct error err;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (read_body_parse(&rb, text, size, &err)) {
		FUZZ_REQUIRE(rb.read.n_keys <= READ_KEYS_MAX);
		for (size_t i = 0; i < rb.read.n_keys; i++) {
			const struct store_read_key *rk = &rb.read.keys[i];

			/* every key is a valid keypath, decoded no longer than the body */
			FUZZ_REQUIRE(rk->key != NULL && rk->key_len <= size);
			FUZZ_REQUIRE(keypath_valid(rk->key, rk->key_len));
			FUZZ_REQUIRE(rk->key[rk->key_len] == '\0' && !rk->found);
		}
	} else {
		FUZZ_REQUIRE(err.code != NULL && err.message[0] != '\0');
		FUZZ_REQUIRE(err.status == 400 || err.status == 500);
	}
	read_body_free(&rb);
	free(text);
	return 0;
}
