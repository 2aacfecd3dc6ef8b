/* connect_test.c: Deno keys and the JSON subset of V8 serialization,
 * against the bytes Deno and V8 write (from their own serializers) */
#include "connect_key.h"
#include "connect_v8.h"
#include "record.h"
#include "unit.h"

/* Hex text to bytes; returns the length. */
static size_t unhex(const char *hex, unsigned char *out)
{
	size_t n = 0;

	while (*hex != '\0') {
		if (*hex == ' ') {
			hex++;
			continue;
		}
		sscanf(hex, "%2hhx", &out[n++]);
		hex += 2;
	}
	return n;
}

/* The stored form of a Deno key (hex), compared with want (hex), NULL
 * for a key that is refused; and back to the same Deno bytes. */
static bool stored_is(const char *hex, const char *want)
{
	unsigned char key[256], w[256], back[CONNECT_KEY_MAX];
	char out[KEYPATH_MAX + 1];
	size_t len = unhex(hex, key), want_len, out_len;

	if (connect_key_to_stored(key, len, out, &out_len) != len || len == 0)
		return want == NULL;
	if (want == NULL)
		return false;
	want_len = unhex(want, w);
	return out_len == want_len && memcmp(out, w, want_len) == 0 &&
	       connect_key_from_stored(out, out_len, back) == len && memcmp(back, key, len) == 0;
}

static int sign(int c)
{
	return (c > 0) - (c < 0);
}

static int bytes_cmp(const void *a, size_t a_len, const void *b, size_t b_len)
{
	int c = memcmp(a, b, a_len < b_len ? a_len : b_len);

	return c != 0 ? sign(c) : (a_len > b_len) - (a_len < b_len);
}

/* A random part, Deno-encoded, of every kind: short byte strings from a
 * small alphabet that holds the bytes the escapes treat specially. */
static size_t random_part(unsigned char *out)
{
	static const unsigned char alphabet[] = { 0x00, 0x01, 0x02, 0x1e, 0x1f, 0x20, '.', 'a',
						  'b', 0x7f, 0xff };
	size_t n = 0, len = (size_t)(rand() % 4);

	switch (rand() % 6) {
	case 0:
	case 1:
		out[n++] = rand() % 2 ? 0x01 : 0x02;
		for (size_t i = 0; i < len; i++) {
			unsigned char b = alphabet[rand() % sizeof(alphabet)];

			if (out[0] == 0x02 && b >= 0x80)
				b = 'c';	/* strings stay UTF-8 */
			out[n++] = b;
			if (b == 0x00)
				out[n++] = 0xff;
		}
		out[n++] = 0x00;
		return n;
	case 2:	/* a bigint of up to 3 bytes, either sign */
		len = (size_t)(rand() % 4);
		out[n++] = (unsigned char)(rand() % 2 ? 0x14 + len : 0x14 - len);
		for (size_t i = 0; i < len; i++)
			out[n++] = alphabet[rand() % sizeof(alphabet)];
		return n;
	case 3:
		out[n++] = 0x21;
		for (size_t i = 0; i < 8; i++)
			out[n++] = alphabet[rand() % sizeof(alphabet)];
		return n;
	default:
		out[n++] = rand() % 2 ? 0x26 : 0x27;
		return n;
	}
}

static void test_key_order(void)
{
	enum { KEYS = 400 };
	static unsigned char deno[KEYS][64];
	static char stored[KEYS][KEYPATH_MAX];
	size_t deno_len[KEYS], stored_len[KEYS];
	int mismatches = 0, refused = 0;

	srand(20261204);
	for (int i = 0; i < KEYS; i++) {
		size_t parts = 1 + (size_t)(rand() % 3), n = 0;

		for (size_t p = 0; p < parts; p++)
			n += random_part(deno[i] + n);
		deno_len[i] = n;
		if (connect_key_to_stored(deno[i], n, stored[i], &stored_len[i]) != n)
			refused++;
	}
	CHECK(refused == 0);
	for (int i = 0; i < KEYS; i++)
		for (int j = 0; j < KEYS; j++)
			mismatches += bytes_cmp(deno[i], deno_len[i], deno[j], deno_len[j]) !=
				      bytes_cmp(stored[i], stored_len[i], stored[j], stored_len[j]);
	CHECK(mismatches == 0);
}

