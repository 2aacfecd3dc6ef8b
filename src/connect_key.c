/* connect_key.c: Deno KV keys and the store's keypaths */
#include <string.h>

#include "connect_key.h"
#include "util.h"

/* Reads one string part at key[0..len) that is a valid segment: its
 * payload starts at key + 1 and is *seg_len bytes long. Returns the
 * bytes the part takes, or 0 when it is not one. */
static size_t segment_part(const unsigned char *key, size_t len, size_t *seg_len)
{
	size_t i = 1;

	if (len < 2 || key[0] != CONNECT_TAG_STRING)
		return 0;
	while (i < len && key[i] != 0x00) {
		/* '.' would split the segment; control bytes, '/' and a 00
		 * (escaped as 00 FF, so never reached here) are not allowed. */
		if (key[i] < 0x20 || key[i] == 0x7f || key[i] == '/' || key[i] == '.')
			return 0;
		size_t n = util_utf8_sequence(key + i, len - i);
		if (n == 0)
			return 0;
		i += n;
	}
	if (i == len || i == 1)
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

bool connect_key_to_keypath(const unsigned char *key, size_t len, char *out, size_t *out_len)
{
	if (len == 0 || connect_key_prefix(key, len, out, out_len) != len)
		return false;
	keypath_decode(out, *out_len, out);
	return true;
}

size_t connect_key_from_encoded(const char *enc, size_t len, unsigned char *out)
{
	size_t n = 0;

	out[n++] = CONNECT_TAG_STRING;
	for (size_t i = 0; i < len; i++) {
		if (enc[i] == KEYPATH_SEP) {
			out[n++] = 0x00;
			out[n++] = CONNECT_TAG_STRING;
		} else {
			out[n++] = (unsigned char)enc[i];
		}
	}
	out[n++] = 0x00;
	return n;
}
