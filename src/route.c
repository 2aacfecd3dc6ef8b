/* route.c: which handler answers a request, and the handlers themselves
 *
 * Each handler reads as parse, store call, reply: helpers that find bad
 * input answer the request themselves and return false. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "commit.h"
#include "etag.h"
#include "jsonbuf.h"
#include "jsontext.h"
#include "keypath.h"
#include "record.h"
#include "render.h"
#include "reply.h"
#include "route.h"
#include "util.h"

/* A value nests at most this many arrays or objects (the contract's
 * bound); the PUT body's own object is one more. */
#define VALUE_DEPTH_MAX 128

typedef void (*handler_fn)(struct request *req, struct store *st, const struct config *cfg);

static void reply_store_failure(struct request *req, enum store_status status)
{
	switch (status) {
	case STORE_BUSY:
		reply_error(req, 503, "unavailable", "Retry-After: 1\r\n",
			    "the store is busy; try again");
		break;
	case STORE_UNAVAILABLE:
		reply_error(req, 503, "unavailable", "Retry-After: 5\r\n",
			    "the store is unavailable; try again later");
		break;
	case STORE_FULL:
		reply_error(req, 503, "unavailable", "Retry-After: 30\r\n",
			    "the store is out of disk space; nothing was written");
		break;
	default:
		reply_error(req, 500, "internal", NULL, "internal error");
		break;
	}
}

static void reply_not_found(struct request *req)
{
	reply_error(req, 404, "not_found", NULL, "no such key: %s", req->key);
}

static void handle_health(struct request *req, struct store *st, const struct config *cfg)
{
	enum store_status status = store_ping(st);
	struct jsonbuf body;

	if (status != STORE_OK) {
		reply_store_failure(req, status);
		return;
	}
	render_health(&body);
	reply_body(req, 200, NULL, &body);
	jsonbuf_free(&body);
}

static void handle_get(struct request *req, struct store *st, const struct config *cfg)
{
	struct store_item item;
	enum store_status status = store_get(st, req->key, req->key_len, &item);
	char vs[VERSIONSTAMP_LEN + 1];
	char headers[128];

	if (status == STORE_NOTFOUND)
		reply_not_found(req);
	else if (status != STORE_OK)
		reply_store_failure(req, status);
	else {
		record_format_vs(item.versionstamp, vs);
		render_item_headers(headers, sizeof(headers), vs, item.expires_at);
		if (req->if_none_match != NULL && etag_matches(req->if_none_match, ETAG_WEAK, true, vs))
			reply_send(req, 304, headers, NULL, 0);
		else
			reply_send(req, 200, headers, item.value, item.value_len);
	}
	store_item_free(&item);
}

/* The fields of a PUT body, in this order. */
enum { PUT_VALUE, PUT_TTL, PUT_FIELDS };

enum put_body_status route_parse_put_body(const char *text, size_t len, size_t max_value,
					  int64_t now, struct store_put *put, const char **problem)
{
	struct jsontext_field f[PUT_FIELDS] = { [PUT_VALUE] = { "value" }, [PUT_TTL] = { "ttl" } };

	*problem = NULL;
	if (jsontext_validate(text, len, VALUE_DEPTH_MAX + 1) != JSONTEXT_OK)
		return PUT_BODY_INVALID_JSON;
	switch (jsontext_fields(text, len, f, PUT_FIELDS)) {
	case JSONTEXT_FIELDS_NOT_OBJECT:
		*problem = "the body must be a JSON object: {\"value\": ..., \"ttl\": ms}";
		break;
	case JSONTEXT_FIELDS_UNKNOWN:
		*problem = "the body may hold only \"value\" and \"ttl\"";
		break;
	case JSONTEXT_FIELDS_TWICE:
		*problem = "a member appears twice in the body";
		break;
	case JSONTEXT_FIELDS_OK:
		if (f[PUT_VALUE].value == NULL)
			*problem = "the body has no \"value\"";
		break;
	}
	if (*problem != NULL)
		return PUT_BODY_INVALID_BODY;
	if (!record_parse_ttl(f[PUT_TTL].value, f[PUT_TTL].value_len, now, &put->ttl_ms))
		return PUT_BODY_INVALID_TTL;
	if (f[PUT_VALUE].value_len > max_value)
		return PUT_BODY_VALUE_TOO_LARGE;
	put->value = f[PUT_VALUE].value;
	put->value_len = f[PUT_VALUE].value_len;
	return PUT_BODY_OK;
}

