/* jsonbuf.c: JSON text written straight into a growing buffer */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonbuf.h"

/* Makes room for n more bytes; false once an allocation failed. */
static bool reserve(struct jsonbuf *b, size_t n)
{
	size_t cap = b->cap > 0 ? b->cap : 256;
	char *data;

	if (b->failed)
		return false;
	if (b->len + n <= b->cap)
		return true;
	while (cap < b->len + n)
		cap *= 2;
	data = realloc(b->data, cap);
	if (data == NULL) {
		b->failed = true;
		return false;
	}
	b->data = data;
	b->cap = cap;
	return true;
}

void jsonbuf_init(struct jsonbuf *b, size_t hint)
{
	memset(b, 0, sizeof(*b));
	reserve(b, hint);
}

void jsonbuf_raw(struct jsonbuf *b, const char *s, size_t n)
{
	if (n == 0 || !reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
}

void jsonbuf_lit(struct jsonbuf *b, const char *s)
{
	jsonbuf_raw(b, s, strlen(s));
}

/* The escape of one byte that needs one, written to out; its length. */
static size_t escape(unsigned char c, char out[7])
{
	switch (c) {
	case '"': memcpy(out, "\\\"", 2); return 2;
	case '\\': memcpy(out, "\\\\", 2); return 2;
	case '\b': memcpy(out, "\\b", 2); return 2;
	case '\f': memcpy(out, "\\f", 2); return 2;
	case '\n': memcpy(out, "\\n", 2); return 2;
	case '\r': memcpy(out, "\\r", 2); return 2;
	case '\t': memcpy(out, "\\t", 2); return 2;
	default:
		snprintf(out, 7, "\\u%04x", c);
		return 6;
	}
}

void jsonbuf_string(struct jsonbuf *b, const char *s, size_t n)
{
	size_t start = 0;
	char esc[7];

	jsonbuf_raw(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		/* the run of plain bytes before it, then its escape */
		jsonbuf_raw(b, s + start, i - start);
		jsonbuf_raw(b, esc, escape(c, esc));
		start = i + 1;
	}
	jsonbuf_raw(b, s + start, n - start);
	jsonbuf_raw(b, "\"", 1);
}

void jsonbuf_int(struct jsonbuf *b, int64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%" PRId64, v);

	jsonbuf_raw(b, num, (size_t)n);
}

void jsonbuf_int_or_null(struct jsonbuf *b, int64_t v)
{
	if (v == 0)
		jsonbuf_lit(b, "null");
	else
		jsonbuf_int(b, v);
}

void jsonbuf_free(struct jsonbuf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}
