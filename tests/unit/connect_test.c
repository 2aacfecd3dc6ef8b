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

static bool keypath_is(const char *hex, const char *want)
{
	unsigned char key[256];
	char out[KEYPATH_MAX + 1];
	size_t len = unhex(hex, key), out_len;

	if (!connect_key_to_keypath(key, len, out, &out_len))
		return want == NULL;
	return want != NULL && out_len == strlen(want) && memcmp(out, want, out_len) == 0;
}

static void test_keys(void)
{
	unsigned char enc[CONNECT_KEY_MAX], want[64];
	char prefix[KEYPATH_MAX + 1];
	size_t n, want_len, used;

	CHECK(keypath_is("0268656c6c6f00", "hello"));
	CHECK(keypath_is("02757365727300026a6f686e00", "users.john"));
	CHECK(keypath_is("02c3a900", "\xc3\xa9"));
	CHECK(keypath_is("", NULL));				/* the empty key */
	CHECK(keypath_is("0200", NULL));			/* "" */
	CHECK(keypath_is("02612e6200", NULL));			/* "a.b" */
	CHECK(keypath_is("02612f6200", NULL));			/* "a/b" */
	CHECK(keypath_is("0261", NULL));			/* unterminated */
	CHECK(keypath_is("02610021bff0000000000000", NULL));	/* ["a", 1] */
	CHECK(keypath_is("010102", NULL));			/* bytes */
	CHECK(keypath_is("1501", NULL));			/* 1n */
	CHECK(keypath_is("27", NULL));				/* true */
	CHECK(keypath_is("02ff00", NULL));			/* not UTF-8 */
	CHECK(keypath_is("0261000100", NULL));			/* a NUL escaped in a string */

	n = connect_key_from_encoded("users\0john", 10, enc);
	want_len = unhex("02757365727300026a6f686e00", want);
	CHECK(n == want_len && memcmp(enc, want, n) == 0);

	/* The string parts before another kind: ["a", 1] has the prefix a. */
	want_len = unhex("02610021bff0000000000000", want);
	used = connect_key_prefix(want, want_len, prefix, &n);
	CHECK(used == 3 && n == 1 && prefix[0] == 'a');
	want_len = unhex("026100026200ff", want);
	used = connect_key_prefix(want, want_len, prefix, &n);
	CHECK(used == 6 && n == 3 && memcmp(prefix, "a\0b", 3) == 0);
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
	ok = connect_v8_to_json(v8, len, RECORD_DEPTH_MAX, &out, &err);
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
	test_values();
	return UNIT_DONE();
}
