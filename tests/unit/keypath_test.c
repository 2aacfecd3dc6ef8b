/* keypath_test.c: the keypath rules and the btree key encoding */
#include "keypath.h"
#include "unit.h"

static bool valid(const char *s)
{
	return keypath_valid(s, strlen(s));
}

static void test_validity(void)
{
	char longest[KEYPATH_MAX + 2];

	CHECK(valid("users.john.settings"));
	CHECK(valid("a"));
	CHECK(valid("caf\xc3\xa9"));
	CHECK(valid("\xf0\x9f\x98\x80.x"));		/* U+1F600 */
	CHECK(valid("\xc2\x80"));			/* U+0080: not a C0 control */
	CHECK(valid("a b.c-d_e~f!"));
	CHECK(!valid(""));
	CHECK(!valid("a..b"));
	CHECK(!valid(".a"));
	CHECK(!valid("a."));
	CHECK(!valid("."));
	CHECK(!valid("a/b"));
	CHECK(!valid("a\x01" "b"));
	CHECK(!valid("a\x1f"));
	CHECK(!valid("a\x7f"));
	CHECK(!keypath_valid("a\0b", 3));
	CHECK(!valid("a\xff"));				/* never UTF-8 */
	CHECK(!valid("a\xc0\xaf"));			/* overlong '/' */
	CHECK(!valid("\xe0\x80\xaf"));			/* overlong */
	CHECK(!valid("\xed\xa0\x80"));			/* surrogate U+D800 */
	CHECK(!valid("\xf4\x90\x80\x80"));		/* above U+10FFFF */
	CHECK(!valid("\xc3"));				/* truncated */
	CHECK(!valid("\xe2\x82"));

	memset(longest, 'a', sizeof(longest));
	CHECK(keypath_valid(longest, KEYPATH_MAX));
	CHECK(!keypath_valid(longest, KEYPATH_MAX + 1));
}

static bool unescapes_to(const char *in, const char *want, size_t want_len)
{
	char out[64];
	size_t n;

	return keypath_unescape(in, strlen(in), out, &n) && n == want_len &&
	       memcmp(out, want, n) == 0;
}

static void test_unescape(void)
{
	char out[16];
	size_t n;

	CHECK(unescapes_to("caf%C3%A9", "caf\xc3\xa9", 5));
	CHECK(unescapes_to("a%2Eb", "a.b", 3));
	CHECK(unescapes_to("a%2fb", "a/b", 3));
	CHECK(unescapes_to("%00", "\0", 1));
	CHECK(unescapes_to("plain+text", "plain+text", 10));
	CHECK(!keypath_unescape("%", 1, out, &n));
	CHECK(!keypath_unescape("a%2", 3, out, &n));
	CHECK(!keypath_unescape("%zz", 3, out, &n));
	CHECK(!keypath_unescape("%g0", 3, out, &n));
}

/* Encoded keys in memcmp order must follow the contract's order. */
static int cmp_encoded(const char *a, const char *b)
{
	char ea[64], eb[64];
	size_t la = strlen(a), lb = strlen(b);
	int c;

	keypath_encode(a, la, ea);
	keypath_encode(b, lb, eb);
	c = memcmp(ea, eb, la < lb ? la : lb);
	return c != 0 ? c : (la > lb) - (la < lb);
}

static void test_order(void)
{
	const char *sorted[] = { "a", "a.b", "a.b.c", "a.b!", "a.ba", "a.c", "a0", "b" };
	size_t n = sizeof(sorted) / sizeof(sorted[0]);
	char enc[16], back[16];

	for (size_t i = 0; i + 1 < n; i++)
		CHECK(cmp_encoded(sorted[i], sorted[i + 1]) < 0);
	keypath_encode("x.y.z", 5, enc);
	CHECK(memcmp(enc, "x\0y\0z", 5) == 0);
	keypath_decode(enc, 5, back);
	CHECK(memcmp(back, "x.y.z", 5) == 0);
}

int main(void)
{
	test_validity();
	test_unescape();
	test_order();
	return UNIT_DONE();
}
