/* redirect.c: what a site of a replicated group does not answer itself */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "redirect.h"
#include "render.h"
#include "reply.h"
#include "util.h"

/* Whether the client asked for the master's view. */
static bool wants_consistent(const struct request *req)
{
	const char *h = io_param(req->io, IO_HTTP_KV_CONSISTENT);

	return req->query.consistent || (h != NULL && strcmp(h, "true") == 0);
}

static void send_no_master(struct request *req)
{
	struct error err;

	body_discard(req->io);
	error_set(&err, 503, "unavailable",
		  "this site of a replicated group knows no master now (an election, or it "
		  "is cut off); try again");
	reply_error_send(req, &err, "Retry-After: 1\r\n");
}

/* "Location: " the master's URL, the request's keypath and its query. */
static char *location(const struct request *req, const char *url)
{
	const char *qs = io_param(req->io, IO_QUERY_STRING);
	const char *path = "";
	size_t path_len = 0, size;
	char *out;

	if (!request_raw_keypath(req, &path, &path_len))
		path_len = 0;
	if (qs == NULL)
		qs = "";
	size = strlen(url) + path_len + strlen(qs) + 32;
	if ((out = malloc(size)) == NULL)
		return NULL;
	snprintf(out, size, "Location: %s/%.*s%s%s\r\n", url, (int)path_len, path,
		 *qs != '\0' ? "?" : "", qs);
	return out;
}

static void send_to_master(struct request *req, const struct config_site *master, const char *why)
{
	struct error err;
	struct jsonbuf body;
	char address[300];
	char *headers;

	if (master->url == NULL) {
		send_no_master(req);
		return;
	}
	if ((headers = location(req, master->url)) == NULL) {
		reply_out_of_memory(req);
		return;
	}
	body_discard(req->io);
	snprintf(address, sizeof(address), "%s:%u", master->host, (unsigned)master->port);
	error_set(&err, 307, "not_master", "%s; the master is at %s", why, master->url);
	render_redirect(&body, &err, address, master->url);
	reply_body(req, 307, headers, &body);
	jsonbuf_free(&body);
	free(headers);
}

void redirect_send(struct request *req, struct store *st, enum store_status status)
{
	struct store_site site;

	if (status == STORE_NOT_MASTER && store_site(st, &site) == STORE_OK &&
	    site.master_site != NULL && !site.master)
		send_to_master(req, site.master_site, "this site is a replica");
	else
		send_no_master(req);
}

/* A read that must see the write of a commit token: STORE_OK once it is
 * applied here. */
static bool wait_applied(struct request *req, struct store *st, const char *token)
{
	enum store_status status = store_wait_applied(st, token, REDIRECT_APPLIED_WAIT_MS);
	struct error err;

	if (status == STORE_OK)
		return true;
	if (status == STORE_INVALID) {
		error_set(&err, 400, "invalid_header",
			  "KV-Commit-Token must be a token a write's answer gave");
		reply_error_send(req, &err, NULL);
	} else if (status == STORE_NOT_MASTER || status == STORE_NO_MASTER) {
		redirect_send(req, st, status);
	} else {
		error_set(&err, 503, "unavailable", "the store is unavailable; try again later");
		reply_error_send(req, &err, "Retry-After: 5\r\n");
	}
	return false;
}

/* A consistent read at the master: served once a write of nothing has
 * been acknowledged as the ack policy asks, which a site that a newer
 * master has replaced cannot get. */
static bool confirm_master(struct request *req, struct store *st)
{
	enum store_status status = store_barrier(st);
	struct error err;

	if (status == STORE_OK)
		return true;
	if (status == STORE_NOT_MASTER || status == STORE_NO_MASTER) {
		redirect_send(req, st, status);
		return false;
	}
	error_set(&err, 503, "unavailable",
		  "this site cannot confirm that it is still the master; try again");
	reply_error_send(req, &err, "Retry-After: 1\r\n");
	return false;
}

/* Adds a "Name: value" line to the headers every reply of req carries. */
static void common_header(struct request *req, const char *line)
{
	size_t used = strlen(req->common_headers);

	snprintf(req->common_headers + used, sizeof(req->common_headers) - used, "%s", line);
}

bool redirect_pass(struct request *req, struct store *st, const struct config *cfg)
{
	struct store_site site;
	const char *token;
	bool consistent;

	/* A write reaches the store, which refuses it at a replica
	 * (redirect_send), without asking first. */
	if (!cfg->replication || request_is_write(req))
		return true;
	/* The store's own failure (503 unavailable, say) is the handler's
	 * to answer; what it reads may be stale. */
	if (store_site_recent(st, REDIRECT_SITE_AGE_MS, &site) != STORE_OK) {
		common_header(req, "KV-Possibly-Stale: true\r\n");
		return true;
	}
	consistent = wants_consistent(req);
	if (site.master && consistent)
		return confirm_master(req, st);
	if (site.confirmed)
		return true;
	if (site.master)
		goto stale;
	if (consistent) {
		redirect_send(req, st, site.master_site != NULL ? STORE_NOT_MASTER
								 : STORE_NO_MASTER);
		return false;
	}
	token = io_param(req->io, IO_HTTP_KV_COMMIT_TOKEN);
	if (token != NULL && !wait_applied(req, st, token))
		return false;
stale:
	/* A replica, or a master cut off from too many sites to know that
	 * it still is one. */
	common_header(req, "KV-Possibly-Stale: true\r\n");
	return true;
}

void redirect_note_commit(struct request *req, const struct store *st)
{
	char token[STORE_TOKEN_TEXT + 1], line[STORE_TOKEN_TEXT + 32];

	if (!store_commit_token(st, token))
		return;
	snprintf(line, sizeof(line), "KV-Commit-Token: %s\r\n", token);
	common_header(req, line);
}
