/* commit_fuzz.c: the body of an atomic commit (src/commit.c on
 * src/jsontext.c) */
#include <string.h>

#include "commit.h"
#include "fuzz.h"
#include "jsontext.h"
#include "keypath.h"

/* A fixed clock, so that a crash replays. */
#define NOW_MS INT64_C(1764460000000)
#define MAX_VALUE 65536
#define VALUE_DEPTH 128

static void check_key(const char *key, size_t len)
{
	FUZZ_REQUIRE(key != NULL && keypath_valid(key, len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The body arrives NUL-terminated, like body_read's. */
	char *text = malloc(size + 1);
	struct commit commit;
	struct error err;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (commit_parse(&commit, text, size, MAX_VALUE, VALUE_DEPTH, NOW_MS, &err)) {
		const struct store_commit *op = &commit.op;

		FUZZ_REQUIRE(op->n_checks <= COMMIT_CHECKS_MAX);
		FUZZ_REQUIRE(op->n_mutations <= COMMIT_MUTATIONS_MAX);
		for (size_t i = 0; i < op->n_checks; i++)
			check_key(op->checks[i].key, op->checks[i].key_len);
		for (size_t i = 0; i < op->n_mutations; i++) {
			const struct store_mutation *m = &op->mutations[i];

			check_key(m->key, m->key_len);
			FUZZ_REQUIRE(m->ttl_ms >= 0);
			if (m->op == STORE_SET) {
				/* A set's value is one JSON value within the body. */
				FUZZ_REQUIRE(m->value >= text && m->value + m->value_len <= text + size);
				FUZZ_REQUIRE(m->value_len <= MAX_VALUE);
				FUZZ_REQUIRE(jsontext_validate(m->value, m->value_len, VALUE_DEPTH) ==
					     JSONTEXT_OK);
			}
		}
	} else {
		FUZZ_REQUIRE(err.code != NULL && err.message[0] != '\0');
		FUZZ_REQUIRE(err.status == 400 || err.status == 413 || err.status == 500);
	}
	commit_free(&commit);
	free(text);
	return 0;
}
