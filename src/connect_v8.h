/* connect_v8.h: the JSON subset of V8's value serialization
 *
 * Deno stores a value as the bytes of V8's ValueSerializer: a header
 * (FF, then the format version) and one tagged value. The store keeps
 * JSON, so only what JSON can say is read and written: null, booleans,
 * finite numbers, strings, arrays without holes and plain objects.
 * Everything else V8 can serialize (undefined, bigints, dates, maps,
 * typed arrays, ...) is refused, as is any malformed input. */
#ifndef KV_CONNECT_V8_H
#define KV_CONNECT_V8_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "jsonbuf.h"

/* Writes the JSON text of the V8 value in v8[0..len) to out. Returns
 * false with err filled (400 invalid_value) when it is malformed or has
 * no JSON form, nesting more than depth_max arrays and objects deep
 * included; out then holds nothing of use. */
bool connect_v8_to_json(const unsigned char *v8, size_t len, int depth_max,
			struct jsonbuf *out, struct error *err);

/* Writes the V8 serialization of the JSON text json[0..len) to out, as
 * V8 itself writes that value. False when the text is not JSON. */
bool connect_v8_from_json(const char *json, size_t len, struct jsonbuf *out);

#endif
