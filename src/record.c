/* record.c: the byte layout of a stored record, and versionstamps */
#include <string.h>

#include "jsontext.h"
#include "record.h"
#include "util.h"

void record_pack(const struct record *rec, unsigned char *out)
{
	out[0] = rec->kind != 0 ? (unsigned char)rec->kind : RECORD_FORMAT;
	util_put_be64(out + RECORD_VS_OFFSET, rec->versionstamp);
	util_put_be64(out + RECORD_EXPIRY_OFFSET, (uint64_t)rec->expires_at);
	if (rec->value_len > 0)
		memcpy(out + RECORD_HEADER, rec->value, rec->value_len);
}

bool record_unpack(const unsigned char *buf, size_t len, struct record *rec)
{
	if (len < RECORD_HEADER || buf[0] < RECORD_FORMAT || buf[0] > RECORD_FORMAT_V8)
		return false;
	rec->kind = (enum record_kind)buf[0];
	rec->versionstamp = util_get_be64(buf + RECORD_VS_OFFSET);
	rec->expires_at = (int64_t)util_get_be64(buf + RECORD_EXPIRY_OFFSET);
	rec->value = (const char *)buf + RECORD_HEADER;
	rec->value_len = len - RECORD_HEADER;
	return rec->expires_at >= 0;
}

bool record_expired(const struct record *rec, int64_t now_ms)
{
	return rec->expires_at != 0 && rec->expires_at <= now_ms;
}

bool record_parse_ttl(const char *text, size_t len, int64_t now, int64_t *ttl)
{
	uint64_t n;

	*ttl = 0;
	if (text == NULL || jsontext_is_null(text, len))
		return true;
	if (!util_parse_u64(text, len, &n) || n == 0 || n > (uint64_t)(EXPIRES_AT_MAX - now))
		return false;
	*ttl = (int64_t)n;
	return true;
}

void record_format_vs(uint64_t vs, char out[VERSIONSTAMP_LEN + 1])
{
	/* 64 bits print as at most 16 digits; the contract's 20 leave room for
	 * a wider counter without changing what clients see. By hand: every
	 * GET and PUT prints one, and snprintf cost more than the store read. */
	static const char digits[] = "0123456789abcdef";

	for (int i = VERSIONSTAMP_LEN - 1; i >= 0; i--, vs >>= 4)
		out[i] = digits[vs & 0xf];
	out[VERSIONSTAMP_LEN] = '\0';
}

enum record_vs_parse record_parse_vs(const char *text, size_t len, uint64_t *vs)
{
	uint64_t n = 0;
	bool wide = false;

	if (len != VERSIONSTAMP_LEN)
		return RECORD_VS_INVALID;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		unsigned digit;

		if (c >= '0' && c <= '9')
			digit = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			digit = (unsigned)(c - 'a' + 10);
		else
			return RECORD_VS_INVALID;
		/* The first four digits are beyond a 64-bit counter. */
		if (i < VERSIONSTAMP_LEN - 16)
			wide |= digit != 0;
		n = n << 4 | digit;
	}
	if (wide)
		return RECORD_VS_WIDE;
	*vs = n;
	return RECORD_VS_OK;
}
