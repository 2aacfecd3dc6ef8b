/* jsonbuf.h: JSON text written straight into a growing buffer
 *
 * The writer of every response body: text goes in as it is written, in
 * the order written, with no tree of objects to build and free (a list
 * page holds up to 1000 entries and 4 MiB of values). Writes after an
 * allocation failure are ignored, and the failure is reported once at the
 * end, in failed. */
#ifndef KV_JSONBUF_H
#define KV_JSONBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jsonbuf {
	char *data;		/* owned; not NUL-terminated */
	size_t len;
	size_t cap;
	bool failed;		/* an allocation failed: the text is incomplete */
};

/* Starts an empty buffer with room for about hint bytes. */
void jsonbuf_init(struct jsonbuf *b, size_t hint);

/* Appends n bytes as they are (punctuation, numbers, stored JSON text). */
void jsonbuf_raw(struct jsonbuf *b, const char *s, size_t n);

/* Appends a NUL-terminated literal as it is. */
void jsonbuf_lit(struct jsonbuf *b, const char *s);

/* Appends n bytes of UTF-8 as a quoted JSON string: quote, backslash and
 * control characters escaped, '/' and non-ASCII bytes as they are, as
 * json-c prints them with JSON_C_TO_STRING_NOSLASHESCAPE. */
void jsonbuf_string(struct jsonbuf *b, const char *s, size_t n);

/* Appends v as a JSON integer. */
void jsonbuf_int(struct jsonbuf *b, int64_t v);

/* Appends v as a JSON integer, or null when v is 0: the store's
 * expiresAt, where 0 means none. */
void jsonbuf_int_or_null(struct jsonbuf *b, int64_t v);

void jsonbuf_free(struct jsonbuf *b);

#endif