static void test_keys(void)
{
	unsigned char want[64];
	char prefix[KEYPATH_MAX + 1];
	size_t n, want_len, used;

	/* strings that are segments are their keypath */
	CHECK(stored_is("0268656c6c6f00", "68656c6c6f"));
	CHECK(stored_is("02757365727300026a6f686e00", "7573657273 00 6a6f686e"));
	CHECK(stored_is("02c3a900", "c3a9"));
	/* other strings, and the other kinds */
	CHECK(stored_is("0200", "02"));				/* "" */
	CHECK(stored_is("02612e6200", "612e62"));		/* "a.b" */
	CHECK(stored_is("026100ff0100", "61 1e20 1e21"));	/* "a\0\x01" */
	CHECK(stored_is("02610021bff0000000000000", "61 00 fa bff0 0101 0101 0101 0101 0101 0101"));
	CHECK(stored_is("0101020000", NULL));			/* bytes, then a lone 00 */
	CHECK(stored_is("01010200ff0700", "01 0102 02 0101 07"));	/* [1,2,0,7] */
	CHECK(stored_is("1501", "f8 15 0102"));		/* 1n */
	CHECK(stored_is("13fe", "f8 13 fe"));			/* -1n */
	CHECK(stored_is("14", "f8 14"));			/* 0n */
	CHECK(stored_is("1d0201", NULL));			/* a long bigint cut short */
	CHECK(stored_is("2627", "fc 00 fd"));			/* [false, true] */
	/* refused */
	CHECK(stored_is("", NULL));				/* the empty key */
	CHECK(stored_is("0261", NULL));				/* unterminated */
	CHECK(stored_is("02ff00", NULL));			/* not UTF-8 */
	CHECK(stored_is("30", NULL));				/* no such tag */
	CHECK(stored_is("21bff0", NULL));			/* a short number */

	/* what no Deno key is stored as */
	CHECK(connect_key_from_stored("\0", 1, want) == 0);	/* the counter */
	CHECK(connect_key_from_stored("\x02x", 2, want) == 0);
	CHECK(connect_key_from_stored("\x01\x01\x03", 3, want) == 0);
	CHECK(connect_key_from_stored("a\0\0b", 4, want) == 0);
	CHECK(connect_key_from_stored("\xfa\x01", 2, want) == 0);

	/* The string parts before another kind: ["a", 1] has the prefix a. */
	want_len = unhex("02610021bff0000000000000", want);
	used = connect_key_prefix(want, want_len, prefix, &n);
	CHECK(used == 3 && n == 1 && prefix[0] == 'a');
	want_len = unhex("026100026200", want);
	used = connect_key_prefix(want, want_len, prefix, &n);
	CHECK(used == 6 && n == 3 && memcmp(prefix, "a\0b", 3) == 0);
	/* the bytes every key between two bounds shares: after a 00, FF
	 * escapes it, so "b..." there is a string with a 00, not the
	 * segment b, and the keys lie under a alone */
	want_len = unhex("026100026200ff", want);
	used = connect_key_prefix(want, want_len, prefix, &n);
	CHECK(used == 3 && n == 1 && prefix[0] == 'a');
	/* a string that is no segment ends the keypath, one with a 00 in it too */
	want_len = unhex("02612e6200", want);
	CHECK(connect_key_prefix(want, want_len, prefix, &n) == 0 && n == 0);
	want_len = unhex("02757300026100ff6200", want);	/* ["us", "a\0b"] */
	CHECK(connect_key_prefix(want, want_len, prefix, &n) == 4 && n == 2);

	/* the REST face sees only keypaths */
	CHECK(keypath_stored_valid("users\0john", 10));
	CHECK(!keypath_stored_valid("a.b", 3));
	CHECK(!keypath_stored_valid("a\0\xf8\x14", 4));
	CHECK(!keypath_stored_valid("\x02", 1));
	CHECK(!keypath_stored_valid("a\0", 2));
}

static const struct connect_v8_limits limits = { .depth_max = RECORD_DEPTH_MAX,
						  .json_max = 1 << 20 };

/* V8 bytes (hex) that have no JSON form: kept when the caller keeps
 * such values (other true), else refused; and malformed ones (other
 * false), refused either way. */
