/* gate_test.c: what the gate lets through (src/gate.c): tokens, grants
 * for a key, a list and a commit, and maintenance mode */
#include "gate.h"
#include "unit.h"
#include "util.h"

/* SHA-256 of "secret-alice" and of "secret-none". */
#define HEX_ALICE "959601334de4ce5a7661ece94755bc23b257c096cd7d29bd2ecaf8a7333e0aff"
#define HEX_NONE "98765a24c92d39deae474f52b42485c47e48d6d2defbf7ea71b8b2f1c1f048d3"

/* The configuration owns its strings: these are writable as its are. */
static char users[] = "users", config[] = "config", users_alice[] = "users.alice";
static char name_alice[] = "alice", name_none[] = "none";
static char *alice_read[] = { users, config };
static char *alice_write[] = { users_alice };

/* alice reads users and config and writes users.alice; none has no
 * grant. */
static struct config_token tokens[] = {
	{ .name = name_alice, .has_hash = true, .read = alice_read, .n_read = 2,
	  .write = alice_write, .n_write = 1 },
	{ .name = name_none, .has_hash = true },
};

static struct config cfg = {
	.auth = true, .tokens = tokens, .n_tokens = sizeof(tokens) / sizeof(tokens[0]),
};

/* Runs the gate on a request for method, key (NULL for the root) and
 * list, sent with the Authorization header auth (or none); returns its
 * verdict, with err and headers as the gate left them. */
static bool pass_query(const char *auth, enum method method, const char *key,
		       const struct query *query, struct error *err, char *headers)
{
	char copy[64] = "";
	struct io io;
	struct request req = { .method = method, .key = copy, .query = *query };

	if (key != NULL)
		snprintf(copy, sizeof(copy), "%s", key);
	io_init(&io, NULL);
	io.param[IO_HTTP_AUTHORIZATION] = auth;
	io.param[IO_REMOTE_ADDR] = "127.0.0.1";
	req.io = &io;
	req.key_len = strlen(req.key);
	err->status = 0;
	err->code = NULL;
	return gate_pass(&req, &cfg, NULL, err, headers);
}

static bool pass(const char *auth, enum method method, const char *key, bool list,
		 struct error *err, char *headers)
{
	struct query query = { .list = list };

	return pass_query(auth, method, key, &query, err, headers);
}

/* The gate refused with status, code and exactly message. */
static bool refused(bool ok, const struct error *err, int status, const char *code,
		    const char *message)
{
	return !ok && err->status == status && err->code != NULL && strcmp(err->code, code) == 0 &&
	       strcmp(err->message, message) == 0;
}

static void test_tokens(void)
{
	struct error err;
	char headers[GATE_HEADERS_MAX];
	bool ok;

	ok = pass(NULL, METHOD_GET, "users.bob", false, &err, headers);
	CHECK(refused(ok, &err, 401, "unauthorized", "this service needs a bearer token"));
	CHECK(strcmp(headers, "WWW-Authenticate: Bearer realm=\"kv\"\r\n") == 0);
	ok = pass("Bearer secret-alicf", METHOD_GET, "users.bob", false, &err, headers);
	CHECK(refused(ok, &err, 401, "unauthorized", "the bearer token is not valid"));
	ok = pass("Bearer secret-alice", METHOD_GET, "users.bob", false, &err, headers);
	CHECK(ok && headers[0] == '\0');

	/* Without auth every request is anyone's. */
	cfg.auth = false;
	CHECK(pass(NULL, METHOD_PUT, "anything", false, &err, headers));
	CHECK(pass(NULL, METHOD_POST, NULL, false, &err, headers));
	cfg.auth = true;
}

static void test_key_grants(void)
{
	const char *alice = "Bearer secret-alice";
	struct error err;
	char headers[GATE_HEADERS_MAX];
	bool ok;

	CHECK(pass(alice, METHOD_GET, "config", false, &err, headers));
	CHECK(pass(alice, METHOD_GET, "users.alice.x", false, &err, headers));
	ok = pass(alice, METHOD_GET, "usersx", false, &err, headers);
	CHECK(refused(ok, &err, 403, "forbidden", "this token may not read usersx"));
	CHECK(pass(alice, METHOD_PUT, "users.alice", false, &err, headers));
	CHECK(pass(alice, METHOD_DELETE, "users.alice.x", false, &err, headers));
	ok = pass(alice, METHOD_PUT, "users.bob", false, &err, headers);
	CHECK(refused(ok, &err, 403, "forbidden", "this token may not write users.bob"));
	ok = pass(alice, METHOD_DELETE, "config", false, &err, headers);
	CHECK(refused(ok, &err, 403, "forbidden", "this token may not write config"));

	/* The root's health check names no key; listing it lists every key. */
	CHECK(pass(alice, METHOD_GET, NULL, false, &err, headers));
	CHECK(pass(alice, METHOD_GET, "users", true, &err, headers));
	ok = pass(alice, METHOD_GET, NULL, true, &err, headers);
	CHECK(refused(ok, &err, 403, "forbidden", "this token may not list every key"));
	ok = pass(alice, METHOD_GET, "other", true, &err, headers);
	CHECK(refused(ok, &err, 403, "forbidden", "this token may not list other"));

	/* Other methods and a POST to a key are the router's 405. */
	CHECK(pass(alice, METHOD_OTHER, "other", false, &err, headers));
	CHECK(pass(alice, METHOD_POST, "other", false, &err, headers));
}

