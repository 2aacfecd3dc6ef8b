/* connect_v8_fuzz.c: V8-serialized values read as JSON, and that JSON
 * written back (src/connect_v8.c) */
#include <string.h>

#include "connect_v8.h"
#include "fuzz.h"
#include "jsontext.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct connect_v8_limits lim = { .depth_max = RECORD_DEPTH_MAX, .json_max = 1 << 20 };
	struct jsonbuf json, v8, again;
	struct error err;
	bool is_json = false;

	jsonbuf_init(&json, 64);
	jsonbuf_init(&v8, 64);
	jsonbuf_init(&again, 64);
	/* A value kept with no JSON form is one refused without keeping. */
	if (connect_v8_read(data, size, &lim, &json, &is_json, &err) && !is_json) {
		FUZZ_REQUIRE(!connect_v8_read(data, size, &lim, &again, NULL, &err));
		FUZZ_REQUIRE(err.status == 400);
		goto out;
	}
	json.len = 0;
	json.failed = false;
	if (!connect_v8_read(data, size, &lim, &json, NULL, &err)) {
		FUZZ_REQUIRE(err.code != NULL && err.message[0] != '\0');
		FUZZ_REQUIRE(err.status == 400 || err.status == 413 || err.status == 500);
		goto out;
	}
	/* an accepted value is strict JSON within the depth, and what V8
	 * would write for it reads back as the same JSON */
	FUZZ_REQUIRE(jsontext_validate(json.data, json.len, RECORD_DEPTH_MAX) == JSONTEXT_OK);
	FUZZ_REQUIRE(connect_v8_from_json(json.data, json.len, &v8));
	FUZZ_REQUIRE(connect_v8_read((const unsigned char *)v8.data, v8.len, &lim, &again, NULL,
				     &err));
	FUZZ_REQUIRE(again.len == json.len && memcmp(again.data, json.data, json.len) == 0);
out:
	jsonbuf_free(&json);
	jsonbuf_free(&v8);
	jsonbuf_free(&again);
	return 0;
}
