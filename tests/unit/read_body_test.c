/* read_body_test.c: the body of a read of many keys (src/read_body.c),
 * and what it refuses */
#include "read_body.h"
#include "unit.h"

static bool parse(struct read_body *rb, const char *body, struct error *err)
{
	err->status = 0;
	err->code = NULL;
	err->message[0] = '\0';
	return read_body_parse(rb, body, strlen(body), err);
}

/* body is refused with status, code and exactly message. */
static void check_refused(const char *body, int status, const char *code, const char *message)
{
	struct read_body rb;
	struct error err;

	CHECK(!parse(&rb, body, &err));
	CHECK(err.status == status);
	CHECK(err.code != NULL && strcmp(err.code, code) == 0);
	CHECK(strcmp(err.message, message) == 0);
	if (strcmp(err.message, message) != 0)
		fprintf(stderr, "  %s\n  gave: %s\n", body, err.message);
	read_body_free(&rb);
}

static void test_accepted(void)
{
	struct read_body rb;
	struct error err;
	const struct store_read_many *r = &rb.read;

	CHECK(parse(&rb, " {\"keys\": [\"a.b\", \"caf\\u00e9\", \"a.b\"]} ", &err));
	CHECK(r->n_keys == 3);
	CHECK(r->keys[0].key_len == 3 && strcmp(r->keys[0].key, "a.b") == 0);
	/* keys are decoded from their JSON strings */
	CHECK(r->keys[1].key_len == 5 && strcmp(r->keys[1].key, "caf\xc3\xa9") == 0);
	/* a key named twice is kept twice */
	CHECK(strcmp(r->keys[2].key, "a.b") == 0);
	CHECK(!r->keys[0].found && r->keys[0].item.buf == NULL);
	read_body_free(&rb);

	CHECK(parse(&rb, "{\"keys\":[]}", &err) && rb.read.n_keys == 0);
	read_body_free(&rb);
}

static void test_bound(void)
{
	char body[2048] = "{\"keys\":[";
	struct read_body rb;
	struct error err;

	for (int i = 0; i < READ_KEYS_MAX; i++)
		snprintf(body + strlen(body), sizeof(body) - strlen(body), "%s\"k%d\"",
			 i > 0 ? "," : "", i);
	strcat(body, "]}");
	CHECK(parse(&rb, body, &err) && rb.read.n_keys == READ_KEYS_MAX);
	CHECK(strcmp(rb.read.keys[READ_KEYS_MAX - 1].key, "k99") == 0);
	read_body_free(&rb);
	body[strlen(body) - 2] = '\0';
	strcat(body, ",\"k100\"]}");
	check_refused(body, 400, "too_many_operations", "a read names at most 100 keys");
}

static void test_refused(void)
{
	check_refused("", 400, "invalid_json", "the body is not JSON, or nests too deep");
	check_refused("{\"keys\":[\"a\",]}", 400, "invalid_json",
		      "the body is not JSON, or nests too deep");
	check_refused("[\"a\"]", 400, "invalid_body",
		      "the body must be an object with one member, \"keys\": [...]");
	check_refused("{\"keys\":[\"a\"],\"x\":1}", 400, "invalid_body",
		      "the body must be an object with one member, \"keys\": [...]");
	check_refused("{\"keys\":[],\"keys\":[]}", 400, "invalid_body",
		      "the body must be an object with one member, \"keys\": [...]");
	check_refused("{}", 400, "invalid_body", "\"keys\" is required");
	check_refused("{\"keys\":null}", 400, "invalid_body", "\"keys\" must be an array");
	check_refused("{\"keys\":{\"a\":1}}", 400, "invalid_body", "\"keys\" must be an array");
	check_refused("{\"keys\":[\"a\",1]}", 400, "invalid_body", "keys[1]: each key must be a string");
	check_refused("{\"keys\":[[\"a\"]]}", 400, "invalid_body", "keys[0]: each key must be a string");
	check_refused("{\"keys\":[\"a\",\"b\",\"a..b\"]}", 400, "invalid_key",
		      "keys[2]: not a valid keypath");
	check_refused("{\"keys\":[\"\"]}", 400, "invalid_key", "keys[0]: not a valid keypath");
	check_refused("{\"keys\":[\"a/b\"]}", 400, "invalid_key", "keys[0]: not a valid keypath");
	check_refused("{\"keys\":[\"a\\u0000b\"]}", 400, "invalid_key", "keys[0]: not a valid keypath");
}

int main(void)
{
	test_accepted();
	test_bound();
	test_refused();
	return UNIT_DONE();
}
