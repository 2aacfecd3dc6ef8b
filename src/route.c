/* route.c: which handler answers a request, and the handlers themselves
 *
 * Each handler reads as parse, store call, reply: a parser or the gate
 * fills a struct error, which reply_error_send() answers, and a store
 * call's failure is answered as http_error_from_store() says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup.h"
#include "body.h"
#include "commit.h"
#include "connect.h"
#include "etag.h"
#include "feed.h"
#include "gate.h"
#include "http_error.h"
#include "jsonbuf.h"
#include "read_body.h"
#include "redirect.h"
#include "record.h"
#include "render.h"
#include "reply.h"
#include "route.h"
#include "store_admin.h"
#include "util.h"

typedef void (*handler_fn)(struct request *req, struct store *st, const struct config *cfg);

/* Answers a store call that did not succeed; key and undone as
 * http_error_from_store() takes them. */
static void reply_store_error(struct request *req, enum store_status status, const char *key,
			      const char *undone)
{
	struct error err;
	const char *headers;

	if (status == STORE_NOT_MASTER || status == STORE_NO_MASTER) {
		redirect_send(req, req->store, status);
		return;
	}
	headers = http_error_from_store(status, key, undone, &err);
	reply_error_send(req, &err, headers);
}

static void handle_health(struct request *req, struct store *st, const struct config *cfg)
{
	enum store_status status = store_ping(st);
	struct store_site site;
	struct jsonbuf body;
	char vs[VERSIONSTAMP_LEN + 1] = "";
	uint64_t n;

	if (status == STORE_OK)
		status = store_site(st, &site);
	if (status == STORE_OK && site.replicated && (status = store_versionstamp(st, &n)) == STORE_OK)
		record_format_vs(n, vs);
	if (status != STORE_OK) {
		reply_store_error(req, status, NULL, NULL);
		return;
	}
	render_health(&body, &site, cfg, vs);
	reply_body(req, 200, NULL, &body);
	jsonbuf_free(&body);
}

static void handle_get(struct request *req, struct store *st, const struct config *cfg)
{
	struct store_item item;
	enum store_status status = store_get(st, req->key, req->key_len, &item);
	char vs[VERSIONSTAMP_LEN + 1];
	char headers[128];
	struct error err;

	if (status != STORE_OK) {
		reply_store_error(req, status, req->key, NULL);
	} else if (!record_kind_json(item.kind)) {
		error_set(&err, 406, "not_json",
			  "%s holds %s that a Deno program wrote, which has no JSON form; read it "
			  "with Deno's client", req->key,
			  item.kind == RECORD_BYTES ? "a Uint8Array" : "a value");
		reply_error_send(req, &err, NULL);
	} else {
		record_format_vs(item.versionstamp, vs);
		render_item_headers(headers, sizeof(headers), vs, item.expires_at);
		if (req->if_none_match != NULL && etag_matches(req->if_none_match, ETAG_WEAK, true, vs))
			reply_send(req, 304, headers, NULL, 0);
		else
			reply_send(req, 200, headers, item.value, item.value_len);
	}
	store_item_free(&item);
}

static void handle_put(struct request *req, struct store *st, const struct config *cfg)
{
	struct store_put put = {
		.key = req->key, .key_len = req->key_len,
		.if_match = req->if_match, .if_none_match = req->if_none_match,
	};
	enum store_status status;
	struct error err;
	struct jsonbuf body;
	char vs[VERSIONSTAMP_LEN + 1];
	char headers[128];

	if (!body_read(req, cfg->max_body, &err) ||
	    !body_parse_put(req->body, req->body_len, cfg->max_value, util_now_ms(), &put, &err)) {
		reply_error_send(req, &err, NULL);
		return;
	}
	status = store_put(st, &put);
	if (status != STORE_OK) {
		reply_store_error(req, status, req->key, "written");
		return;
	}
	redirect_note_commit(req, st);
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

	if (status != STORE_OK) {
		reply_store_error(req, status, req->key, "deleted");
		return;
	}
	redirect_note_commit(req, st);
	render_deleted(&body, req->key, req->key_len, del.deleted, del.versionstamp);
	reply_body(req, 200, NULL, &body);
	jsonbuf_free(&body);
}

