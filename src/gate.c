/* gate.c: what a request must pass before any handler runs, and every
 * grant it needs
 *
 * The budget comes first, so that guessing tokens costs budget too: a
 * request without a known token is counted against its remote address. */
#include <stdio.h>
#include <string.h>

#include "gate.h"
#include "http_error.h"

/* Maintenance takes minutes, not seconds: no point in retrying sooner. */
#define READ_ONLY_RETRY_S 60

/* The bucket's name: "t:" and the token's name, or "a:" and the address
 * (an IPv6 address's /64: see rl_address_key()). */
static size_t client_name(const struct request *req, char *out, size_t size)
{
	const char *addr = io_param(req->io, IO_REMOTE_ADDR);
	int n;

	if (req->client.token == NULL)
		return rl_address_key(addr != NULL ? addr : "", out, size);
	n = snprintf(out, size, "t:%s", req->client.token->name);
	return n < 0 ? 0 : (size_t)n >= size ? size - 1 : (size_t)n;
}

static bool take_budget(struct request *req, struct ratelimit *rl, struct error *err,
			char *headers)
{
	char name[128];
	struct rl_verdict v;
	enum rl_status status = rl_take(rl, name, client_name(req, name, sizeof(name)), &v);

	if (status == RL_PERMISSION) {
		http_error_from_store(STORE_PERMISSION, NULL, NULL, err);
		return false;
	}
	if (status == RL_UNAVAILABLE) {
		snprintf(headers, GATE_HEADERS_MAX, "Retry-After: 5\r\n");
		return error_set(err, 503, "unavailable", "the service is unavailable; try again later");
	}
	/* Not counted (see rl_take()): no budget to tell of. */
	if (status == RL_UNCHECKED)
		return true;
	snprintf(req->common_headers, sizeof(req->common_headers),
		 "RateLimit-Limit: %u\r\nRateLimit-Remaining: %u\r\nRateLimit-Reset: %u\r\n",
		 (unsigned)v.limit, (unsigned)v.remaining, (unsigned)v.reset_s);
	if (status == RL_ALLOW)
		return true;
	snprintf(headers, GATE_HEADERS_MAX, "Retry-After: %u\r\n", (unsigned)v.retry_after_s);
	return error_set(err, 429, "rate_limited", "too many requests; try again in %u s",
			 (unsigned)v.retry_after_s);
}

/* A POST to the root is the atomic commit; a POST elsewhere gets its 405
 * from the router. */
static bool is_commit(const struct request *req)
{
	return req->method == METHOD_POST && req->key_len == 0;
}

/* what: the request that needs a grant, for the message. */
static bool has_grant(const struct auth_client *client, const char *what, struct error *err)
{
	if (auth_has_grant(client))
		return true;
	return error_set(err, 403, "forbidden", "this token has no grant, and %s needs one", what);
}

/* The admin grant: a token's admin = yes, or auth = off. No key grant
 * gives it, and it gives none. */
static bool admin_permitted(const struct auth_client *client, struct error *err)
{
	if (client->anyone || (client->token != NULL && client->token->admin))
		return true;
	return error_set(err, 403, "forbidden",
			 "backups of the whole store need a token with admin = yes");
}

/* The key of a GET, PUT or DELETE, or the prefix of a list or a change
 * feed. The root's health check names no key; a commit or a read of many
 * keys needs some grant here, its keys being checked by gate_commit() or
 * gate_read_many() once its body is read; a backup and a
 * load need the admin grant; other methods get their 405 from the
 * router. */
