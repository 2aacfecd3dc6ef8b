/* query_test.c: a request's query string and a list's cursor
 * (src/request.c) */
#include "request.h"
#include "unit.h"

static bool parse(const char *qs, struct query *q, struct error *err)
{
	memset(q, 0, sizeof(*q));
	err->status = 0;
	err->code = NULL;
	return request_parse_query(qs, q, err);
}

static void check_refused(const char *qs, const char *message)
{
	struct query q;
	struct error err;

	CHECK(!parse(qs, &q, &err));
	CHECK(err.status == 400 && err.code != NULL && strcmp(err.code, "invalid_query") == 0);
	CHECK(strcmp(err.message, message) == 0);
	free(q.cursor);
}

static void test_defaults(void)
{
	struct query q;
	struct error err;

	CHECK(parse(NULL, &q, &err));
	CHECK(!q.list && !q.reverse && q.values && q.limit == 1000 && q.cursor == NULL);
	CHECK(parse("", &q, &err) && q.limit == 1000 && q.values);
	/* unknown parameters and empty components are ignored */
	CHECK(parse("x=1&&=2&y", &q, &err) && !q.list && q.limit == 1000);
}

static void test_values(void)
{
	struct query q;
	struct error err;

	CHECK(parse("list=true&reverse=1&values=false&limit=25", &q, &err));
	CHECK(q.list && q.reverse && !q.values && q.limit == 25);
	CHECK(parse("list=0&list=1", &q, &err) && q.list);	/* the last one wins */
	CHECK(parse("limit=1", &q, &err) && q.limit == 1);
	CHECK(parse("limit=1000", &q, &err) && q.limit == 1000);
	/* names and values are percent-decoded, '+' being a space */
	CHECK(parse("%6cist=%74rue", &q, &err) && q.list);
	CHECK(parse("cursor=%41b+c", &q, &err) && q.cursor != NULL &&
	      strcmp(q.cursor, "Ab c") == 0);
	free(q.cursor);
	/* an encoded '+' is a '+', not a space */
	CHECK(parse("cursor=a%2Bb+c", &q, &err) && q.cursor != NULL &&
	      strcmp(q.cursor, "a+b c") == 0);
	free(q.cursor);
	CHECK(parse("cursor=a&cursor=b", &q, &err) && strcmp(q.cursor, "b") == 0);
	free(q.cursor);
}

static void test_refused(void)
{
	check_refused("list", "list must be true, false, 1 or 0");
	check_refused("list=yes", "list must be true, false, 1 or 0");
	check_refused("reverse=TRUE", "reverse must be true, false, 1 or 0");
	check_refused("values=2", "values must be true, false, 1 or 0");
	check_refused("limit=0", "limit must be an integer from 1 to 1000");
	check_refused("limit=1001", "limit must be an integer from 1 to 1000");
	check_refused("limit=-1", "limit must be an integer from 1 to 1000");
	check_refused("limit=1x", "limit must be an integer from 1 to 1000");
	check_refused("limit=", "limit must be an integer from 1 to 1000");
	check_refused("list=%zz", "bad percent-encoding in the query string");
	check_refused("%4", "bad percent-encoding in the query string");
	check_refused("cursor=a%00b", "bad percent-encoding in the query string");
	/* the first bad parameter is the one named */
	check_refused("limit=5&list=no&values=no", "list must be true, false, 1 or 0");
}

static void test_cursor(void)
{
	struct error err;
	char *after;
	size_t len;

	CHECK(request_parse_cursor(NULL, "", 0, &after, &len, &err) && after == NULL);
	/* "users.x" under "users", and under the root */
	CHECK(request_parse_cursor("75736572732e78", "users", 5, &after, &len, &err));
	CHECK(after != NULL && len == 7 && strcmp(after, "users.x") == 0);
	free(after);
	CHECK(request_parse_cursor("75736572732e78", "", 0, &after, &len, &err) && len == 7);
	free(after);

	/* not under the prefix, the prefix itself, bad hex, bad keys */
	static const char *const bad[] = {
		"6f746865722e78",	/* other.x */
		"7573657273",		/* users */
		"757365727378",		/* usersx */
		"75736572732e",		/* users. */
		"7g", "7", "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.status = 0;
		CHECK(!request_parse_cursor(bad[i], "users", 5, &after, &len, &err) && after == NULL);
		CHECK(err.status == 400 && strcmp(err.code, "invalid_query") == 0 &&
		      strcmp(err.message, "the cursor is not one this listing gave out") == 0);
	}
}

/* depth (1 only), recurse and read (booleans) */
static void test_subtree(void)
{
	struct query q;
	struct error err;

	CHECK(parse(NULL, &q, &err) && q.depth == 0 && !q.recurse && !q.read);
	CHECK(parse("list=true&depth=1", &q, &err) && q.list && q.depth == 1 && q.others);
	CHECK(parse("recurse=true", &q, &err) && q.recurse && q.others);
	CHECK(parse("recurse=1&recurse=0", &q, &err) && !q.recurse);
	CHECK(parse("read=1", &q, &err) && q.read && !q.load);
	check_refused("depth=2", "depth must be 1");
	check_refused("depth=0", "depth must be 1");
	check_refused("depth=01", "depth must be 1");
	check_refused("depth", "depth must be 1");
	check_refused("recurse=yes", "recurse must be true, false, 1 or 0");
	check_refused("read=", "read must be true, false, 1 or 0");
}

int main(void)
{
	test_defaults();
	test_values();
	test_refused();
	test_cursor();
	test_subtree();
	return UNIT_DONE();
}