static void handle_list(struct request *req, struct store *st, const struct config *cfg)
{
	struct store_list list = {
		.prefix = req->key, .prefix_len = req->key_len,
		.reverse = req->query.reverse, .with_values = req->query.values,
		.limit = req->query.limit,
	};
	struct error err;
	struct jsonbuf page;
	char *after = NULL;
	enum store_status status;

	if (!request_parse_cursor(req->query.cursor, req->key, req->key_len, &after,
				  &list.after_len, &err)) {
		reply_error_send(req, &err, NULL);
		return;
	}
	list.after = after;
	status = store_list(st, &list);
	if (status != STORE_OK) {
		reply_store_error(req, status, req->key, NULL);
	} else {
		render_list_page(&page, &list);
		reply_body(req, 200, NULL, &page);
		jsonbuf_free(&page);
	}
	store_list_free(&list);
	free(after);
}

/* A feed that must wait is parked by the FastCGI loop, or waited for
 * here under plain CGI. */
static void handle_changes(struct request *req, struct store *st, const struct config *cfg)
{
	struct feed **park = req->park;
	struct wake *w = req->wake != NULL ? req->wake : store_wake(st);
	struct feed *f;

	if (feed_begin(req, st, cfg, w, &f) != FEED_WAITING)
		return;
	if (park != NULL) {
		*park = f;
		return;
	}
	feed_wait(f, st, cfg, w);
	feed_free(f, w);
}

/* A recursive delete bounded by max_recursive_delete. A condition on one
 * key's versionstamp says nothing of a subtree: refused, not ignored. */
static void handle_delete_tree(struct request *req, struct store *st, const struct config *cfg)
{
	struct store_delete_tree del = {
		.prefix = req->key, .prefix_len = req->key_len, .max = cfg->max_recursive_delete,
	};
	enum store_status status;
	struct error err;
	struct jsonbuf body;

	if (req->if_match != NULL || req->if_none_match != NULL) {
		error_set(&err, 400, "invalid_query",
			  "recurse=true takes no If-Match or If-None-Match; nothing was deleted");
		reply_error_send(req, &err, NULL);
		return;
	}
	status = store_delete_tree(st, &del);
	if (status != STORE_OK) {
		reply_store_error(req, status, req->key, "deleted");
		return;
	}
	redirect_note_commit(req, st);
	render_deleted_tree(&body, del.deleted, del.versionstamp);
	reply_body(req, 200, NULL, &body);
	jsonbuf_free(&body);
}

/* A one-level list's cursor names a direct child of the prefix. */
static bool children_cursor(const struct request *req, char **after, size_t *after_len,
			    struct error *err)
{
	size_t from = req->key_len > 0 ? req->key_len + 1 : 0;

	if (!request_parse_cursor(req->query.cursor, req->key, req->key_len, after, after_len,
				  err))
		return false;
	if (*after == NULL || memchr(*after + from, '.', *after_len - from) == NULL)
		return true;
	free(*after);
	*after = NULL;
	return error_set(err, 400, "invalid_query", "the cursor is not one this listing gave out");
}

static void handle_children(struct request *req, struct store *st, const struct config *cfg)
{
	struct store_children page = {
		.prefix = req->key, .prefix_len = req->key_len,
		.reverse = req->query.reverse, .with_values = req->query.values,
		.limit = req->query.limit,
	};
	struct error err;
	struct jsonbuf body;
	char *after = NULL;
	enum store_status status;

	if (!children_cursor(req, &after, &page.after_len, &err)) {
		reply_error_send(req, &err, NULL);
		return;
	}
	page.after = after;
	status = store_children(st, &page);
	if (status != STORE_OK) {
		reply_store_error(req, status, req->key, NULL);
	} else {
		render_children_page(&body, &page);
		reply_body(req, 200, NULL, &body);
		jsonbuf_free(&body);
	}
	store_children_free(&page);
	free(after);
}

/* The gate has seen that the token holds some grant before the body is
 * read; gate_read_many() then checks the keys the body names. */
