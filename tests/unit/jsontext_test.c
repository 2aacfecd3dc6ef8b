/* jsontext_test.c: strict JSON validation and member spans */
#include "jsontext.h"
#include "unit.h"

static enum jsontext_status check(const char *s)
{
	return jsontext_validate(s, strlen(s), 8);
}

static void test_accepts(void)
{
	const char *ok[] = {
		"1", "-0", "0.1", "1e999999", "1E+5", "-12.5e-3", "12345678901234567890",
		"\"\"", "\"a\\u00e9\\n\\\"\\\\\\/\"", "\"\\ud83d\\ude00\"", "\"caf\xc3\xa9\"",
		"true", "false", "null", "[]", "{}", " [1, {\"a\": [null]}] \n",
		"{\"a\":1,\"a\":2}",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (check(ok[i]) != JSONTEXT_OK)
			fprintf(stderr, "rejected: %s\n", ok[i]);
		CHECK(check(ok[i]) == JSONTEXT_OK);
	}
}

static void test_rejects(void)
{
	const char *bad[] = {
		"", " ", "NaN", "Infinity", "-Infinity", "1.", ".5", "01", "+1", "0x10",
		"'a'", "{'a':1}", "[1,]", "{\"a\":1,}", "/*c*/1", "[1] x", "1 2",
		"\"a\tb\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\\x41\"",
		"\"\xff\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xe2\x82\"", "True", "nul", "[", "{\"a\"}", "truex",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (check(bad[i]) == JSONTEXT_OK)
			fprintf(stderr, "accepted: %s\n", bad[i]);
		CHECK(check(bad[i]) != JSONTEXT_OK);
	}
	CHECK(jsontext_validate("1\0", 2, 8) != JSONTEXT_OK);
	CHECK(jsontext_validate("\"a\0b\"", 5, 8) != JSONTEXT_OK);
}

static void test_depth(void)
{
	CHECK(jsontext_validate("[[[]]]", 6, 3) == JSONTEXT_OK);
	CHECK(jsontext_validate("[[[]]]", 6, 2) == JSONTEXT_TOO_DEEP);
	CHECK(jsontext_validate("{\"a\":{\"b\":[]}}", 14, 2) == JSONTEXT_TOO_DEEP);
	/* A scalar inside the innermost container is no extra level. */
	CHECK(jsontext_validate("[[1]]", 5, 2) == JSONTEXT_OK);
	CHECK(jsontext_validate("{\"a\":[\"s\"]}", 11, 2) == JSONTEXT_OK);
	CHECK(jsontext_validate("[[[1]]]", 7, 2) == JSONTEXT_TOO_DEEP);
}

struct seen {
	int count;
	char names[4][16];
	char values[4][32];
};

static bool collect(const struct jsontext_member *m, void *arg)
{
	struct seen *s = arg;

	snprintf(s->names[s->count], sizeof(s->names[0]), "%.*s", (int)m->name_len, m->name);
	snprintf(s->values[s->count], sizeof(s->values[0]), "%.*s", (int)m->value_len, m->value);
	s->count++;
	return s->count < 4;
}

static void test_members(void)
{
	const char *text = " { \"value\" : {\"x\": [1, \"}\"]} , \"ttl\":1500,\"s\":\"a\\\"b\", \"n\" :-0.5e3 } ";
	const char *escaped = "{\"valu\\u0065\": 1}";
	struct seen s = { 0 };
	struct jsontext_member m;

	CHECK(jsontext_members(text, strlen(text), collect, &s));
	CHECK(s.count == 4);
	CHECK(strcmp(s.names[0], "value") == 0 && strcmp(s.values[0], "{\"x\": [1, \"}\"]}") == 0);
	CHECK(strcmp(s.names[1], "ttl") == 0 && strcmp(s.values[1], "1500") == 0);
	CHECK(strcmp(s.values[2], "\"a\\\"b\"") == 0);
	CHECK(strcmp(s.values[3], "-0.5e3") == 0);

	CHECK(!jsontext_members("[1]", 3, collect, &s));
	s.count = 0;
	CHECK(jsontext_members("{}", 2, collect, &s) && s.count == 0);

	m.name = escaped + 2;
	m.name_len = 10;
	CHECK(jsontext_name_is(&m, "value"));
	CHECK(!jsontext_name_is(&m, "ttl"));
	CHECK(jsontext_is_null("null", 4));
	CHECK(!jsontext_is_null("nul", 3));
}

