/* commit_test.c: the body of an atomic commit read into the store's terms
 * (src/commit.c), and what it refuses */
#include "commit.h"
#include "record.h"
#include "unit.h"

#define NOW_MS INT64_C(1764460000000)
#define MAX_VALUE 16
#define VALUE_DEPTH 4

static bool parse(struct commit *c, const char *body, struct error *err)
{
	err->status = 0;
	err->code = NULL;
	err->message[0] = '\0';
	return commit_parse(c, body, strlen(body), MAX_VALUE, VALUE_DEPTH, NOW_MS, err);
}

/* body is refused with status, code and exactly message. */
static void check_refused(const char *body, int status, const char *code, const char *message)
{
	struct commit c;
	struct error err;
	bool ok = parse(&c, body, &err);

	CHECK(!ok);
	CHECK(err.status == status);
	CHECK(err.code != NULL && strcmp(err.code, code) == 0);
	CHECK(strcmp(err.message, message) == 0);
	if (strcmp(err.message, message) != 0)
		fprintf(stderr, "  %s\n  gave: %s\n", body, err.message);
	commit_free(&c);
}

static void test_accepted(void)
{
	static const char body[] =
		"{\"checks\": [{\"key\": \"a.b\", \"versionstamp\": null},"
		"             {\"key\": \"c\", \"versionstamp\": \"0000000000000000002a\"}],"
		" \"mutations\": [{\"type\": \"set\", \"key\": \"a.b\", \"value\": [1, \"x\"], \"ttl\": 1000},"
		"               {\"type\": \"delete\", \"key\": \"c\"},"
		"               {\"type\": \"sum\", \"key\": \"n\", \"value\": -5},"
		"               {\"type\": \"max\", \"key\": \"caf\\u00e9\", \"value\": 9}]}";
	struct commit c;
	struct error err;
	const struct store_commit *op = &c.op;

	CHECK(parse(&c, body, &err));
	CHECK(op->n_checks == 2 && op->n_mutations == 4);
	CHECK(op->checks[0].absent && strcmp(op->checks[0].key, "a.b") == 0);
	CHECK(!op->checks[1].absent && op->checks[1].versionstamp == 42);
	CHECK(op->mutations[0].op == STORE_SET && op->mutations[0].ttl_ms == 1000);
	CHECK(op->mutations[0].value_len == 8 && memcmp(op->mutations[0].value, "[1, \"x\"]", 8) == 0);
	CHECK(op->mutations[1].op == STORE_DELETE && strcmp(op->mutations[1].key, "c") == 0);
	CHECK(op->mutations[2].op == STORE_SUM && op->mutations[2].operand == -5);
	CHECK(op->mutations[3].op == STORE_MAX && op->mutations[3].operand == 9);
	/* keys are decoded from their JSON strings */
	CHECK(op->mutations[3].key_len == 5 && strcmp(op->mutations[3].key, "caf\xc3\xa9") == 0);
	commit_free(&c);

	/* an empty commit, and one with empty lists */
	CHECK(parse(&c, "{}", &err) && c.op.n_checks == 0 && c.op.n_mutations == 0);
	commit_free(&c);
	CHECK(parse(&c, "{\"checks\":[],\"mutations\":[]}", &err) && c.op.n_mutations == 0);
	commit_free(&c);
}

static void test_body_refused(void)
{
	check_refused("{", 400, "invalid_json", "the body is not JSON, or nests too deep");
	check_refused("{\"mutations\":[{\"type\":\"set\",\"key\":\"a\",\"value\":[[[[[1]]]]]}]}",
		      400, "invalid_json", "the body is not JSON, or nests too deep");
	check_refused("[]", 400, "invalid_body",
		      "the body must be an object: {\"checks\": [...], \"mutations\": [...]}");
	check_refused("{\"other\":[]}", 400, "invalid_body",
		      "the body may hold \"checks\" and \"mutations\", each once");
	check_refused("{\"checks\":[],\"checks\":[]}", 400, "invalid_body",
		      "the body may hold \"checks\" and \"mutations\", each once");
	check_refused("{\"checks\":{}}", 400, "invalid_body",
		      "\"checks\" and \"mutations\" must be arrays");
}

