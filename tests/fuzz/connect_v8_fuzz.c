/* connect_v8_fuzz.c: V8-serialized values read as JSON, and that JSON
 * written back (src/connect_v8.c) */
#include <string.h>

#include "connect_v8.h"
#include "fuzz.h"
#include "jsontext.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jsonbuf json, v8, again;
	struct error err;

	jsonbuf_init(&json, 64);
	jsonbuf_init(&v8, 64);
	jsonbuf_init(&again, 64);
	if (!connect_v8_to_json(data, size, RECORD_DEPTH_MAX, &json, &err)) {
		FUZZ_REQUIRE(err.code != NULL && err.message[0] != '\0');
		FUZZ_REQUIRE(err.status == 400 || err.status == 500);
		goto out;
	}
	/* an accepted value is strict JSON within the depth, and what V8
	 * would write for it reads back as the same JSON */
	FUZZ_REQUIRE(jsontext_validate(json.data, json.len, RECORD_DEPTH_MAX) == JSONTEXT_OK);
	FUZZ_REQUIRE(connect_v8_from_json(json.data, json.len, &v8));
	FUZZ_REQUIRE(connect_v8_to_json((const unsigned char *)v8.data, v8.len, RECORD_DEPTH_MAX,
					&again, &err));
	FUZZ_REQUIRE(again.len == json.len && memcmp(again.data, json.data, json.len) == 0);
out:
	jsonbuf_free(&json);
	jsonbuf_free(&v8);
	jsonbuf_free(&again);
	return 0;
}
