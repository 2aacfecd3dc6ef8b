/* connect_write_fuzz.c: the protobuf body of KV Connect's atomic_write,
 * read into a commit (src/connect_write.c on protobuf-c, connect_key.c
 * and connect_v8.c) */
#include <string.h>

#include "connect.h"
#include "fuzz.h"
#include "jsontext.h"
#include "keypath.h"
#include "record.h"

#define MAX_VALUE 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct connect_write w;
	struct error err;

	if (!connect_write_parse(&w, data, size, MAX_VALUE, &err)) {
		FUZZ_REQUIRE(err.code != NULL && err.message[0] != '\0');
		FUZZ_REQUIRE(err.status == 400 || err.status == 413 || err.status == 500);
		goto out;
	}
	for (size_t i = 0; i < w.op.n_checks; i++) {
		const struct store_check *c = &w.op.checks[i];

		FUZZ_REQUIRE(keypath_valid(c->key, c->key_len));
	}
	for (size_t i = 0; i < w.op.n_mutations; i++) {
		const struct store_mutation *m = &w.op.mutations[i];

		/* every key a keypath, every value JSON within the bounds */
		FUZZ_REQUIRE(keypath_valid(m->key, m->key_len));
		FUZZ_REQUIRE(m->ttl_ms >= 0 && m->ttl_ms <= EXPIRES_AT_MAX);
		if (m->op == STORE_SET) {
			FUZZ_REQUIRE(m->value_len <= MAX_VALUE);
			FUZZ_REQUIRE(jsontext_validate(m->value, m->value_len, RECORD_DEPTH_MAX) ==
				     JSONTEXT_OK);
		}
	}
out:
	connect_write_free(&w);
	return 0;
}