static void test_too_many(void)
{
	char body[16 * (COMMIT_CHECKS_MAX + 2) + 32];
	size_t n = 0;

	n += (size_t)sprintf(body + n, "{\"checks\":[");
	for (int i = 0; i <= COMMIT_CHECKS_MAX; i++)
		n += (size_t)sprintf(body + n, "%s{}", i > 0 ? "," : "");
	sprintf(body + n, "]}");
	check_refused(body, 400, "too_many_operations",
		      "a commit has at most 100 checks and 1000 mutations");
}

static void test_entry_refused(void)
{
	check_refused("{\"checks\":[1]}", 400, "invalid_body",
		      "checks[0]: each entry must be a JSON object");
	check_refused("{\"checks\":[{\"key\":\"a\",\"versionstamp\":null,\"x\":1}]}", 400,
		      "invalid_body", "checks[0]: a member this entry cannot have");
	check_refused("{\"checks\":[{\"versionstamp\":null}]}", 400, "invalid_body",
		      "checks[0]: \"key\" is required");
	check_refused("{\"checks\":[{\"key\":\"a\",\"versionstamp\":null},{\"key\":\"a..b\","
		      "\"versionstamp\":null}]}", 400, "invalid_key", "checks[1]: not a valid keypath");
	check_refused("{\"checks\":[{\"key\":\"a\"}]}", 400, "invalid_body",
		      "checks[0]: \"versionstamp\" is required (null for an absent key)");
	check_refused("{\"checks\":[{\"key\":\"a\",\"versionstamp\":\"0000000000000000002A\"}]}", 400,
		      "invalid_body", "checks[0]: \"versionstamp\" must be null or 20 lowercase hex digits");
	check_refused("{\"mutations\":[{\"type\":\"put\",\"key\":\"a\"}]}", 400, "invalid_body",
		      "mutations[0]: \"type\" must be one of \"set\", \"delete\", \"sum\", \"min\", \"max\"");
	check_refused("{\"mutations\":[{\"type\":\"set\",\"key\":7,\"value\":1}]}", 400, "invalid_body",
		      "mutations[0]: \"key\" must be a string");
	check_refused("{\"mutations\":[{\"type\":\"set\",\"key\":\"a\"}]}", 400, "invalid_body",
		      "mutations[0]: \"value\" is required");
	check_refused("{\"mutations\":[{\"type\":\"delete\",\"key\":\"a\",\"value\":1}]}", 400,
		      "invalid_body", "mutations[0]: a delete takes no \"value\"");
	check_refused("{\"mutations\":[{\"type\":\"delete\",\"key\":\"a\",\"ttl\":5}]}", 400,
		      "invalid_body", "mutations[0]: a delete takes no \"ttl\"");
	check_refused("{\"mutations\":[{\"type\":\"set\",\"key\":\"a\",\"value\":\"0123456789abcdef\"}]}",
		      413, "value_too_large", "mutations[0]: the value is larger than 16 bytes");
	check_refused("{\"mutations\":[{\"type\":\"sum\",\"key\":\"a\",\"value\":1.5}]}", 400,
		      "invalid_body", "mutations[0]: the value of sum, min and max must be an integer "
		      "within the signed 64-bit range");
	check_refused("{\"mutations\":[{\"type\":\"min\",\"key\":\"a\",\"value\":9223372036854775808}]}",
		      400, "invalid_body", "mutations[0]: the value of sum, min and max must be an integer "
		      "within the signed 64-bit range");
	check_refused("{\"mutations\":[{\"type\":\"set\",\"key\":\"a\",\"value\":1,\"ttl\":0}]}", 400,
		      "invalid_ttl", "mutations[0]: " RECORD_TTL_RULE);
}

int main(void)
{
	test_accepted();
	test_body_refused();
	test_too_many();
	test_entry_refused();
	return UNIT_DONE();
}
