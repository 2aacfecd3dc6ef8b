/* put_body_fuzz.c: the body of a PUT (src/route.c on src/jsontext.c) */
#include <string.h>

#include "fuzz.h"
#include "jsontext.h"
#include "route.h"

/* A fixed clock, so that a crash replays. */
#define NOW_MS INT64_C(1764460000000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The body arrives NUL-terminated, like request_read_body's. */
	char *text = malloc(size + 1);
	struct store_put put;
	const char *problem = NULL;
	enum put_body_status status;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&put, 0, sizeof(put));
	status = route_parse_put_body(text, size, 65536, NOW_MS, &put, &problem);
	FUZZ_REQUIRE((status == PUT_BODY_INVALID_BODY) == (problem != NULL));
	if (status == PUT_BODY_OK) {
		/* The stored text is one JSON value within the body, within the
		 * contract's nesting bound, and the expiry fits. */
		FUZZ_REQUIRE(put.value >= text && put.value + put.value_len <= text + size);
		FUZZ_REQUIRE(put.value_len <= 65536);
		FUZZ_REQUIRE(jsontext_validate(put.value, put.value_len, 128) == JSONTEXT_OK);
		FUZZ_REQUIRE(put.ttl_ms >= 0 && put.ttl_ms <= INT64_C(9007199254740991) - NOW_MS);
	}
	free(text);
	return 0;
}