/* Reads and checks a PUT body; answers bad input itself. */
static bool read_put_body(struct request *req, const struct config *cfg, struct store_put *put)
{
	const char *problem;

	if (!request_read_body(req, cfg->max_body))
		return false;
	switch (route_parse_put_body(req->body, req->body_len, cfg->max_value, util_now_ms(),
				     put, &problem)) {
	case PUT_BODY_OK:
		return true;
	case PUT_BODY_INVALID_JSON:
		reply_error(req, 400, "invalid_json", NULL,
			    "the body is not JSON, or nests deeper than %d", VALUE_DEPTH_MAX);
		break;
	case PUT_BODY_INVALID_BODY:
		reply_error(req, 400, "invalid_body", NULL, "%s", problem);
		break;
	case PUT_BODY_INVALID_TTL:
		reply_error(req, 400, "invalid_ttl", NULL, RECORD_TTL_RULE);
		break;
	case PUT_BODY_VALUE_TOO_LARGE:
		reply_error(req, 413, "value_too_large", NULL,
			    "the value is larger than %lu bytes", (unsigned long)cfg->max_value);
		break;
	}
	return false;
}

static void handle_put(struct request *req, struct store *st, const struct config *cfg)
{
	struct store_put put = {
		.key = req->key, .key_len = req->key_len,
		.if_match = req->if_match, .if_none_match = req->if_none_match,
	};
	enum store_status status;
	struct jsonbuf body;
	char vs[VERSIONSTAMP_LEN + 1];
	char headers[128];

	if (!read_put_body(req, cfg, &put))
		return;
	status = store_put(st, &put);
	if (status == STORE_PRECONDITION) {
		reply_error(req, 412, "precondition_failed", NULL,
			    "the condition on %s does not hold; nothing was written", req->key);
		return;
	}
	if (status != STORE_OK) {
		reply_store_failure(req, status);
		return;
	}
	record_format_vs(put.versionstamp, vs);
	render_item_headers(headers, sizeof(headers), vs, put.expires_at);
	render_written(&body, req->key, req->key_len, vs, put.expires_at);
	reply_body(req, 200, headers, &body);
	jsonbuf_free(&body);
}

static void handle_delete(struct request *req, struct store *st, const struct config *cfg)
{
	struct store_delete del = {
		.key = req->key, .key_len = req->key_len, .if_match = req->if_match,
	};
	enum store_status status = store_delete(st, &del);
	struct jsonbuf body;

	if (status == STORE_PRECONDITION) {
		reply_error(req, 412, "precondition_failed", NULL,
			    "the condition on %s does not hold; nothing was deleted", req->key);
		return;
	}
	if (status != STORE_OK) {
		reply_store_failure(req, status);
		return;
	}
	render_deleted(&body, req->key, req->key_len, del.deleted);
	reply_body(req, 200, NULL, &body);
	jsonbuf_free(&body);
}

/* A cursor is the hex of the last key of the previous page; it must name a
 * valid key strictly under the listed prefix. */
static bool parse_cursor(struct request *req, char **after, size_t *after_len)
{
	const char *cursor = req->query.cursor;
	size_t hex_len, len;
	char *key = NULL;
	bool ok = false;

	*after = NULL;
	if (cursor == NULL)
		return true;
	hex_len = strlen(cursor);
	len = hex_len / 2;
	if (len == 0 || len > KEYPATH_MAX)
		goto out;
	key = malloc(len + 1);
	if (key == NULL || !util_hex_decode(cursor, hex_len, (unsigned char *)key))
		goto out;
	key[len] = '\0';
	if (!keypath_valid(key, len) || len <= req->key_len ||
	    (req->key_len > 0 && (memcmp(key, req->key, req->key_len) != 0 || key[req->key_len] != '.')))
		goto out;
	*after = key;
	*after_len = len;
	key = NULL;
	ok = true;
out:
	free(key);
	if (!ok)
		reply_error(req, 400, "invalid_query", NULL, "the cursor is not one this listing gave out");
	return ok;
}

static void handle_list(struct request *req, struct store *st, const struct config *cfg)
{
	struct store_list list = {
		.prefix = req->key, .prefix_len = req->key_len,
		.reverse = req->query.reverse, .with_values = req->query.values,
		.limit = req->query.limit,
	};
	struct jsonbuf page;
	char *after = NULL;
	enum store_status status;

	if (!parse_cursor(req, &after, &list.after_len))
		return;
	list.after = after;
	status = store_list(st, &list);
	if (status != STORE_OK) {
		reply_store_failure(req, status);
	} else {
		render_list_page(&page, &list);
		reply_body(req, 200, NULL, &page);
		jsonbuf_free(&page);
	}
	store_list_free(&list);
	free(after);
}

