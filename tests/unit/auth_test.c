/* auth_test.c: token configuration, bearer tokens, grants and the bucket arithmetic */
#include <stdint.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"
#include "ratelimit.h"
#include "unit.h"

/* SHA-256 of "secret-alice" (printf %s secret-alice | sha256sum). */
#define HASH_ALICE "sha256:959601334de4ce5a7661ece94755bc23b257c096cd7d29bd2ecaf8a7333e0aff"

/* Writes text to a temporary file and loads it; returns config_load's verdict. */
static bool load(struct config *cfg, const char *text, char *err, size_t errlen)
{
	char path[] = "/tmp/kv-auth-test.XXXXXX";
	int fd = mkstemp(path);
	struct error e;
	bool ok;

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(EXIT_FAILURE);
	}
	close(fd);
	ok = config_load(cfg, path, true, &e);
	if (!ok)
		snprintf(err, errlen, "%s", e.message);
	unlink(path);
	return ok;
}

static void test_config(void)
{
	struct config cfg;
	char err[512];

	CHECK(load(&cfg, "store = /x\n", err, sizeof(err)));
	CHECK(cfg.auth && cfg.n_tokens == 0 && cfg.rate == 0 && !cfg.read_only);
	config_free(&cfg);

	CHECK(load(&cfg, "auth = off\nrate = 50/s\nburst = 100\nread_only = on\n", err, sizeof(err)));
	CHECK(!cfg.auth && cfg.rate == 50 && cfg.rate_period_s == 1 && cfg.burst == 100 && cfg.read_only);
	config_free(&cfg);

	/* burst defaults to one period's worth */
	CHECK(load(&cfg, "rate = 600/m\n", err, sizeof(err)));
	CHECK(cfg.rate == 600 && cfg.rate_period_s == 60 && cfg.burst == 600);
	config_free(&cfg);

	CHECK(load(&cfg, "[token alice]\nhash = " HASH_ALICE "\nread = users, config\nwrite = users.alice\n"
		   "[token ops]\nhash = sha256:" "0000000000000000000000000000000000000000000000000000000000000001\n"
		   "write = *\n", err, sizeof(err)));
	CHECK(cfg.n_tokens == 2);
	CHECK(strcmp(cfg.tokens[0].name, "alice") == 0 && cfg.tokens[0].n_read == 2 &&
	      strcmp(cfg.tokens[0].read[1], "config") == 0 && cfg.tokens[0].n_write == 1);
	CHECK(cfg.tokens[1].n_read == 0 && strcmp(cfg.tokens[1].write[0], "*") == 0);
	config_free(&cfg);

	/* Bad lines fail with file:line: reason. */
	CHECK(!load(&cfg, "rate = 50\n", err, sizeof(err)) && strstr(err, ":1: ") != NULL);
	config_free(&cfg);
	CHECK(!load(&cfg, "auth = maybe\n", err, sizeof(err)) && strstr(err, ":1: ") != NULL);
	config_free(&cfg);
	CHECK(!load(&cfg, "burst = 5\n", err, sizeof(err)));
	config_free(&cfg);
	CHECK(!load(&cfg, "[token a]\nread = users\n", err, sizeof(err)) &&
	      strstr(err, ":1: ") != NULL && strstr(err, "no hash") != NULL);
	config_free(&cfg);
	CHECK(!load(&cfg, "[token a]\nhash = sha256:abc\n", err, sizeof(err)) && strstr(err, ":2: ") != NULL);
	config_free(&cfg);
	CHECK(!load(&cfg, "[token a]\nhash = " HASH_ALICE "\nread = users..x\n", err, sizeof(err)) &&
	      strstr(err, ":3: ") != NULL);
	config_free(&cfg);
	CHECK(!load(&cfg, "[token a]\nhash = " HASH_ALICE "\nstore = /x\n", err, sizeof(err)) &&
	      strstr(err, ":3: ") != NULL);
	config_free(&cfg);
	CHECK(!load(&cfg, "[token a]\nhash = " HASH_ALICE "\n[token b]\nhash = " HASH_ALICE "\n",
		    err, sizeof(err)) && strstr(err, ":3: ") != NULL);
	config_free(&cfg);
	CHECK(!load(&cfg, "[token a]\nhash = " HASH_ALICE "\n[token a]\n", err, sizeof(err)) &&
	      strstr(err, ":3: ") != NULL);
	config_free(&cfg);
	CHECK(!load(&cfg, "[tokens a]\n", err, sizeof(err)) && strstr(err, ":1: ") != NULL);
	config_free(&cfg);
	CHECK(!load(&cfg, "[token a b]\n", err, sizeof(err)));
	config_free(&cfg);
}

static void test_token_name(void)
{
	char longest[CONFIG_TOKEN_NAME_MAX + 2];

	CHECK(auth_token_name_valid("alice"));
	CHECK(auth_token_name_valid("a-b_c.D9"));
	CHECK(!auth_token_name_valid(""));
	CHECK(!auth_token_name_valid("bad name"));
	CHECK(!auth_token_name_valid("caf\xc3\xa9"));
	CHECK(!auth_token_name_valid("a/b"));
	memset(longest, 'x', CONFIG_TOKEN_NAME_MAX);
	longest[CONFIG_TOKEN_NAME_MAX] = '\0';
	CHECK(auth_token_name_valid(longest));
	longest[CONFIG_TOKEN_NAME_MAX] = 'x';
	longest[CONFIG_TOKEN_NAME_MAX + 1] = '\0';
	CHECK(!auth_token_name_valid(longest));
	CHECK(strstr(AUTH_TOKEN_NAME_RULE, "1 to 64 ") != NULL);
}

