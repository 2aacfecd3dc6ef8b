/* connect_key.c: Deno KV keys and the store's btree keys (connect_key.h) */
#include <stdint.h>
#include <string.h>

#include "connect_key.h"
#include "util.h"

enum {
	DENO_BYTES = 0x01,
	DENO_STRING = 0x02,
	DENO_INT_LONG_NEG = 0x0b,
	DENO_INT_ZERO = 0x14,
	DENO_INT_LONG_POS = 0x1d,
	DENO_DOUBLE = 0x21,
	DENO_FALSE = 0x26,
	DENO_TRUE = 0x27,
};

enum {
	STORED_BYTES = 0x01,
	STORED_EMPTY = 0x02,
	STORED_CONTROL = 0x1e,	/* a string's byte below 20 follows, plus 20 */
	STORED_ESCAPE = 0x01,	/* in escaped payloads: 01 01 is 00, 01 02 is 01 */
	STORED_BIGINT = 0xf8,
	STORED_DOUBLE = 0xfa,
	STORED_FALSE = 0xfc,
	STORED_TRUE = 0xfd,
};

/* Where a stored form is written: at most KEYPATH_MAX bytes. */
struct sink {
	char *out;
	size_t n;
	bool full;
};

static void put(struct sink *s, unsigned char b)
{
	if (s->n == KEYPATH_MAX) {
		s->full = true;
		return;
	}
	s->out[s->n++] = (char)b;
}

static void put_escaped(struct sink *s, const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] <= 0x01) {
			put(s, STORED_ESCAPE);
			put(s, (unsigned char)(p[i] + 1));
		} else {
			put(s, p[i]);
		}
	}
}

/* The payload of a bytes or string part from key[1]: its bytes, each 00
 * FF read as 00, into buf (len bytes), up to the closing 00. Returns the
 * bytes the part takes, or 0 when it has no closing 00. */
static size_t read_escaped(const unsigned char *key, size_t len, unsigned char *buf, size_t *n)
{
	*n = 0;
	for (size_t i = 1; i < len; i++) {
		if (key[i] != 0x00) {
			buf[(*n)++] = key[i];
		} else if (i + 1 < len && key[i + 1] == 0xff) {
			buf[(*n)++] = 0x00;
			i++;
		} else {
			return i + 1;
		}
	}
	return 0;
}

static bool valid_utf8(const unsigned char *p, size_t len)
{
	for (size_t i = 0, n; i < len; i += n) {
		if ((n = util_utf8_sequence(p + i, len - i)) == 0)
			return false;
	}
	return true;
}

/* The bytes an integer part takes (its tag included), or 0. */
static size_t int_size(const unsigned char *key, size_t len)
{
	unsigned char tag = key[0];
	size_t n;

	if (tag == DENO_INT_LONG_POS || tag == DENO_INT_LONG_NEG) {
		if (len < 2)
			return 0;
		n = tag == DENO_INT_LONG_POS ? key[1] : (size_t)(key[1] ^ 0xff);
		return len - 2 >= n ? n + 2 : 0;
	}
	n = tag >= DENO_INT_ZERO ? (size_t)(tag - DENO_INT_ZERO) : (size_t)(DENO_INT_ZERO - tag);
	return len - 1 >= n ? n + 1 : 0;
}

/* Writes the stored form of the one part at key[0..len) to s; returns
 * the bytes the part takes, or 0 when it is malformed or incomplete.
 * buf holds a payload (len bytes). */
static size_t store_part(const unsigned char *key, size_t len, struct sink *s, unsigned char *buf)
{
	size_t used, n;

	switch (key[0]) {
	case DENO_BYTES:
		if ((used = read_escaped(key, len, buf, &n)) == 0)
			return 0;
		put(s, STORED_BYTES);
		put_escaped(s, buf, n);
		return used;
	case DENO_STRING:
		if ((used = read_escaped(key, len, buf, &n)) == 0 || !valid_utf8(buf, n))
			return 0;
		if (n == 0)
			put(s, STORED_EMPTY);
		for (size_t i = 0; i < n; i++) {
			if (buf[i] < 0x20) {
				put(s, STORED_CONTROL);
				put(s, (unsigned char)(buf[i] + 0x20));
			} else {
				put(s, buf[i]);
			}
		}
		return used;
	case DENO_DOUBLE:
		if (len < 9)
			return 0;
		put(s, STORED_DOUBLE);
		put_escaped(s, key + 1, 8);
		return 9;
	case DENO_FALSE:
	case DENO_TRUE:
		put(s, key[0] == DENO_TRUE ? STORED_TRUE : STORED_FALSE);
		return 1;
	default:
		if (key[0] < DENO_INT_LONG_NEG || key[0] > DENO_INT_LONG_POS ||
		    (used = int_size(key, len)) == 0)
			return 0;
		put(s, STORED_BIGINT);
		put_escaped(s, key, used);
		return used;
	}
}

size_t connect_key_to_stored(const unsigned char *key, size_t len, char *out, size_t *out_len)
{
	unsigned char buf[CONNECT_KEY_MAX];
	struct sink s = { .out = out };
	size_t used = 0;

	*out_len = 0;
	if (len > sizeof(buf))
		len = sizeof(buf);
	while (used < len) {
		size_t part;

		if (used > 0)
			put(&s, KEYPATH_SEP);
		part = store_part(key + used, len - used, &s, buf);
		if (part == 0 || s.full)
			break;
		used += part;
		*out_len = s.n;
	}
	return used;
}