static void handle_read_many(struct request *req, struct store *st, const struct config *cfg)
{
	struct read_body rb = { .keys = NULL };
	struct error err;
	enum store_status status;
	struct jsonbuf body;

	if (!body_read(req, cfg->max_body, &err) ||
	    !read_body_parse(&rb, req->body, req->body_len, &err) ||
	    !gate_read_many(&req->client, &rb.read, &err)) {
		reply_error_send(req, &err, NULL);
		goto out;
	}
	status = store_read_many(st, &rb.read);
	if (status != STORE_OK) {
		reply_store_error(req, status, NULL, NULL);
		goto out;
	}
	render_read_many(&body, &rb.read);
	reply_body(req, 200, NULL, &body);
	jsonbuf_free(&body);
	store_read_many_free(&rb.read);
out:
	read_body_free(&rb);
}

/* The key of the check or mutation that made the store refuse a commit,
 * or NULL when the refusal names none. */
static const char *refusing_key(const struct store_commit *op, enum store_status status)
{
	if (status == STORE_CHECK_FAILED)
		return op->checks[op->failed].key;
	if (status == STORE_TYPE_MISMATCH || status == STORE_OVERFLOW)
		return op->mutations[op->failed].key;
	return NULL;
}

/* The gate has seen that the token holds some grant before the body is
 * read; gate_commit() then checks the keys the body names. */
static void handle_commit(struct request *req, struct store *st, const struct config *cfg)
{
	struct commit commit = { 0 };
	struct error err;
	enum store_status status;
	struct jsonbuf body;
	char vs[VERSIONSTAMP_LEN + 1];

	if (!body_read(req, cfg->max_body, &err) ||
	    !commit_parse(&commit, req->body, req->body_len, cfg->max_value, RECORD_DEPTH_MAX,
			  util_now_ms(), &err) ||
	    !gate_commit(&req->client, &commit.op, &err)) {
		reply_error_send(req, &err, NULL);
		goto out;
	}
	status = store_commit(st, &commit.op);
	if (status != STORE_OK) {
		reply_store_error(req, status, refusing_key(&commit.op, status), "written");
		goto out;
	}
	redirect_note_commit(req, st);
	record_format_vs(commit.op.versionstamp, vs);
	render_committed(&body, vs);
	reply_body(req, 200, NULL, &body);
	jsonbuf_free(&body);
out:
	commit_free(&commit);
}

/* The store's administrative handle on the environment this process has
 * joined, after a first call (the ping) has made sure it is joined and
 * holds it so until the request ends. Answers the error and returns NULL
 * when there is none. */
static struct store_admin *attach_admin(struct request *req, struct store *st,
					const struct config *cfg)
{
	enum store_status status = store_ping(st);
	struct store_admin *sa = NULL;
	struct error err;

	if (status == STORE_OK && (status = store_admin_attach(st, cfg, &sa, &err)) != STORE_OK)
		util_log("id=%s %s", req->id, err.message);
	if (status != STORE_OK)
		reply_store_error(req, status, NULL, NULL);
	return sa;
}

static void handle_backup(struct request *req, struct store *st, const struct config *cfg)
{
	struct store_admin *sa = NULL;
	enum store_status status;
	struct error err;
	bool begun;

	if (req->query.others) {
		error_set(&err, 400, "invalid_query", "a backup takes no other query parameter");
		reply_error_send(req, &err, NULL);
		return;
	}
	if ((sa = attach_admin(req, st, cfg)) == NULL)
		return;
	status = backup_send(sa, req, &begun, &err);
	if (status != STORE_OK) {
		util_log("id=%s backup %s: %s", req->id, begun ? "cut short" : "failed", err.message);
		if (!begun)
			reply_store_error(req, status, NULL, NULL);
	}
	store_admin_close(sa);
}

static void handle_load(struct request *req, struct store *st, const struct config *cfg)
{
	struct backup_lines lines = { NULL, 0 };
	struct backup_totals totals;
	struct store_admin *sa = NULL;
	enum store_status status;
	struct error err;
	struct jsonbuf body;
	char vs[VERSIONSTAMP_LEN + 1];

	if (!body_read(req, cfg->max_load, &err) ||
	    !backup_parse(req->body, req->body_len, cfg->max_value, &lines, &err)) {
		reply_error_send(req, &err, NULL);
		goto out;
	}
	if ((sa = attach_admin(req, st, cfg)) == NULL)
		goto out;
	status = backup_load(sa, &lines, &totals, &err);
	if (status != STORE_OK) {
		util_log("id=%s load failed after %llu keys: %s", req->id,
			 (unsigned long long)totals.loaded, err.message);
		reply_store_error(req, status, NULL, NULL);
		goto out;
	}
	record_format_vs(totals.versionstamp, vs);
	render_loaded(&body, totals.loaded, totals.skipped, vs);
	reply_body(req, 200, NULL, &body);
	jsonbuf_free(&body);
out:
	store_admin_close(sa);
	backup_lines_free(&lines);
}

