/* query_fuzz.c: the query string of a request (src/request.c) */
#include <string.h>

#include "fuzz.h"
#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* QUERY_STRING reaches the program as a C string: a NUL ends it. */
	char *qs = malloc(size + 1);
	struct query q;

	if (qs == NULL)
		return 0;
	memcpy(qs, data, size);
	qs[size] = '\0';
	memset(&q, 0, sizeof(q));
	if (request_parse_query(qs, &q) == NULL) {
		FUZZ_REQUIRE(q.limit >= 1 && q.limit <= 1000);
		FUZZ_REQUIRE(q.cursor == NULL || strlen(q.cursor) < size);
	}
	free(q.cursor);
	free(qs);
	return 0;
}
