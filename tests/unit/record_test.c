/* record_test.c: the record layout, versionstamps and entity tags */
#include "etag.h"
#include "record.h"
#include "unit.h"

static void test_round_trip(void)
{
	const char value[] = "{\"a\":0.1}";
	struct record in = { 42, 1764460000000, value, sizeof(value) - 1 }, out;
	unsigned char buf[RECORD_HEADER + sizeof(value)];

	record_pack(&in, buf);
	CHECK(buf[0] == RECORD_FORMAT);
	CHECK(record_unpack(buf, RECORD_HEADER + in.value_len, &out));
	CHECK(out.versionstamp == 42);
	CHECK(out.expires_at == 1764460000000);
	CHECK(out.value_len == in.value_len && memcmp(out.value, value, in.value_len) == 0);
	/* The expiry bytes are big-endian: the index sorts them with memcmp. */
	CHECK(buf[RECORD_EXPIRY_OFFSET] == 0 && buf[RECORD_EXPIRY_OFFSET + 7] == (1764460000000 & 0xff));

	CHECK(out.kind == RECORD_JSON && record_kind_json(out.kind));

	/* A KvU64 keeps its kind in the format byte, its decimal in the value. */
	in.value = "42";
	in.value_len = 2;
	in.kind = RECORD_U64;
	record_pack(&in, buf);
	CHECK(buf[0] == RECORD_FORMAT_U64);
	CHECK(record_unpack(buf, RECORD_HEADER + 2, &out));
	CHECK(out.kind == RECORD_U64 && out.value_len == 2 && memcmp(out.value, "42", 2) == 0);
	CHECK(record_kind_json(out.kind));

	/* Bytes and V8 values keep theirs; REST reads neither. */
	in.kind = RECORD_BYTES;
	record_pack(&in, buf);
	CHECK(buf[0] == RECORD_FORMAT_BYTES && record_unpack(buf, RECORD_HEADER + 2, &out));
	CHECK(out.kind == RECORD_BYTES && !record_kind_json(out.kind));
	in.kind = RECORD_V8;
	record_pack(&in, buf);
	CHECK(buf[0] == RECORD_FORMAT_V8 && record_unpack(buf, RECORD_HEADER + 2, &out));
	CHECK(out.kind == RECORD_V8 && !record_kind_json(out.kind));
	buf[0] = RECORD_FORMAT_V8 + 1;
	CHECK(!record_unpack(buf, RECORD_HEADER + 2, &out));

	CHECK(!record_unpack(buf, RECORD_HEADER - 1, &out));
	buf[0] = 99;
	CHECK(!record_unpack(buf, sizeof(buf), &out));
}

static void test_expiry(void)
{
	struct record r = { 1, 0, "", 0 };

	CHECK(!record_expired(&r, 1000));
	r.expires_at = 1000;
	CHECK(!record_expired(&r, 999));
	CHECK(record_expired(&r, 1000));
	CHECK(record_expired(&r, 1001));
}

static void test_versionstamp(void)
{
	char vs[VERSIONSTAMP_LEN + 1], later[VERSIONSTAMP_LEN + 1];

	record_format_vs(42, vs);
	CHECK(strcmp(vs, "0000000000000000002a") == 0);
	record_format_vs(UINT64_MAX, vs);
	CHECK(strcmp(vs, "0000ffffffffffffffff") == 0);
	/* Clients compare them as strings. */
	record_format_vs(9, vs);
	record_format_vs(10, later);
	CHECK(strcmp(vs, later) < 0);
}

static void test_parse_versionstamp(void)
{
	char vs[VERSIONSTAMP_LEN + 1];
	uint64_t n = 7;

	CHECK(record_parse_vs("0000000000000000002a", VERSIONSTAMP_LEN, &n) == RECORD_VS_OK);
	CHECK(n == 42);
	CHECK(record_parse_vs("00000000000000000000", VERSIONSTAMP_LEN, &n) == RECORD_VS_OK);
	CHECK(n == 0);
	/* What record_format_vs writes, it reads back. */
	record_format_vs(UINT64_MAX, vs);
	CHECK(record_parse_vs(vs, strlen(vs), &n) == RECORD_VS_OK && n == UINT64_MAX);
	record_format_vs(0x0123456789abcdefULL, vs);
	CHECK(record_parse_vs(vs, strlen(vs), &n) == RECORD_VS_OK && n == 0x0123456789abcdefULL);
	/* Only the contract's form: 20 lowercase hex digits. */
	n = 7;
	CHECK(record_parse_vs("0000000000000000002A", VERSIONSTAMP_LEN, &n) == RECORD_VS_INVALID);
	CHECK(record_parse_vs("000000000000000002a", VERSIONSTAMP_LEN - 1, &n) == RECORD_VS_INVALID);
	CHECK(record_parse_vs("0000000000000000002a0", VERSIONSTAMP_LEN + 1, &n) == RECORD_VS_INVALID);
	CHECK(record_parse_vs("000000000000000000 a", VERSIONSTAMP_LEN, &n) == RECORD_VS_INVALID);
	CHECK(record_parse_vs("\"00000000000000002a\"", VERSIONSTAMP_LEN, &n) == RECORD_VS_INVALID);
	CHECK(record_parse_vs("", 0, &n) == RECORD_VS_INVALID);
	/* Twenty digits, but beyond what a 64-bit counter ever gave out. */
	CHECK(record_parse_vs("00010000000000000000", VERSIONSTAMP_LEN, &n) == RECORD_VS_WIDE);
	CHECK(record_parse_vs("f000000000000000002a", VERSIONSTAMP_LEN, &n) == RECORD_VS_WIDE);
	CHECK(n == 7);
}

static void test_etag(void)
{
	const char *vs = "0000000000000000002a";

	CHECK(etag_matches("\"0000000000000000002a\"", ETAG_WEAK, true, vs));
	CHECK(etag_matches("W/\"0000000000000000002a\"", ETAG_WEAK, true, vs));
	CHECK(etag_matches("\"x\", \"0000000000000000002a\"", ETAG_WEAK, true, vs));
	CHECK(etag_matches("*", ETAG_WEAK, true, vs));
	CHECK(etag_matches(" * ", ETAG_WEAK, true, vs));
	CHECK(!etag_matches("*", ETAG_WEAK, false, vs));
	CHECK(!etag_matches("\"0000000000000000002a\"", ETAG_WEAK, false, vs));
	CHECK(!etag_matches("\"0000000000000000002b\"", ETAG_WEAK, true, vs));
	CHECK(!etag_matches("0000000000000000002a", ETAG_WEAK, true, vs));
	CHECK(!etag_matches("\"0000000000000000002a", ETAG_WEAK, true, vs));
	CHECK(!etag_matches("garbage", ETAG_WEAK, true, vs));
	CHECK(!etag_matches("", ETAG_WEAK, true, vs));
	/* If-Match compares strongly: a weak tag never matches. */
	CHECK(etag_matches("\"0000000000000000002a\"", ETAG_STRONG, true, vs));
	CHECK(!etag_matches("W/\"0000000000000000002a\"", ETAG_STRONG, true, vs));
	CHECK(etag_matches("W/\"x\", \"0000000000000000002a\"", ETAG_STRONG, true, vs));
	CHECK(!etag_matches("\"x\" junk \"0000000000000000002a\"", ETAG_WEAK, true, vs));
}

int main(void)
{
	test_round_trip();
	test_expiry();
	test_versionstamp();
	test_parse_versionstamp();
	test_etag();
	return UNIT_DONE();
}