/* A commit needs some grant before its body is read. */
static void test_commit_needs_a_grant(void)
{
	struct error err;
	char headers[GATE_HEADERS_MAX];
	bool ok;

	CHECK(pass("Bearer secret-alice", METHOD_POST, NULL, false, &err, headers));
	ok = pass("Bearer secret-none", METHOD_POST, NULL, false, &err, headers);
	CHECK(refused(ok, &err, 403, "forbidden", "this token has no grant, and a commit needs one"));
	/* the same token may still ask for the health check */
	CHECK(pass("Bearer secret-none", METHOD_GET, NULL, false, &err, headers));
}

static void test_read_only(void)
{
	struct error err;
	char headers[GATE_HEADERS_MAX];
	bool ok;

	cfg.read_only = true;
	ok = pass("Bearer secret-alice", METHOD_PUT, "users.alice", false, &err, headers);
	CHECK(refused(ok, &err, 503, "unavailable",
		      "the service is read-only for maintenance; try again later"));
	CHECK(strcmp(headers, "Retry-After: 60\r\n") == 0);
	ok = pass("Bearer secret-alice", METHOD_POST, NULL, false, &err, headers);
	CHECK(!ok && err.status == 503);
	CHECK(pass("Bearer secret-alice", METHOD_GET, "users.x", false, &err, headers));
	/* maintenance comes before grants, and after the token */
	ok = pass("Bearer secret-alice", METHOD_PUT, "config", false, &err, headers);
	CHECK(!ok && err.status == 503);
	ok = pass(NULL, METHOD_PUT, "users.alice", false, &err, headers);
	CHECK(!ok && err.status == 401);
	cfg.read_only = false;
}

/* gate_commit() on the checks and mutations a commit parser produced. */
static void test_commit_keys(void)
{
	struct auth_client alice = { .token = &tokens[0] };
	struct auth_client none = { .token = &tokens[1] };
	struct auth_client anyone = { .anyone = true };
	struct store_check checks[] = {
		{ .key = "config.x", .key_len = 8 }, { .key = "users.alice", .key_len = 11 },
	};
	struct store_mutation writes[] = {
		{ .op = STORE_SET, .key = "users.alice.a", .key_len = 13 },
		{ .op = STORE_DELETE, .key = "users.bob", .key_len = 9 },
	};
	struct store_commit op = { 0 };
	struct error err;

	/* an empty commit: any grant will do, none will not */
	CHECK(gate_commit(&alice, &op, &err));
	CHECK(refused(gate_commit(&none, &op, &err), &err, 403, "forbidden",
		      "this token has no grant, and a commit needs one"));
	CHECK(gate_commit(&anyone, &op, &err));

	/* check-only: a check reads */
	op.checks = checks;
	op.n_checks = 2;
	CHECK(gate_commit(&alice, &op, &err));
	checks[1].key = "other";
	checks[1].key_len = 5;
	CHECK(refused(gate_commit(&alice, &op, &err), &err, 403, "forbidden",
		      "this token may not read other; nothing was written"));
	checks[1].key = "users.alice";
	checks[1].key_len = 11;

	/* mutations write: a read grant is not enough */
	op.mutations = writes;
	op.n_mutations = 1;
	CHECK(gate_commit(&alice, &op, &err));
	op.n_mutations = 2;
	CHECK(refused(gate_commit(&alice, &op, &err), &err, 403, "forbidden",
		      "this token may not write users.bob; nothing was written"));
	writes[1].key = "config.x";
	writes[1].key_len = 8;
	CHECK(refused(gate_commit(&alice, &op, &err), &err, 403, "forbidden",
		      "this token may not write config.x; nothing was written"));
	CHECK(gate_commit(&anyone, &op, &err));
}

/* A read of many keys: some grant before its body is read, a read grant
 * on each key after, and no refusal in maintenance mode. */
static void test_read_many(void)
{
	struct auth_client alice = { .token = &tokens[0] };
	struct auth_client none = { .token = &tokens[1] };
	struct store_read_key keys[] = {
		{ .key = "config.x", .key_len = 8 }, { .key = "users.alice.a", .key_len = 13 },
	};
	struct store_read_many read = { .keys = keys, .n_keys = 0 };
	struct query query = { .read = true };
	struct error err;
	char headers[GATE_HEADERS_MAX];
	bool ok;

	CHECK(pass_query("Bearer secret-alice", METHOD_POST, NULL, &query, &err, headers));
	ok = pass_query("Bearer secret-none", METHOD_POST, NULL, &query, &err, headers);
	CHECK(refused(ok, &err, 403, "forbidden",
		      "this token has no grant, and a read of many keys needs one"));
	cfg.read_only = true;
	CHECK(pass_query("Bearer secret-alice", METHOD_POST, NULL, &query, &err, headers));
	query.load = true;	/* a load, which writes */
	ok = pass_query("Bearer secret-alice", METHOD_POST, NULL, &query, &err, headers);
	CHECK(!ok && err.status == 503);
	cfg.read_only = false;

	CHECK(gate_read_many(&alice, &read, &err));
	CHECK(refused(gate_read_many(&none, &read, &err), &err, 403, "forbidden",
		      "this token has no grant, and a read of many keys needs one"));
	read.n_keys = 2;
	CHECK(gate_read_many(&alice, &read, &err));
	keys[1].key = "other";
	keys[1].key_len = 5;
	CHECK(refused(gate_read_many(&alice, &read, &err), &err, 403, "forbidden",
		      "this token may not read other; nothing was read"));
}

int main(void)
{
	CHECK(util_hex_decode(HEX_ALICE, 64, tokens[0].hash));
	CHECK(util_hex_decode(HEX_NONE, 64, tokens[1].hash));
	test_tokens();
	test_key_grants();
	test_commit_needs_a_grant();
	test_read_only();
	test_commit_keys();
	test_read_many();
	return UNIT_DONE();
}
