/* connect_key.h: Deno KV keys and the store's btree keys
 *
 * A Deno key is a tuple of parts, each encoded as a tag byte and its
 * payload, concatenated (FoundationDB's tuple encoding): bytes 01,
 * string 02 (each with a 00 byte escaped as 00 FF and a closing 00),
 * bigint 0B to 1D, number 21 and 8 bytes, false 26, true 27. Deno orders
 * keys by these bytes.
 *
 * The btree keeps a key as its parts' stored forms joined by 00, the
 * separator of a keypath's segments (keypath.h), so that a tuple of
 * strings that are valid segments is that keypath: ["users", "john"] is
 * users.john for REST. Each stored form holds no 00 and begins with a
 * byte that ranks its kind as Deno does:
 *
 *   bytes    01, then the bytes with 00 as 01 01 and 01 as 01 02
 *   ""       02
 *   string   its UTF-8, each byte below 20 as 1E and the byte plus 20
 *            (a segment, which has none, is its bytes)
 *   bigint   F8, then Deno's encoding of the part, escaped as bytes are
 *   number   FA, then Deno's 8 bytes, escaped as bytes are
 *   false    FC;  true  FD
 *
 * A string's first byte is 1E or at least 20 and at most F4 (UTF-8), so
 * the kinds sort bytes < strings < bigints < numbers < false < true; the
 * escapes keep the order of the bytes they stand for, and 00 ends every
 * part below any byte a longer one continues with. The btree's order is
 * therefore Deno's. The REST face serves only keys whose every part is
 * a segment (keypath_stored_valid()). */
#ifndef KV_CONNECT_KEY_H
#define KV_CONNECT_KEY_H

#include <stdbool.h>
#include <stddef.h>

#include "keypath.h"

/* The longest Deno encoding of a stored key of KEYPATH_MAX bytes: no
 * part's Deno encoding is more than twice its stored form plus its
 * separator. */
#define CONNECT_KEY_MAX (2 * KEYPATH_MAX + 1)

/* The highest tag a Deno key part starts with (true). */
#define CONNECT_TAG_MAX 0x27

/* Writes the stored form of the leading whole parts of the Deno key
 * key[0..len) into out (KEYPATH_MAX bytes), setting *out_len; returns
 * how many bytes of key they take. It stops before a part that is
 * malformed, incomplete, or would make the stored form longer than
 * KEYPATH_MAX: the whole key converted when the result is len. */
size_t connect_key_to_stored(const unsigned char *key, size_t len, char *out, size_t *out_len);

/* Writes the Deno encoding of the stored key stored[0..len) into out
 * (CONNECT_KEY_MAX bytes); returns its length, or 0 when it is no stored
 * form of a Deno key (the versionstamp counter's record). */
size_t connect_key_from_stored(const char *stored, size_t len, unsigned char *out);

/* Reads the leading parts of key[0..len) that are valid segments, as an
 * encoded (btree) keypath into out (KEYPATH_MAX bytes), setting
 * *out_len; returns how many bytes of key they take. Grants name
 * keypaths: every key lies under the keypath of its leading segments
 * (the root when there is none). */
size_t connect_key_prefix(const unsigned char *key, size_t len, char *out, size_t *out_len);

#endif