static bool count_elements(const char *value, size_t len, void *arg)
{
	size_t *n = arg;

	(void)value;
	(void)len;
	++*n;
	return true;
}

static void test_elements_and_fields(void)
{
	const char *list = " [ {\"a\": [1, 2]}, \"]\", 3 ] ";
	const char *obj = "{\"key\": \"a.b\", \"v\\u0061lue\": [1]}";
	struct jsontext_field f[2] = { { "key" }, { "value" } };
	size_t n = 0;

	CHECK(jsontext_elements(list, strlen(list), count_elements, &n) && n == 3);
	n = 0;
	CHECK(jsontext_elements("[]", 2, count_elements, &n) && n == 0);
	CHECK(!jsontext_elements("{}", 2, count_elements, &n));

	CHECK(jsontext_fields(obj, strlen(obj), f, 2) == JSONTEXT_FIELDS_OK);
	CHECK(f[0].value_len == 5 && memcmp(f[0].value, "\"a.b\"", 5) == 0);
	CHECK(f[1].value_len == 3 && memcmp(f[1].value, "[1]", 3) == 0);
	CHECK(jsontext_fields(obj, strlen(obj), f, 1) == JSONTEXT_FIELDS_UNKNOWN);
	CHECK(jsontext_fields("{\"key\":1,\"key\":2}", 17, f, 2) == JSONTEXT_FIELDS_TWICE);
	CHECK(jsontext_fields("[1]", 3, f, 2) == JSONTEXT_FIELDS_NOT_OBJECT);
	CHECK(jsontext_fields("{}", 2, f, 2) == JSONTEXT_FIELDS_OK && f[0].value == NULL);
}

static void test_string(void)
{
	size_t len = 99;
	char *s;

	s = jsontext_string("\"plain\"", 7, &len);
	CHECK(s != NULL && len == 5 && strcmp(s, "plain") == 0);
	free(s);
	s = jsontext_string("\"\\u00e9\\n\\u0000x\"", 17, &len);
	CHECK(s != NULL && len == 5 && memcmp(s, "\xc3\xa9\n\0x", 5) == 0);
	free(s);
	CHECK(jsontext_string("12", 2, &len) == NULL);
	CHECK(jsontext_string("null", 4, &len) == NULL);
}

static void test_integer(void)
{
	int64_t v = 1;

	CHECK(jsontext_integer(" 42 ", 4, &v) == JSONTEXT_INTEGER && v == 42);
	CHECK(jsontext_integer("-0", 2, &v) == JSONTEXT_INTEGER && v == 0);
	CHECK(jsontext_integer("9223372036854775807", 19, &v) == JSONTEXT_INTEGER && v == INT64_MAX);
	CHECK(jsontext_integer("-9223372036854775808", 20, &v) == JSONTEXT_INTEGER && v == INT64_MIN);
	CHECK(jsontext_integer("9223372036854775808", 19, &v) == JSONTEXT_OUT_OF_RANGE);
	CHECK(jsontext_integer("-9223372036854775809", 20, &v) == JSONTEXT_OUT_OF_RANGE);
	CHECK(jsontext_integer("1.0", 3, &v) == JSONTEXT_NOT_INTEGER);
	CHECK(jsontext_integer("1e3", 3, &v) == JSONTEXT_NOT_INTEGER);
	CHECK(jsontext_integer("\"1\"", 3, &v) == JSONTEXT_NOT_INTEGER);
	CHECK(jsontext_integer("-", 1, &v) == JSONTEXT_NOT_INTEGER);
	CHECK(jsontext_integer("", 0, &v) == JSONTEXT_NOT_INTEGER);
}

