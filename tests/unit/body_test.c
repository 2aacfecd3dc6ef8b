/* body_test.c: the fields of a PUT body (src/body.c) */
#include "body.h"
#include "record.h"
#include "unit.h"

#define NOW_MS INT64_C(1764460000000)
#define MAX_VALUE 16

static bool parse(const char *body, struct store_put *put, struct error *err)
{
	memset(put, 0, sizeof(*put));
	err->status = 0;
	err->code = NULL;
	return body_parse_put(body, strlen(body), MAX_VALUE, NOW_MS, put, err);
}

static void check_refused(const char *body, int status, const char *code, const char *message)
{
	struct store_put put;
	struct error err;

	CHECK(!parse(body, &put, &err));
	CHECK(err.status == status && err.code != NULL && strcmp(err.code, code) == 0);
	CHECK(strcmp(err.message, message) == 0);
}

static void test_accepted(void)
{
	static const char body[] = "{\"ttl\": 500, \"value\": {\"a\": [1]}}";
	struct store_put put;
	struct error err;

	CHECK(parse(body, &put, &err));
	/* the value is the client's text, pointing into the body */
	CHECK(put.value == body + 22 && put.value_len == 10);
	CHECK(put.ttl_ms == 500);
	CHECK(parse("{\"value\":null,\"ttl\":null}", &put, &err) && put.ttl_ms == 0);
	CHECK(put.value_len == 4 && memcmp(put.value, "null", 4) == 0);
	/* a value of exactly the largest size */
	CHECK(parse("{\"value\":\"0123456789abcd\"}", &put, &err) && put.value_len == MAX_VALUE);
}

static void test_refused(void)
{
	char deep[300];
	size_t n = 0;

	check_refused("", 400, "invalid_json", "the body is not JSON, or nests deeper than 128");
	check_refused("{\"value\":", 400, "invalid_json",
		      "the body is not JSON, or nests deeper than 128");
	/* 128 levels in the value are allowed, 129 are not */
	n += (size_t)sprintf(deep, "{\"value\":");
	for (int i = 0; i < 129; i++)
		deep[n++] = '[';
	for (int i = 0; i < 129; i++)
		deep[n++] = ']';
	strcpy(deep + n, "}");
	check_refused(deep, 400, "invalid_json", "the body is not JSON, or nests deeper than 128");
	check_refused("[1]", 400, "invalid_body",
		      "the body must be a JSON object: {\"value\": ..., \"ttl\": ms}");
	check_refused("{\"value\":1,\"x\":2}", 400, "invalid_body",
		      "the body may hold only \"value\" and \"ttl\"");
	check_refused("{\"value\":1,\"value\":2}", 400, "invalid_body",
		      "a member appears twice in the body");
	check_refused("{\"ttl\":5}", 400, "invalid_body", "the body has no \"value\"");
	check_refused("{\"value\":1,\"ttl\":0}", 400, "invalid_ttl", RECORD_TTL_RULE);
	check_refused("{\"value\":1,\"ttl\":\"5\"}", 400, "invalid_ttl", RECORD_TTL_RULE);
	check_refused("{\"value\":\"0123456789abcde\"}", 413, "value_too_large",
		      "the value is larger than 16 bytes");
}

int main(void)
{
	test_accepted();
	test_refused();
	return UNIT_DONE();
}
