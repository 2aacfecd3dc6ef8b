/* connect_write_fuzz.c: the protobuf body of KV Connect's atomic_write,
 * read into a commit of stored keys and values (src/connect_write.c on
 * protobuf-c, connect_key.c and connect_v8.c) */
#include <string.h>

#include "connect.h"
#include "connect_key.h"
#include "fuzz.h"
#include "jsontext.h"
#include "keypath.h"
#include "record.h"

#define MAX_VALUE 65536

/* A stored key that reads back as a Deno key, and lies under its
 * grant's keypath (the root when that is empty). */
static bool key_kept(const char *key, size_t len, const char *grant, size_t grant_len)
{
	static unsigned char deno[CONNECT_KEY_MAX];
	char enc[KEYPATH_MAX];

	if (len == 0 || len > KEYPATH_MAX || connect_key_from_stored(key, len, deno) == 0)
		return false;
	if (grant_len == 0)
		return true;
	if (!keypath_valid(grant, grant_len) || grant_len > len)
		return false;
	keypath_encode(grant, grant_len, enc);
	return memcmp(enc, key, grant_len) == 0 && (grant_len == len || key[grant_len] == '\0');
}

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

		FUZZ_REQUIRE(key_kept(c->key, c->key_len, c->grant, c->grant_len));
	}
	for (size_t i = 0; i < w.op.n_mutations; i++) {
		const struct store_mutation *m = &w.op.mutations[i];

		/* every key a Deno key's stored form under its grant's keypath,
		 * every value within the bounds and JSON when it says so */
		FUZZ_REQUIRE(m->stored && key_kept(m->key, m->key_len, m->grant, m->grant_len));
		FUZZ_REQUIRE(m->ttl_ms >= 0 && m->ttl_ms <= EXPIRES_AT_MAX);
		if (m->op != STORE_SET)
			continue;
		FUZZ_REQUIRE(m->value_len <= MAX_VALUE);
		if (m->kind == RECORD_JSON || m->kind == 0 || m->kind == RECORD_U64)
			FUZZ_REQUIRE(jsontext_validate(m->value, m->value_len, RECORD_DEPTH_MAX) ==
				     JSONTEXT_OK);
		else
			FUZZ_REQUIRE(m->kind == RECORD_BYTES || m->kind == RECORD_V8);
	}
out:
	connect_write_free(&w);
	return 0;
}