/* The string scan reads plain runs a word (8 bytes) at a time: each rule
 * must hold wherever the byte that matters falls in or across a word, and
 * near the end of the text. The text is copied to a buffer of its exact
 * size so that a sanitizer build catches a read past the end. */
static enum jsontext_status check_exact(const char *s, size_t len)
{
	char *copy = malloc(len > 0 ? len : 1);
	enum jsontext_status status;

	memcpy(copy, s, len);
	status = jsontext_validate(copy, len, 8);
	free(copy);
	return status;
}

static bool take_first(const struct jsontext_member *m, void *arg)
{
	*(struct jsontext_member *)arg = *m;
	return false;
}

static void test_word_boundaries(void)
{
	static const struct {
		const char *piece;
		bool ok;
	} pieces[] = {
		{ "\\\"", true }, { "\\\\", true }, { "\\/", true }, { "\\n", true },
		{ "\\u00e9", true }, { "\\ud83d\\ude00", true }, { "\xc3\xa9", true },
		{ "\xe2\x82\xac", true }, { "\xf0\x9f\x98\x80", true }, { "\x7f", true },
		{ " ", true }, { "~", true },
		{ "\\ud83d", false }, { "\\ude00", false }, { "\\ud83d\\u0041", false },
		{ "\\x", false }, { "\\u12g4", false }, { "\x1f", false }, { "\t", false },
		{ "\x80", false }, { "\xff", false }, { "\xc0\xaf", false },
		{ "\xed\xa0\x80", false }, { "\xf4\x90\x80\x80", false }, { "\xe2\x82", false },
	};
	const char *paired = "[\"abcdefg\\\\\\\\\"]";
	const char *unended[] = {
		"[\"abcdefg\\\\\\\"]", "\"abcdefghijklmnop", "\"abcdefghijklmno\\",
		"\"abcdefghijklmn\\u00",
	};
	char text[128], doc[160];

	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		for (int pre = 0; pre <= 17; pre++) {
			for (int post = 0; post <= 9; post += 9) {
				int n = snprintf(text, sizeof(text), "\"%.*s%s%.*s\"", pre,
						 "abcdefghijklmnopqrstuvwxyz", pieces[i].piece, post,
						 "ABCDEFGHIJ");
				int d = snprintf(doc, sizeof(doc), "{\"k\":%s,\"z\":0}", text);
				struct jsontext_member m = { 0 };
				bool ok = check_exact(text, (size_t)n) == JSONTEXT_OK;

				if (ok != pieces[i].ok)
					fprintf(stderr, "piece %zu after %d bytes: %s\n", i, pre,
						ok ? "accepted" : "rejected");
				CHECK(ok == pieces[i].ok);
				/* unterminated, and cut inside the piece */
				CHECK(check_exact(text, (size_t)n - 1) != JSONTEXT_OK);
				CHECK(check_exact(text, (size_t)(1 + pre + 1)) != JSONTEXT_OK);
				CHECK((check_exact(doc, (size_t)d) == JSONTEXT_OK) == pieces[i].ok);
				if (!pieces[i].ok)
					continue;
				/* the walk finds the string's whole span */
				CHECK(jsontext_members(doc, (size_t)d, take_first, &m));
				CHECK(m.value_len == (size_t)n && memcmp(m.value, text, (size_t)n) == 0);
			}
		}
	}
	/* a quote after escaped backslashes ends the string only when they
	 * pair up; the end of the text in a run, an escape or a \u escape */
	CHECK(check_exact(paired, strlen(paired)) == JSONTEXT_OK);
	for (size_t i = 0; i < sizeof(unended) / sizeof(unended[0]); i++)
		CHECK(check_exact(unended[i], strlen(unended[i])) != JSONTEXT_OK);
}

int main(void)
{
	test_accepts();
	test_rejects();
	test_depth();
	test_members();
	test_elements_and_fields();
	test_string();
	test_integer();
	test_word_boundaries();
	return UNIT_DONE();
}