/* ---- stored form to Deno's ---- */

/* Reads an escaped payload p[0..len) into out; returns its length, or
 * SIZE_MAX when an escape is malformed. */
static size_t unescape(const unsigned char *p, size_t len, unsigned char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (p[i] != STORED_ESCAPE) {
			out[n++] = p[i];
			continue;
		}
		if (i + 1 == len || p[i + 1] < 0x01 || p[i + 1] > 0x02)
			return SIZE_MAX;
		out[n++] = (unsigned char)(p[++i] - 1);
	}
	return n;
}

/* Deno's bytes or string part: tag, payload with 00 as 00 FF, 00. */
static size_t deno_escaped(unsigned char tag, const unsigned char *p, size_t len,
			   unsigned char *out)
{
	size_t n = 0;

	out[n++] = tag;
	for (size_t i = 0; i < len; i++) {
		out[n++] = p[i];
		if (p[i] == 0x00)
			out[n++] = 0xff;
	}
	out[n++] = 0x00;
	return n;
}

/* A stored string's bytes, each 1E pair read back. */
static size_t string_bytes(const unsigned char *p, size_t len, unsigned char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (p[i] >= 0x20) {
			out[n++] = p[i];
		} else if (p[i] == STORED_CONTROL && i + 1 < len && p[i + 1] >= 0x20 &&
			   p[i + 1] < 0x40) {
			out[n++] = (unsigned char)(p[++i] - 0x20);
		} else {
			return SIZE_MAX;
		}
	}
	return n;
}

/* The Deno encoding of one stored part p[0..len) (no 00 in it) into
 * out; returns its length, or 0 when it is not a stored part. */
static size_t deno_part(const unsigned char *p, size_t len, unsigned char *out)
{
	unsigned char buf[KEYPATH_MAX];
	size_t n;

	if (len == 0)
		return 0;
	switch (p[0]) {
	case STORED_BYTES:
		if ((n = unescape(p + 1, len - 1, buf)) == SIZE_MAX)
			return 0;
		return deno_escaped(DENO_BYTES, buf, n, out);
	case STORED_EMPTY:
		return len == 1 ? deno_escaped(DENO_STRING, buf, 0, out) : 0;
	case STORED_BIGINT:
		if ((n = unescape(p + 1, len - 1, out)) == SIZE_MAX || n == 0 ||
		    out[0] < DENO_INT_LONG_NEG || out[0] > DENO_INT_LONG_POS ||
		    int_size(out, n) != n)
			return 0;
		return n;
	case STORED_DOUBLE:
		if ((n = unescape(p + 1, len - 1, out + 1)) != 8)
			return 0;
		out[0] = DENO_DOUBLE;
		return 9;
	case STORED_FALSE:
	case STORED_TRUE:
		out[0] = p[0] == STORED_TRUE ? DENO_TRUE : DENO_FALSE;
		return len == 1 ? 1 : 0;
	default:
		if ((n = string_bytes(p, len, buf)) == SIZE_MAX || n == 0 || !valid_utf8(buf, n))
			return 0;
		return deno_escaped(DENO_STRING, buf, n, out);
	}
}

size_t connect_key_from_stored(const char *stored, size_t len, unsigned char *out)
{
	const unsigned char *p = (const unsigned char *)stored;
	size_t n = 0, start = 0;

	if (len == 0 || len > KEYPATH_MAX)
		return 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && p[i] != KEYPATH_SEP)
			continue;
		size_t part = deno_part(p + start, i - start, out + n);

		if (part == 0)
			return 0;
		n += part;
		start = i + 1;
	}
	return n;
}

/* ---- grants ---- */

/* Reads one string part at key[0..len) that is a valid segment: its
 * payload starts at key + 1 and is *seg_len bytes long. Returns the
 * bytes the part takes, or 0 when it is not one. */
static size_t segment_part(const unsigned char *key, size_t len, size_t *seg_len)
{
	size_t i = 1;

	if (len < 2 || key[0] != DENO_STRING)
		return 0;
	while (i < len && key[i] != 0x00) {
		/* '.' would split the segment; control bytes and '/' are not
		 * allowed. */
		if (key[i] < 0x20 || key[i] == 0x7f || key[i] == '/' || key[i] == '.')
			return 0;
		size_t n = util_utf8_sequence(key + i, len - i);
		if (n == 0)
			return 0;
		i += n;
	}
	/* A 00 that FF follows is a 00 inside the string, which no segment
	 * holds, not its end: the string's keypath would be a shorter one,
	 * whose grant does not cover it. */
	if (i == len || i == 1 || (i + 1 < len && key[i + 1] == 0xff))
		return 0;
	*seg_len = i - 1;
	return i + 1;
}

size_t connect_key_prefix(const unsigned char *key, size_t len, char *out, size_t *out_len)
{
	size_t used = 0, n = 0;

	while (used < len) {
		size_t seg_len = 0;
		size_t part = segment_part(key + used, len - used, &seg_len);

		if (part == 0 || n + seg_len + (n > 0) > KEYPATH_MAX)
			break;
		if (n > 0)
			out[n++] = KEYPATH_SEP;
		memcpy(out + n, key + used + 1, seg_len);
		n += seg_len;
		used += part;
	}
	*out_len = n;
	return used;
}