static bool other_is(const char *hex, bool other)
{
	unsigned char v8[256];
	size_t len = unhex(hex, v8);
	struct jsonbuf out;
	struct error err;
	bool json = true, kept, refused;

	jsonbuf_init(&out, 64);
	kept = connect_v8_read(v8, len, &limits, &out, &json, &err) && !json;
	refused = !connect_v8_read(v8, len, &limits, &out, NULL, &err) && err.status == 400;
	jsonbuf_free(&out);
	if (kept != other || !refused)
		fprintf(stderr, "%s: kept %d, refused %d\n", hex, kept, refused);
	return kept == other && refused;
}

/* V8 bytes (hex) read as JSON text. */
static bool json_is(const char *hex, const char *want)
{
	unsigned char v8[256];
	size_t len = unhex(hex, v8);
	struct jsonbuf out;
	struct error err;
	bool ok;

	jsonbuf_init(&out, 64);
	ok = connect_v8_read(v8, len, &limits, &out, NULL, &err);
	if (want == NULL)
		ok = !ok && err.status == 400;
	else
		ok = ok && out.len == strlen(want) && memcmp(out.data, want, out.len) == 0;
	if (!ok && want != NULL)
		fprintf(stderr, "%s: got %.*s (%s)\n", hex, (int)out.len, out.data, err.message);
	jsonbuf_free(&out);
	return ok;
}

/* JSON text written as V8 bytes, compared with the hex V8 writes. */
static bool v8_is(const char *json, const char *hex)
{
	unsigned char want[256];
	size_t len = unhex(hex, want);
	struct jsonbuf out;
	bool ok;

	jsonbuf_init(&out, 64);
	ok = connect_v8_from_json(json, strlen(json), &out) && out.len == len &&
	     memcmp(out.data, want, len) == 0;
	jsonbuf_free(&out);
	return ok;
}