static bool key_permitted(const struct request *req, struct error *err)
{
	bool list = req->method == METHOD_GET && req->query.list;
	bool feed = req->method == METHOD_GET && req->query.changes;
	enum auth_need need;

	if (req->connect)
		return has_grant(&req->client, "KV Connect", err);
	if (request_is_backup(req) || request_is_load(req))
		return admin_permitted(&req->client, err);
	if (request_is_read_many(req))
		return has_grant(&req->client, "a read of many keys", err);
	if (is_commit(req))
		return has_grant(&req->client, "a commit", err);
	if (req->method == METHOD_GET)
		need = AUTH_READ;
	else if (req->method == METHOD_PUT || req->method == METHOD_DELETE)
		need = AUTH_WRITE;
	else
		return true;
	if ((req->key_len == 0 && !list && !feed) ||
	    auth_permits(&req->client, req->key, req->key_len, need))
		return true;
	if (list || feed)
		return error_set(err, 403, "forbidden", "this token may not %s %s",
				 list ? "list" : "follow the changes of",
				 req->key_len > 0 ? req->key : "every key");
	return error_set(err, 403, "forbidden", "this token may not %s %s",
			 need == AUTH_READ ? "read" : "write", req->key);
}

bool gate_pass(struct request *req, const struct config *cfg, struct ratelimit *rl,
	       struct error *err, char *headers)
{
	enum auth_result who = auth_identify(cfg, io_param(req->io, IO_HTTP_AUTHORIZATION),
					     &req->client);

	headers[0] = '\0';
	if (who == AUTH_ERROR)
		return error_set(err, 500, "internal", "internal error");
	if (cfg->rate != 0 && !take_budget(req, rl, err, headers))
		return false;
	if (cfg->auth && who != AUTH_OK) {
		snprintf(headers, GATE_HEADERS_MAX, "WWW-Authenticate: Bearer realm=\"kv\"\r\n");
		return error_set(err, 401, "unauthorized", "%s",
				 who == AUTH_MISSING ? "this service needs a bearer token"
						     : "the bearer token is not valid");
	}
	/* KV Connect answers a write in maintenance mode in its own terms. */
	if (cfg->read_only && request_is_write(req) && !req->connect) {
		snprintf(headers, GATE_HEADERS_MAX, "Retry-After: %d\r\n", READ_ONLY_RETRY_S);
		return error_set(err, 503, "unavailable",
				 "the service is read-only for maintenance; try again later");
	}
	return key_permitted(req, err);
}

/* One key of a commit: a dotted keypath, or a Deno key's stored form,
 * which lies under the keypath of its leading segments (connect_key.h). */
static bool commit_key_permitted(const struct auth_client *client, const char *key,
				 size_t key_len, bool stored, const char *grant, size_t grant_len,
				 enum auth_need need, struct error *err)
{
	const char *verb = need == AUTH_READ ? "read" : "write";

	if (!stored) {
		if (auth_permits(client, key, key_len, need))
			return true;
		return error_set(err, 403, "forbidden",
				 "this token may not %s %s; nothing was written", verb, key);
	}
	if (auth_permits(client, grant, grant_len, need))
		return true;
	if (grant_len == 0)
		return error_set(err, 403, "forbidden",
				 "this token may not %s every key; nothing was written", verb);
	return error_set(err, 403, "forbidden",
			 "this token may not %s %s; nothing was written", verb, grant);
}

bool gate_commit(const struct auth_client *client, const struct store_commit *op,
		 struct error *err)
{
	if (!has_grant(client, "a commit", err))
		return false;
	for (size_t i = 0; i < op->n_checks; i++) {
		const struct store_check *c = &op->checks[i];

		if (!commit_key_permitted(client, c->key, c->key_len, c->stored, c->grant,
					  c->grant_len, AUTH_READ, err))
			return false;
	}
	for (size_t i = 0; i < op->n_mutations; i++) {
		const struct store_mutation *m = &op->mutations[i];

		if (!commit_key_permitted(client, m->key, m->key_len, m->stored, m->grant,
					  m->grant_len, AUTH_WRITE, err))
			return false;
	}
	return true;
}

bool gate_read_many(const struct auth_client *client, const struct store_read_many *read,
		    struct error *err)
{
	if (!has_grant(client, "a read of many keys", err))
		return false;
	for (size_t i = 0; i < read->n_keys; i++) {
		const struct store_read_key *rk = &read->keys[i];

		if (!auth_permits(client, rk->key, rk->key_len, AUTH_READ))
			return error_set(err, 403, "forbidden",
					 "this token may not read %s; nothing was read", rk->key);
	}
	return true;
}
