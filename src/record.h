/* record.h: the byte layout of a stored record, and versionstamps */
#ifndef KV_RECORD_H
#define KV_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A record is a format byte, the versionstamp and the expiry (both 64-bit
 * big-endian), then the value's JSON text exactly as the client sent it.
 * expiresAt 0 means "never"; big-endian lets the expiry index use the
 * bytes as its key and sort them with memcmp. */
#define RECORD_FORMAT 1

/* The same layout for values written through KV Connect that are not
 * plain JSON (docs/kv-connect.md), the format byte saying which: a
 * Deno.KvU64, whose value is the JSON text of its decimal integer (what
 * REST reads); a Uint8Array's bytes; the V8 serialization of a value with
 * no JSON form. Only Deno reads the last two. */
#define RECORD_FORMAT_U64 2
#define RECORD_FORMAT_BYTES 3
#define RECORD_FORMAT_V8 4

enum record_kind {
	RECORD_JSON = RECORD_FORMAT,
	RECORD_U64 = RECORD_FORMAT_U64,
	RECORD_BYTES = RECORD_FORMAT_BYTES,
	RECORD_V8 = RECORD_FORMAT_V8,
};

/* Whether REST can read a value of this kind: JSON and KvU64s (and 0,
 * a kind not set, which is JSON). */
static inline bool record_kind_json(enum record_kind kind)
{
	return kind != RECORD_BYTES && kind != RECORD_V8;
}
#define RECORD_VS_OFFSET 1
#define RECORD_EXPIRY_OFFSET 9
#define RECORD_HEADER 17

/* The latest expiry a ttl may reach: the largest integer a JSON number
 * carries exactly in every client (2^53 - 1), far beyond any real ttl. */
#define EXPIRES_AT_MAX INT64_C(9007199254740991)

/* How deeply arrays and objects may nest in a stored value: the service
 * checks it on PUT and in commits, kvctl load on every line. */
#define RECORD_DEPTH_MAX 128

/* What a client is told about a ttl it got wrong. */
#define RECORD_TTL_RULE \
	"ttl must be null or a whole number of milliseconds from 1 that keeps the expiry within 2^53 - 1"

/* 20 hex digits and a terminator. */
#define VERSIONSTAMP_LEN 20

struct record {
	uint64_t versionstamp;
	int64_t expires_at;	/* ms since the epoch, 0 for none */
	const char *value;	/* not owned: points into the packed bytes */
	size_t value_len;
	enum record_kind kind;	/* the format byte */
};

/* Writes the record's RECORD_HEADER + value_len bytes to out. */
void record_pack(const struct record *rec, unsigned char *out);

/* Reads a packed record; rec->value then points into buf. Returns false
 * when buf is not a record of these formats. */
bool record_unpack(const unsigned char *buf, size_t len, struct record *rec);

/* True when the record has an expiry and it has passed at now_ms. */
bool record_expired(const struct record *rec, int64_t now_ms);

/* Reads a ttl: absent (text NULL), null, or the raw text of a JSON integer
 * of milliseconds, at least 1, that keeps now + ttl within EXPIRES_AT_MAX.
 * *ttl is 0 for none. */
bool record_parse_ttl(const char *text, size_t len, int64_t now, int64_t *ttl);

/* The client-facing form: VERSIONSTAMP_LEN lowercase hex digits plus NUL. */
void record_format_vs(uint64_t vs, char out[VERSIONSTAMP_LEN + 1]);

enum record_vs_parse {
	RECORD_VS_OK,
	RECORD_VS_INVALID,	/* not VERSIONSTAMP_LEN lowercase hex digits */
	RECORD_VS_WIDE,		/* the digits of a number above 64 bits: never given out */
};

/* Reads the client-facing form back: text[0..len) must be exactly
 * VERSIONSTAMP_LEN lowercase hex digits (no quotes, no terminator needed).
 * Sets *vs on RECORD_VS_OK only. */
enum record_vs_parse record_parse_vs(const char *text, size_t len, uint64_t *vs);

#endif