enum target { TARGET_ROOT, TARGET_KEY, TARGET_CONNECT };
/* What the query string makes of a request: a list (?list=true), a
 * change feed (?changes=true), a one-level list (&depth=1), a recursive
 * delete (?recurse=true), the root's backup, load or read of many keys,
 * or none of them (plain). */
enum variant {
	VARIANT_ANY, VARIANT_PLAIN, VARIANT_LIST, VARIANT_CHILDREN, VARIANT_CHANGES,
	VARIANT_RECURSE, VARIANT_BACKUP, VARIANT_LOAD, VARIANT_READ,
};

static enum variant variant_of(const struct request *req)
{
	if (request_is_backup(req))
		return VARIANT_BACKUP;
	if (request_is_load(req))
		return VARIANT_LOAD;
	if (request_is_read_many(req))
		return VARIANT_READ;
	if (req->method == METHOD_GET && req->query.changes)
		return VARIANT_CHANGES;
	if (req->method == METHOD_GET && req->query.list)
		return req->query.depth == 1 ? VARIANT_CHILDREN : VARIANT_LIST;
	if (req->method == METHOD_DELETE && req->query.recurse)
		return VARIANT_RECURSE;
	return VARIANT_PLAIN;
}

static const struct route {
	enum target target;
	enum method method;
	enum variant variant;
	const char *allow;	/* its methods in the Allow header */
	handler_fn fn;
} routes[] = {
	{ TARGET_ROOT, METHOD_GET, VARIANT_PLAIN, "GET, HEAD", handle_health },
	{ TARGET_ROOT, METHOD_GET, VARIANT_LIST, NULL, handle_list },
	{ TARGET_ROOT, METHOD_GET, VARIANT_CHANGES, NULL, handle_changes },
	{ TARGET_ROOT, METHOD_GET, VARIANT_CHILDREN, NULL, handle_children },
	{ TARGET_ROOT, METHOD_GET, VARIANT_BACKUP, NULL, handle_backup },
	{ TARGET_ROOT, METHOD_POST, VARIANT_PLAIN, "POST", handle_commit },
	{ TARGET_ROOT, METHOD_POST, VARIANT_LOAD, NULL, handle_load },
	{ TARGET_ROOT, METHOD_POST, VARIANT_READ, NULL, handle_read_many },
	{ TARGET_KEY, METHOD_GET, VARIANT_PLAIN, "GET, HEAD", handle_get },
	{ TARGET_KEY, METHOD_GET, VARIANT_LIST, NULL, handle_list },
	{ TARGET_KEY, METHOD_GET, VARIANT_CHANGES, NULL, handle_changes },
	{ TARGET_KEY, METHOD_GET, VARIANT_CHILDREN, NULL, handle_children },
	{ TARGET_KEY, METHOD_PUT, VARIANT_ANY, "PUT", handle_put },
	{ TARGET_KEY, METHOD_DELETE, VARIANT_RECURSE, NULL, handle_delete_tree },
	{ TARGET_KEY, METHOD_DELETE, VARIANT_ANY, "DELETE", handle_delete },
	{ TARGET_CONNECT, METHOD_POST, VARIANT_ANY, "POST", connect_handle },
};

void route_dispatch(struct request *req, struct store *st, const struct config *cfg)
{
	enum target target = req->connect ? TARGET_CONNECT :
			     req->key_len == 0 ? TARGET_ROOT : TARGET_KEY;
	enum variant variant = variant_of(req);
	char allow[128] = "Allow: ";
	size_t n = strlen(allow);
	struct error err;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *r = &routes[i];

		if (r->target != target || r->method != req->method)
			continue;
		if (r->variant == VARIANT_ANY || r->variant == variant) {
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
	/* Under plain CGI a body left unread cuts the answer short. */
	body_discard(req->io);
	error_set(&err, 405, "method_not_allowed", "this method is not allowed here");
	reply_error_send(req, &err, allow);
}
