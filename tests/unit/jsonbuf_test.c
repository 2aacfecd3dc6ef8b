/* jsonbuf_test.c: JSON text written into a buffer reads back as json-c
 * prints it */
#include <json.h>

#include "jsonbuf.h"
#include "unit.h"

/* s as jsonbuf_string writes it equals json-c's printing of the string,
 * and json-c parses it back to s. */
static void check_string(const char *s, size_t n)
{
	struct json_object *str = json_object_new_string_len(s, (int)n);
	struct json_object *back;
	const char *want = json_object_to_json_string_ext(str,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	struct jsonbuf b;

	jsonbuf_init(&b, 0);
	jsonbuf_string(&b, s, n);
	CHECK(!b.failed);
	CHECK(b.len == strlen(want) && memcmp(b.data, want, b.len) == 0);
	jsonbuf_raw(&b, "", 1);		/* NUL for the parser */
	back = json_tokener_parse(b.data);
	CHECK(back != NULL && (size_t)json_object_get_string_len(back) == n &&
	      memcmp(json_object_get_string(back), s, n) == 0);
	json_object_put(back);
	json_object_put(str);
	jsonbuf_free(&b);
}

static void test_strings(void)
{
	static const char *const cases[] = {
		"", "users.john", "a/b", "quote\"d", "back\\slash", "tab\there",
		"line\nfeed", "\x01\x1f", "caf\xc3\xa9", "\"\\\"\\",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_string(cases[i], strlen(cases[i]));
}

static void test_growth(void)
{
	struct jsonbuf b;
	char want[5000];

	jsonbuf_init(&b, 1);
	for (int i = 0; i < 1000; i++)
		jsonbuf_lit(&b, "[1],");
	CHECK(!b.failed && b.len == 4000);
	for (int i = 0; i < 1000; i++)
		memcpy(want + 4 * i, "[1],", 4);
	CHECK(memcmp(b.data, want, 4000) == 0);
	jsonbuf_free(&b);
	CHECK(b.data == NULL && b.len == 0);
}

int main(void)
{
	test_strings();
	test_growth();
	return UNIT_DONE();
}
