/* dumpline_test.c: the lines of a dump, written and parsed (src/dumpline.c),
 * and a backup's body split into them (src/backup.c) */
#include <string.h>

#include "backup.h"
#include "dumpline.h"
#include "unit.h"

#define VS1 "\"00000000000000000001\""

/* What dumpline_parse says of line, NULL when it takes it. */
static const char *problem_of(const char *line, size_t max_value)
{
	struct dumpline d;
	const char *problem = dumpline_parse(line, strlen(line), max_value, &d);

	dumpline_free(&d);
	return problem;
}

static void test_parse(void)
{
	const char *line = "{\"key\":\"users.j\\u00f6rg\",\"value\": {\"a\": [1, 2]} ,"
			   "\"expiresAt\":1764460000000,\"versionstamp\":\"0000000000000000002a\"}";
	struct dumpline d;

	CHECK(dumpline_parse(line, strlen(line), 100, &d) == NULL);
	CHECK(d.rec.key_len == strlen("users.jörg") && memcmp(d.rec.key, "users.jörg", d.rec.key_len) == 0);
	CHECK(d.rec.value_len == strlen("{\"a\": [1, 2]}") &&
	      memcmp(d.rec.value, "{\"a\": [1, 2]}", d.rec.value_len) == 0);
	CHECK(d.rec.expires_at == INT64_C(1764460000000));
	CHECK(d.rec.versionstamp == 42);
	dumpline_free(&d);
	/* expiresAt null or absent: none */
	line = "{\"key\":\"k\",\"value\":null,\"versionstamp\":" VS1 "}";
	CHECK(dumpline_parse(line, strlen(line), 100, &d) == NULL && d.rec.expires_at == 0);
	dumpline_free(&d);
	/* valueText wins over value */
	line = "{\"key\":\"k\",\"value\":[1, 2],\"valueText\":\"[1,\\n2]\",\"versionstamp\":" VS1 "}";
	CHECK(dumpline_parse(line, strlen(line), 100, &d) == NULL);
	CHECK(d.rec.value_len == 6 && memcmp(d.rec.value, "[1,\n2]", 6) == 0);
	dumpline_free(&d);
}

static void test_bad_lines(void)
{
	CHECK(problem_of("", 100) != NULL);
	CHECK(problem_of("[1]", 100) != NULL);
	CHECK(problem_of("{\"key\":\"k\",\"value\":1}", 100) != NULL);
	CHECK(problem_of("{\"key\":\"k\",\"value\":1,\"versionstamp\":" VS1 ",\"x\":1}", 100) != NULL);
	CHECK(problem_of("{\"key\":\"k\",\"key\":\"k\",\"value\":1,\"versionstamp\":" VS1 "}", 100) != NULL);
	CHECK(problem_of("{\"key\":\"a..b\",\"value\":1,\"versionstamp\":" VS1 "}", 100) != NULL);
	CHECK(problem_of("{\"key\":7,\"value\":1,\"versionstamp\":" VS1 "}", 100) != NULL);
	CHECK(problem_of("{\"key\":\"k\",\"value\":1,\"versionstamp\":\"1\"}", 100) != NULL);
	CHECK(problem_of("{\"key\":\"k\",\"value\":1,\"versionstamp\":\"0000000000000000000G\"}", 100) != NULL);
	CHECK(problem_of("{\"key\":\"k\",\"value\":1,\"expiresAt\":0,\"versionstamp\":" VS1 "}", 100) != NULL);
	CHECK(problem_of("{\"key\":\"k\",\"value\":1,\"expiresAt\":1.5,\"versionstamp\":" VS1 "}", 100) != NULL);
	CHECK(problem_of("{\"key\":\"k\",\"value\":1,\"expiresAt\":9007199254740992,\"versionstamp\":" VS1 "}", 100) != NULL);
	CHECK(problem_of("{\"key\":\"k\",\"value\":1,\"valueText\":\"[\",\"versionstamp\":" VS1 "}", 100) != NULL);
	/* max_value bounds the value's text */
	CHECK(problem_of("{\"key\":\"k\",\"value\":\"12345678\",\"versionstamp\":" VS1 "}", 10) == NULL);
	CHECK(problem_of("{\"key\":\"k\",\"value\":\"123456789\",\"versionstamp\":" VS1 "}", 10) != NULL);
}

/* A written line parses back into the record it came from. */
static void test_round_trip(void)
{
	struct store_admin_record rec = {
		.key = "a.b", .key_len = 3, .value = "{\"x\":\r\n 1}", .value_len = 10,
		.expires_at = 5, .versionstamp = 0xabcdef,
	};
	struct jsonbuf b;
	struct dumpline d;

	jsonbuf_init(&b, 16);
	dumpline_write(&b, &rec);
	CHECK(!b.failed && b.data[b.len - 1] == '\n' && memchr(b.data, '\n', b.len - 1) == NULL);
	CHECK(dumpline_parse(b.data, b.len - 1, 100, &d) == NULL);
	CHECK(d.rec.key_len == 3 && memcmp(d.rec.key, "a.b", 3) == 0);
	CHECK(d.rec.value_len == 10 && memcmp(d.rec.value, rec.value, 10) == 0);
	CHECK(d.rec.expires_at == 5 && d.rec.versionstamp == 0xabcdef);
	dumpline_free(&d);
	jsonbuf_free(&b);
}

/* A body: lines split at \n, \r\n and blank lines ignored, the first bad
 * line named by its number. */
static void test_body(void)
{
	const char *good = "{\"key\":\"a\",\"value\":1,\"versionstamp\":" VS1 "}\r\n\n"
			   "{\"key\":\"b\",\"value\":2,\"versionstamp\":" VS1 "}";
	const char *bad = "{\"key\":\"a\",\"value\":1,\"versionstamp\":" VS1 "}\n\n{}\n";
	struct backup_lines lines;
	struct error err;

	CHECK(backup_parse(good, strlen(good), 100, &lines, &err));
	CHECK(lines.n == 2 && lines.lines[1].rec.key[0] == 'b');
	backup_lines_free(&lines);
	CHECK(backup_parse("", 0, 100, &lines, &err) && lines.n == 0);
	backup_lines_free(&lines);
	CHECK(!backup_parse(bad, strlen(bad), 100, &lines, &err));
	CHECK(err.status == 400 && strcmp(err.code, "invalid_body") == 0);
	CHECK(strncmp(err.message, "line 3: ", 8) == 0);
	backup_lines_free(&lines);
}

int main(void)
{
	test_parse();
	test_bad_lines();
	test_round_trip();
	test_body();
	return UNIT_DONE();
}