static void test_identify(void)
{
	struct config cfg;
	struct auth_client c;
	char err[512];

	CHECK(load(&cfg, "[token alice]\nhash = " HASH_ALICE "\nread = users\n", err, sizeof(err)));
	CHECK(auth_identify(&cfg, NULL, &c) == AUTH_MISSING && c.token == NULL && !c.anyone);
	CHECK(auth_identify(&cfg, "", &c) == AUTH_MISSING);
	CHECK(auth_identify(&cfg, "Bearer secret-alice", &c) == AUTH_OK && c.token == &cfg.tokens[0]);
	CHECK(auth_identify(&cfg, "bearer   secret-alice  ", &c) == AUTH_OK);
	CHECK(auth_identify(&cfg, "Bearer secret-alicf", &c) == AUTH_UNKNOWN && c.token == NULL);
	CHECK(auth_identify(&cfg, "Bearer secret-alice x", &c) == AUTH_UNKNOWN);
	CHECK(auth_identify(&cfg, "Basic c2VjcmV0LWFsaWNl", &c) == AUTH_UNKNOWN);
	CHECK(auth_identify(&cfg, "Bearer", &c) == AUTH_UNKNOWN);
	CHECK(auth_identify(&cfg, "Bearersecret-alice", &c) == AUTH_UNKNOWN);
	cfg.auth = false;
	CHECK(auth_identify(&cfg, NULL, &c) == AUTH_MISSING && c.anyone);
	config_free(&cfg);
}

static void test_permits(void)
{
	char users[] = "users", config[] = "config", users_alice[] = "users.alice", star[] = "*";
	char *read[] = { users, config };
	char *write[] = { users_alice };
	char *all[] = { star };
	struct config_token alice = { .read = read, .n_read = 2, .write = write, .n_write = 1 };
	struct config_token ops = { .write = all, .n_write = 1 };
	struct auth_client a = { false, &alice }, o = { false, &ops };
	struct auth_client none = { false, NULL }, anyone = { true, NULL };

#define P(c, k, n) auth_permits(&(c), k, strlen(k), n)
	CHECK(P(a, "users", AUTH_READ));
	CHECK(P(a, "users.bob", AUTH_READ));
	CHECK(!P(a, "usersx", AUTH_READ));
	CHECK(!P(a, "user", AUTH_READ));
	CHECK(!P(a, "", AUTH_READ));
	CHECK(P(a, "config.x.y", AUTH_READ));
	CHECK(!P(a, "users.bob", AUTH_WRITE));
	CHECK(P(a, "users.alice", AUTH_WRITE));
	CHECK(P(a, "users.alice.x", AUTH_WRITE));
	CHECK(!P(a, "users.alicex", AUTH_WRITE));
	CHECK(!P(a, "users", AUTH_WRITE));
	CHECK(P(o, "", AUTH_READ));	/* write implies read, * covers the root */
	CHECK(P(o, "anything.at.all", AUTH_WRITE));
	CHECK(!P(none, "users", AUTH_READ));
	CHECK(P(anyone, "users", AUTH_WRITE));
#undef P
}

/* Any one grant lets a token commit (an empty commit included); none does not. */
static void test_has_grant(void)
{
	char a[] = "a", w[] = "w";
	char *read[] = { a };
	char *write[] = { w };
	struct config_token reader = { .read = read, .n_read = 1 };
	struct config_token writer = { .write = write, .n_write = 1 };
	struct config_token lb = { 0 };
	struct auth_client r = { false, &reader }, wr = { false, &writer }, l = { false, &lb };
	struct auth_client none = { false, NULL }, anyone = { true, NULL };

	CHECK(auth_has_grant(&r));
	CHECK(auth_has_grant(&wr));
	CHECK(!auth_has_grant(&l));
	CHECK(!auth_has_grant(&none));
	CHECK(auth_has_grant(&anyone));
	/* a check reads: a write grant covers it, another key's read grant does not */
	CHECK(auth_permits(&wr, "w.x", 3, AUTH_READ));
	CHECK(!auth_permits(&r, "b.x", 3, AUTH_READ));
}

static void test_bucket(void)
{
	const int64_t s = 1000000000, interval = s / 2;	/* 2/s */
	struct rl_verdict v;
	int64_t tat = 0, now = 100 * s;
	int allowed = 0;

	for (int i = 0; i < 10; i++)
		allowed += rl_bucket_take(&tat, now, interval, 5, &v);
	CHECK(allowed == 5);
	CHECK(v.limit == 5 && v.remaining == 0 && v.retry_after_s == 1 && v.reset_s == 3);

	tat = 0;
	CHECK(rl_bucket_take(&tat, now, interval, 5, &v) && v.remaining == 4 && v.reset_s == 1);
	/* Half a second later one request is earned back. */
	for (int i = 0; i < 4; i++)
		rl_bucket_take(&tat, now, interval, 5, &v);
	CHECK(!rl_bucket_take(&tat, now + s / 2 - 1, interval, 5, &v));
	CHECK(rl_bucket_take(&tat, now + s / 2, interval, 5, &v) && v.remaining == 0);
	/* Long idle: full again, never more than the burst. */
	CHECK(rl_bucket_take(&tat, now + 3600 * s, interval, 5, &v) && v.remaining == 4);
	/* A bucket full only far in the future: the clock started over. */
	tat = now + 3600 * s;
	CHECK(rl_bucket_take(&tat, now, interval, 5, &v) && v.remaining == 4);
}

int main(void)
{
	test_config();
	test_token_name();
	test_identify();
	test_permits();
	test_has_grant();
	test_bucket();
	return UNIT_DONE();
}
