/* keypath.h: dotted key paths, their validation and their btree encoding */
#ifndef KV_KEYPATH_H
#define KV_KEYPATH_H

#include <stdbool.h>
#include <stddef.h>

/* The contract's bound on a whole keypath, in bytes after percent-decoding. */
#define KEYPATH_MAX 2048

/* Segments are joined by this byte in the btree. No segment may hold a
 * control character, so it sorts below every byte a segment can hold: the
 * btree's memcmp order is then the contract's segment-wise order
 * (a.b < a.b.c < a.ba < a.c) and "every key under P" is the contiguous range
 * that starts with P followed by the separator. */
#define KEYPATH_SEP '\0'

/* Percent-decodes len bytes of in into out (room for len bytes) and sets
 * *out_len. Returns false on a '%' not followed by two hex digits. */
bool keypath_unescape(const char *in, size_t len, char *out, size_t *out_len);

/* True when s[0..len) is a valid dotted keypath: 1 to KEYPATH_MAX bytes of
 * valid UTF-8, segments of at least one byte separated by single dots, no
 * '/', no control character (U+0000 to U+001F, U+007F). */
bool keypath_valid(const char *s, size_t len);

/* Dotted form to btree form and back, in place or into a buffer of the same
 * length: the two differ only in the separator byte. */
void keypath_encode(const char *dotted, size_t len, char *out);
void keypath_decode(const char *encoded, size_t len, char *out);

/* True when the btree key s[0..len) is the btree form of a valid keypath.
 * The btree also holds keys that Deno programs write with parts of other
 * kinds (connect_key.h), which have none: the REST face passes them over. */
bool keypath_stored_valid(const char *s, size_t len);

#endif
