/* etag_test.c: If-Match and If-None-Match tags against a versionstamp
 * (src/etag.c) */
#include "etag.h"
#include "unit.h"

#define VS "0000000000000000002a"

static void test_strong(void)
{
	CHECK(etag_matches("\"" VS "\"", ETAG_STRONG, true, VS));
	CHECK(etag_matches("  \"" VS "\"  ", ETAG_STRONG, true, VS));
	CHECK(etag_matches("\"x\", \"" VS "\"", ETAG_STRONG, true, VS));
	CHECK(etag_matches("\"x\",\t\"" VS "\"", ETAG_STRONG, true, VS));
	/* a weak tag never matches strongly */
	CHECK(!etag_matches("W/\"" VS "\"", ETAG_STRONG, true, VS));
	CHECK(!etag_matches("\"0000000000000000002b\"", ETAG_STRONG, true, VS));
	CHECK(!etag_matches("\"" VS "0\"", ETAG_STRONG, true, VS));
	CHECK(!etag_matches("\"0000000000000000002A\"", ETAG_STRONG, true, VS));
	/* a key that does not exist matches no tag */
	CHECK(!etag_matches("\"" VS "\"", ETAG_STRONG, false, VS));
}

static void test_weak(void)
{
	CHECK(etag_matches("W/\"" VS "\"", ETAG_WEAK, true, VS));
	CHECK(etag_matches("\"" VS "\"", ETAG_WEAK, true, VS));
	CHECK(etag_matches("W/\"a\", W/\"" VS "\"", ETAG_WEAK, true, VS));
	CHECK(!etag_matches("w/\"" VS "\"", ETAG_WEAK, true, VS));
}

static void test_star(void)
{
	CHECK(etag_matches("*", ETAG_STRONG, true, VS));
	CHECK(etag_matches(" * ", ETAG_WEAK, true, VS));
	CHECK(!etag_matches("*", ETAG_STRONG, false, VS));
	/* "*" is the whole header or nothing */
	CHECK(!etag_matches("*, \"" VS "\"", ETAG_STRONG, true, VS));
}

/* Malformed lists match nothing, even when a good tag follows. */
static void test_malformed(void)
{
	CHECK(!etag_matches("", ETAG_STRONG, true, VS));
	CHECK(!etag_matches(VS, ETAG_STRONG, true, VS));
	CHECK(!etag_matches("\"" VS, ETAG_STRONG, true, VS));
	CHECK(!etag_matches("x, \"" VS "\"", ETAG_WEAK, true, VS));
	CHECK(!etag_matches("\"a\" \"" VS "\"", ETAG_WEAK, true, VS));
	CHECK(!etag_matches("\"a\"; \"" VS "\"", ETAG_WEAK, true, VS));
	/* a bad tag after the match is not read */
	CHECK(etag_matches("\"" VS "\", garbage", ETAG_STRONG, true, VS));
}

int main(void)
{
	test_strong();
	test_weak();
	test_star();
	test_malformed();
	return UNIT_DONE();
}
