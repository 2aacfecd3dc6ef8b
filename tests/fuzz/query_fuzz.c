/* query_fuzz.c: the query string of a request (src/request.c) */
#include <string.h>

#include "fuzz.h"
#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* QUERY_STRING reaches the program as a C string: a NUL ends it. */
	char *qs = malloc(size + 1);
	struct query q;
	struct error err;

	if (qs == NULL)
		return 0;
	memcpy(qs, data, size);
	qs[size] = '\0';
	memset(&q, 0, sizeof(q));
	if (request_parse_query(qs, &q, &err)) {
		FUZZ_REQUIRE(q.limit >= 1 && q.limit <= 1000);
		FUZZ_REQUIRE(q.depth == 0 || q.depth == 1);
		FUZZ_REQUIRE(q.cursor == NULL || strlen(q.cursor) < size);
		/* A feed never takes a list's parameters. */
		FUZZ_REQUIRE(!q.changes || (!q.list && !q.reverse_given && q.cursor == NULL));
	} else {
		FUZZ_REQUIRE(err.code != NULL && err.message[0] != '\0');
		FUZZ_REQUIRE(err.status == 400 || err.status == 500);
	}
	free(q.cursor);
	free(qs);
	return 0;
}
