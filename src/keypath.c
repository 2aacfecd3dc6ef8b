/* keypath.c: dotted key paths, their validation and their btree encoding */
#include "keypath.h"
#include "util.h"

bool keypath_unescape(const char *in, size_t len, char *out, size_t *out_len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (in[i] != '%') {
			out[n++] = in[i];
			continue;
		}
		if (len - i < 3)
			return false;
		int hi = util_hex_value((unsigned char)in[i + 1]);
		int lo = util_hex_value((unsigned char)in[i + 2]);
		if (hi < 0 || lo < 0)
			return false;
		out[n++] = (char)(hi << 4 | lo);
		i += 2;
	}
	*out_len = n;
	return true;
}

bool keypath_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t seglen = 0;

	if (len == 0 || len > KEYPATH_MAX)
		return false;
	for (size_t i = 0; i < len;) {
		if (p[i] == '.') {
			if (seglen == 0)
				return false;
			seglen = 0;
			i++;
			continue;
		}
		if (p[i] < 0x20 || p[i] == 0x7f || p[i] == '/')
			return false;
		size_t n = util_utf8_sequence(p + i, len - i);
		if (n == 0)
			return false;
		seglen += n;
		i += n;
	}
	return seglen > 0;
}

void keypath_encode(const char *dotted, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++)
		out[i] = dotted[i] == '.' ? KEYPATH_SEP : dotted[i];
}

void keypath_decode(const char *encoded, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++)
		out[i] = encoded[i] == KEYPATH_SEP ? '.' : encoded[i];
}

bool keypath_stored_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	/* The dotted form would be s with each separator a dot, and a dot
	 * of s itself is part of no keypath (it is a Deno string's). */
	if (len == 0 || len > KEYPATH_MAX || p[0] == KEYPATH_SEP || p[len - 1] == KEYPATH_SEP)
		return false;
	for (size_t i = 0; i < len;) {
		if (p[i] == KEYPATH_SEP) {
			if (p[i + 1] == KEYPATH_SEP)
				return false;
			i++;
			continue;
		}
		if (p[i] < 0x20 || p[i] == 0x7f || p[i] == '/' || p[i] == '.')
			return false;
		size_t n = util_utf8_sequence(p + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}