static void test_values(void)
{
	CHECK(json_is("ff0f6f22016149027b01", "{\"a\":1}"));
	CHECK(json_is("ff0f6f7b00", "{}"));
	CHECK(json_is("ff0f41024902220178240002", "[1,\"x\"]"));
	CHECK(json_is("ff0f4100240000", "[]"));
	CHECK(json_is("ff0f6f490249047b01", "{\"1\":2}"));
	CHECK(json_is("ff0f4e000000000000f83f", "1.5"));
	CHECK(json_is("ff0f4901", "-1"));
	CHECK(json_is("ff0f4e000000000000e041", "2147483648"));
	CHECK(json_is("ff0f220568e96c6c6f", "\"h\xc3\xa9llo\""));
	CHECK(json_is("ff0f6302ac20", "\"\xe2\x82\xac\""));
	CHECK(json_is("ff0f6f006302ac20410254302400027b01", "{\"\xe2\x82\xac\":[true,null]}"));
	CHECK(json_is("ff0f4e0000000000006e40", "240"));
	CHECK(json_is("ff0f4e000000000000f0bf", "-1"));
	CHECK(json_is("ff0f4e0000000000000080", "-0"));
	CHECK(json_is("ff0f4e9a9999999999b93f", "0.1"));
	CHECK(json_is("ff0f4e8ab373b215ea8444", "1.2345678901234568e+22"));
	CHECK(json_is("ff0f30", "null"));
	CHECK(json_is("ff1030", "null"));			/* version 16 */
	CHECK(json_is("ff0f4103490049004900240003", "[0,0,0]"));
	CHECK(json_is("ff0f61024900490249024904400202", "[1,2]"));	/* once holey */
	CHECK(json_is("ff0f4102 6f7b00 5e01 240002", "[{},{}]"));	/* the same object twice */
	CHECK(json_is("ff0f5f", NULL));				/* undefined */
	CHECK(json_is("ff0f5a1001000000000000 00", NULL));	/* 1n */
	CHECK(json_is("ff0f610249024902400102", NULL));		/* [ , 1] */
	CHECK(json_is("ff0f4e000000000000f07f", NULL));		/* Infinity */
	CHECK(json_is("ff0f6f22016149027b02", NULL));		/* a count that lies */
	CHECK(json_is("ff0f410249024902", NULL));			/* cut short */
	CHECK(json_is("ff0f3030", NULL));				/* bytes after */
	CHECK(json_is("ff0f6301ac", NULL));			/* odd UTF-16 */
	CHECK(json_is("ff0f6302 00d8", NULL));			/* a lone surrogate */
	CHECK(json_is("ff0f4101 5e00 240001", NULL));		/* a cycle */
	CHECK(json_is("0f30", NULL));				/* no header */
	CHECK(json_is("ff0f44000000000000f03f", NULL));		/* a Date */
	CHECK(json_is("ff0fffffffffffffffffffff7f", NULL));	/* a varint too long */

	/* No JSON form, kept as it came when the caller keeps such values */
	CHECK(other_is("ff0f5f", true));				/* undefined */
	CHECK(other_is("ff0f5a1001000000000000 00", true));	/* 1n */
	CHECK(other_is("ff0f610249024902400102", true));		/* [ , 1] */
	CHECK(other_is("ff0f41022d4902240002", true));		/* [ , 1], dense */
	CHECK(other_is("ff0f4101 4902 220178 4904 24 01 01", true));	/* [1] with .x */
	CHECK(other_is("ff0f4e000000000000f07f", true));		/* Infinity */
	CHECK(other_is("ff0f6302 00d8", true));			/* a lone surrogate */
	CHECK(other_is("ff0f4101 5e00 240001", true));		/* a cycle */
	CHECK(other_is("ff0f44000000000000f03f", true));		/* a Date */
	CHECK(other_is("ff0f3b 4902 4904 3a02", true));		/* Map {1 => 2} */
	CHECK(other_is("ff0f27 4902 2c01", true));		/* Set {1} */
	CHECK(other_is("ff0f52 220178 00", true));		/* /x/ */
	CHECK(other_is("ff0f42 03 010203 56 42 00 03 00", true));	/* Uint8Array [1,2,3] */
	CHECK(other_is("ff0f72 54 6d 220178 2e", true));		/* TypeError("x") */
	CHECK(other_is("ff0f4102 44000000000000f03f 5e01 240002", true));	/* a Date twice */
	/* and malformed either way */
	CHECK(other_is("ff0f42 01 aa 56 42 00 05 00", false));	/* a view beyond its buffer */
	CHECK(other_is("ff0f3b 4902 4904 3a03", false));		/* a Map's count that lies */
	CHECK(other_is("ff0f5c 00", false));			/* a host object cut short */
	CHECK(other_is("ff0f5c 0d 00", false));			/* no Node typed array */
	CHECK(other_is("ff0f6f 220162 5c 0a 03 616263 7b01", true));	/* Node's {b: Buffer} */
	CHECK(other_is("ff0f5a1001", false));			/* a bigint cut short */
	CHECK(other_is("ff0f72 54 58 2e", false));		/* an Error's unknown part */
	CHECK(other_is("ff0f4101 5e05 240001", false));		/* a reference to nothing */

	/* References copy their object: the JSON is bounded as it grows. */
	{
		const struct connect_v8_limits tight = { .depth_max = 8, .json_max = 4 };
		unsigned char v8[64];
		size_t len = unhex("ff0f 4102 6f7b00 5e01 240002", v8);	/* [{},{}] */
		struct jsonbuf out;
		struct error err;

		jsonbuf_init(&out, 16);
		CHECK(!connect_v8_read(v8, len, &tight, &out, NULL, &err) && err.status == 413);
		jsonbuf_free(&out);
	}

	CHECK(v8_is("{\"a\":1}", "ff0f6f22016149027b01"));
	CHECK(v8_is("[1,\"x\"]", "ff0f41024902220178240002"));
	CHECK(v8_is("[]", "ff0f4100240000"));
	CHECK(v8_is("1.5", "ff0f4e000000000000f83f"));
	CHECK(v8_is("-1", "ff0f4901"));
	CHECK(v8_is("2147483648", "ff0f4e000000000000e041"));
	CHECK(v8_is("\"h\xc3\xa9llo\"", "ff0f220568e96c6c6f"));
	CHECK(v8_is("\"\xe2\x82\xac\"", "ff0f6302ac20"));
	CHECK(v8_is("{\"\xe2\x82\xac\":[true,null]}", "ff0f6f006302ac20410254302400027b01"));
	CHECK(v8_is(" null ", "ff0f30"));
	CHECK(v8_is("\"\\u00e9\"", "ff0f2201e9"));
}

int main(void)
{
	test_keys();
	test_key_order();
	test_values();
	return UNIT_DONE();
}