/* The answer to a commit the store refused: which check or mutation. */
static void reply_commit_refused(struct request *req, enum store_status status,
				 const struct store_commit *op)
{
	const struct store_mutation *m = &op->mutations[op->failed];

	switch (status) {
	case STORE_CHECK_FAILED:
		reply_error(req, 409, "check_failed", NULL,
			    "the check on %s does not hold; nothing was written",
			    op->checks[op->failed].key);
		break;
	case STORE_TYPE_MISMATCH:
		reply_error(req, 409, "type_mismatch", NULL,
			    "%s does not hold an integer; nothing was written", m->key);
		break;
	case STORE_OVERFLOW:
		reply_error(req, 409, "overflow", NULL,
			    "the result for %s leaves the signed 64-bit range; nothing was written", m->key);
		break;
	default:
		reply_store_failure(req, status);
		break;
	}
}

/* Any commit, an empty one too, answers the store's versionstamp: a token
 * with no grant at all may not commit, whatever the body says, so it is
 * refused before the body is read (as a forbidden PUT is). */
static bool may_commit(struct request *req)
{
	if (auth_has_grant(&req->client))
		return true;
	reply_error(req, 403, "forbidden", NULL, "this token has no grant, and a commit needs one");
	return false;
}

/* The token must be allowed to read every check's key and write every mutation's,
 * or nothing is applied: 403 before the store is touched. A check reads, so a
 * check-only commit needs read grants too. */
static bool commit_permitted(struct request *req, const struct store_commit *op)
{
	for (size_t i = 0; i < op->n_checks; i++) {
		const struct store_check *c = &op->checks[i];

		if (!auth_permits(&req->client, c->key, c->key_len, AUTH_READ)) {
			reply_error(req, 403, "forbidden", NULL,
				    "this token may not read %s; nothing was written", c->key);
			return false;
		}
	}
	for (size_t i = 0; i < op->n_mutations; i++) {
		const struct store_mutation *m = &op->mutations[i];

		if (!auth_permits(&req->client, m->key, m->key_len, AUTH_WRITE)) {
			reply_error(req, 403, "forbidden", NULL,
				    "this token may not write %s; nothing was written", m->key);
			return false;
		}
	}
	return true;
}

static void handle_commit(struct request *req, struct store *st, const struct config *cfg)
{
	struct commit commit;
	struct commit_error err;
	enum store_status status;
	struct jsonbuf body;
	char vs[VERSIONSTAMP_LEN + 1];

	if (!may_commit(req) || !request_read_body(req, cfg->max_body))
		return;
	if (!commit_parse(&commit, req->body, req->body_len, cfg->max_value, VALUE_DEPTH_MAX,
			  util_now_ms(), &err)) {
		reply_error(req, err.status, err.code, NULL, "%s", err.message);
		goto out;
	}
	if (!commit_permitted(req, &commit.op))
		goto out;
	status = store_commit(st, &commit.op);
	if (status != STORE_OK) {
		reply_commit_refused(req, status, &commit.op);
		goto out;
	}
	record_format_vs(commit.op.versionstamp, vs);
	render_committed(&body, vs);
	reply_body(req, 200, NULL, &body);
	jsonbuf_free(&body);
out:
	commit_free(&commit);
}

enum target { TARGET_ROOT, TARGET_KEY };
enum list_mode { LIST_ANY, LIST_NO, LIST_YES };

static const struct route {
	enum target target;
	enum method method;
	enum list_mode list;	/* GET only: ?list=true or not */
	const char *allow;	/* its methods in the Allow header */
	handler_fn fn;
} routes[] = {
	{ TARGET_ROOT, METHOD_GET, LIST_NO, "GET, HEAD", handle_health },
	{ TARGET_ROOT, METHOD_GET, LIST_YES, NULL, handle_list },
	{ TARGET_ROOT, METHOD_POST, LIST_ANY, "POST", handle_commit },
	{ TARGET_KEY, METHOD_GET, LIST_NO, "GET, HEAD", handle_get },
	{ TARGET_KEY, METHOD_GET, LIST_YES, NULL, handle_list },
	{ TARGET_KEY, METHOD_PUT, LIST_ANY, "PUT", handle_put },
	{ TARGET_KEY, METHOD_DELETE, LIST_ANY, "DELETE", handle_delete },
};

void route_dispatch(struct request *req, struct store *st, const struct config *cfg)
{
	enum target target = req->key_len == 0 ? TARGET_ROOT : TARGET_KEY;
	char allow[128] = "Allow: ";
	size_t n = strlen(allow);

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *r = &routes[i];

		if (r->target != target || r->method != req->method)
			continue;
		if (r->list == LIST_ANY || (r->list == LIST_YES) == req->query.list) {
			r->fn(req, st, cfg);
			return;
		}
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (routes[i].target != target || routes[i].allow == NULL)
			continue;
		n += (size_t)snprintf(allow + n, sizeof(allow) - n, "%s%s",
				      n > strlen("Allow: ") ? ", " : "", routes[i].allow);
	}
	snprintf(allow + n, sizeof(allow) - n, "\r\n");
	reply_error(req, 405, "method_not_allowed", allow,
		    "this method is not allowed here");
}
