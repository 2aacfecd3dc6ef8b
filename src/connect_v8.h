/* connect_v8.h: the JSON subset of V8's value serialization
 *
 * Deno stores a value as the bytes of V8's ValueSerializer: a header
 * (FF, then the format version) and one tagged value. What JSON can say
 * (null, booleans, finite numbers, strings, arrays without holes and
 * plain objects) is read into JSON text and written back from it, so
 * that REST reads it. The rest of what V8 serializes for Deno
 * (undefined, bigints, dates, maps, sets, regular expressions, typed
 * arrays, errors, cycles, ...) is checked through and kept as the bytes
 * it came as; malformed input is refused. */
#ifndef KV_CONNECT_V8_H
#define KV_CONNECT_V8_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "jsonbuf.h"

/* What a read may build. */
struct connect_v8_limits {
	int depth_max;		/* arrays and objects nested, at most */
	size_t json_max;	/* bytes of JSON text, at most */
};

/* Reads the V8 value in v8[0..len). When it has a JSON form, writes its
 * JSON text to out and sets *json. When it has none (undefined, NaN, a
 * bigint, a Date, a Map, a typed array, a cycle, ...), json NULL makes it
 * a 400 invalid_value; otherwise the whole value is checked as V8 reads
 * it and *json is false, out then holding nothing of use. Returns false
 * with err filled (400 invalid_value, 413 value_too_large beyond the
 * limits, 500 out of memory) when it is malformed, of a kind this
 * service does not read (host objects, shared or resizable buffers,
 * WebAssembly), or too large or deep. */
bool connect_v8_read(const unsigned char *v8, size_t len, const struct connect_v8_limits *lim,
		     struct jsonbuf *out, bool *json, struct error *err);

/* Writes the V8 serialization of the JSON text json[0..len) to out, as
 * V8 itself writes that value. False when the text is not JSON. */
bool connect_v8_from_json(const char *json, size_t len, struct jsonbuf *out);

#endif
