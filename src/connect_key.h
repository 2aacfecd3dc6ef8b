/* connect_key.h: Deno KV keys and the store's keypaths
 *
 * A Deno key is a tuple of parts, each encoded as a tag byte and its
 * payload, concatenated: a string part is 02, its UTF-8 (a 00 byte
 * escaped as 00 FF) and a closing 00. A tuple of strings that are valid
 * keypath segments is the keypath of those segments, and the two orders
 * agree: 02 "a" 00 sorts below 02 "a" 00 02 ... (a < a.b) and below
 * 02 "a" "b" 00 (a.b < ab) exactly as the btree's encoded keypaths do
 * (keypath.h), since a segment holds no byte below 0x20. Other parts
 * (bytes, numbers, bigints, booleans) have no keypath. */
#ifndef KV_CONNECT_KEY_H
#define KV_CONNECT_KEY_H

#include <stdbool.h>
#include <stddef.h>

#include "keypath.h"

/* The longest Deno encoding of a keypath: each segment of at least one
 * byte gains a tag and a terminator, and loses its separator. */
#define CONNECT_KEY_MAX (2 * KEYPATH_MAX + 1)

/* The string tag, the escape of a 00 byte in a string, and the tags
 * every other part starts with are above it or below it. */
#define CONNECT_TAG_STRING 0x02

/* Reads a whole Deno key as a dotted keypath into out (KEYPATH_MAX
 * bytes), setting *out_len. False when any part is not a string, a
 * string is not a valid segment, the key is empty or too long. */
bool connect_key_to_keypath(const unsigned char *key, size_t len, char *out, size_t *out_len);

/* Writes the Deno encoding of an encoded (btree) keypath into out
 * (CONNECT_KEY_MAX bytes); returns its length. */
size_t connect_key_from_encoded(const char *enc, size_t len, unsigned char *out);

/* Reads the leading parts of key[0..len) that are valid segments, as an
 * encoded (btree) keypath into out (KEYPATH_MAX bytes), setting
 * *out_len; returns how many bytes of key they take. What follows them
 * is a part of another kind, an incomplete one, or nothing. */
size_t connect_key_prefix(const unsigned char *key, size_t len, char *out, size_t *out_len);

#endif
