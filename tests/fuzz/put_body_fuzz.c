/* put_body_fuzz.c: the body of a PUT (src/body.c on src/jsontext.c) */
#include <string.h>

#include "body.h"
#include "fuzz.h"
#include "jsontext.h"

/* A fixed clock, so that a crash replays. */
#define NOW_MS INT64_C(1764460000000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The body arrives NUL-terminated, like body_read's. */
	char *text = malloc(size + 1);
	struct store_put put;
	struct error err;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&put, 0, sizeof(put));
	if (body_parse_put(text, size, 65536, NOW_MS, &put, &err)) {
		/* The stored text is one JSON value within the body, within the
		 * contract's nesting bound, and the expiry fits. */
		FUZZ_REQUIRE(put.value >= text && put.value + put.value_len <= text + size);
		FUZZ_REQUIRE(put.value_len <= 65536);
		FUZZ_REQUIRE(jsontext_validate(put.value, put.value_len, 128) == JSONTEXT_OK);
		FUZZ_REQUIRE(put.ttl_ms >= 0 && put.ttl_ms <= INT64_C(9007199254740991) - NOW_MS);
	} else {
		FUZZ_REQUIRE(err.code != NULL && err.message[0] != '\0');
		FUZZ_REQUIRE(err.status == 400 || err.status == 413);
	}
	free(text);
	return 0;
}
