/* request.h: what one HTTP request asks for, read from the web server */
#ifndef KV_REQUEST_H
#define KV_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "config.h"
#include "error.h"
#include "io.h"

struct feed;
struct wake;

enum method {
	METHOD_GET,	/* HEAD too: see request.head */
	METHOD_PUT,
	METHOD_DELETE,
	METHOD_POST,
	METHOD_OTHER,
};

/* The longest X-Request-Id kept from a client or proxy; a longer one is
 * replaced by an id of our own. */
#define REQUEST_ID_MAX 64

/* The parameters of the query string: a list's, a change feed's, and the
 * root's backup and load. */
struct query {
	bool list;
	bool reverse;
	bool reverse_given;
	bool values;
	unsigned limit;
	char *cursor;		/* owned; NULL when absent */
	bool changes;
	bool has_since;
	uint64_t since;
	bool has_wait;
	uint64_t wait_ms;
	bool backup;
	bool load;
	unsigned depth;		/* a list's depth=1; 0: every key under the prefix */
	bool recurse;		/* DELETE ?recurse=true: the whole subtree */
	bool read;		/* POST /kv/?read=true: many keys at once */
	bool consistent;	/* served by a replicated group's master */
	bool others;		/* any parameter but backup and load was given */
};

struct request {
	struct io *io;
	/* Sent back as X-Request-Id and written in every log line about the
	 * request: the client's or proxy's when sane, else made here. */
	char id[REQUEST_ID_MAX + 1];
	enum method method;
	bool head;		/* HEAD: answer as GET, without the body */
	char *key;		/* owned: decoded dotted keypath, "" for the root */
	size_t key_len;
	/* {mount}/.connect and below: Deno's KV Connect (connect.h), and key
	 * is what follows ".connect/" (or "" for .connect itself), no keypath */
	bool connect;
	struct query query;
	/* Header values; they point into the web server's parameters and are
	 * valid until the request is finished. */
	const char *if_match;
	const char *if_none_match;
	char *body;		/* owned, NUL-terminated; NULL until read */
	size_t body_len;
	/* Set by gate_pass() before any handler runs: who asks, and the
	 * "Name: value\r\n" lines (RateLimit-*) that every reply carries. */
	struct auth_client client;
	char common_headers[256];
	/* Where a change feed that must wait goes (feed.h): a FastCGI
	 * process parks it in *park and polls it with wake; with park NULL
	 * the handler waits for it (plain CGI). */
	struct feed **park;
	struct wake *wake;
	/* The store the request is served from, for answers that name
	 * another site (redirect.h). */
	struct store *store;
	/* Without park: whether the configuration file changed since the
	 * request began, which ends a feed waiting in the handler. */
	bool (*config_changed)(const void *arg);
	const void *config_arg;
};

/* Makes the ids of requests that bring none: one per process, set up by
 * request_ids_init() before the first request. */
struct request_ids {
	uint64_t state;
};

void request_ids_init(struct request_ids *ids);

/* Reads the method, the keypath and the query of the request on io, whose
 * variables io_begin() has read; ids makes its id if it brings none. On
 * bad input returns false with err filled (400 invalid_key or
 * invalid_query, 500 when out of memory); req must be freed with
 * request_free() either way, and can carry the error's reply. */
bool request_parse(struct request *req, struct io *io, struct request_ids *ids, struct error *err);

/* Parses a query string (NULL or "" for none) into q, which starts zeroed
 * and gets the defaults first. Returns false with err filled (400
 * invalid_query) when it is bad. q->cursor is owned by q either way.
 * Needs no request, so that it can be fuzzed. */
bool request_parse_query(const char *qs, struct query *q, struct error *err);

/* Decodes a list's cursor (NULL for none), the hex of the last key of the
 * previous page: it must name a valid key strictly under the listed
 * prefix (prefix_len bytes, 0 for the root). Sets *after to the decoded
 * key, which the caller frees, or to NULL without a cursor; returns false
 * with err filled (400 invalid_query) for any other cursor. */
bool request_parse_cursor(const char *cursor, const char *prefix, size_t prefix_len,
			  char **after, size_t *after_len, struct error *err);

/* GET (or HEAD) /kv/?backup=true: the backup of the whole store. */
bool request_is_backup(const struct request *req);

/* POST /kv/?load=true: the load of a backup. */
bool request_is_load(const struct request *req);

/* POST /kv/?read=true: a read of many keys (a load if load=true too). */
bool request_is_read_many(const struct request *req);

/* PUT, DELETE, and every POST but a read of many keys. */
bool request_is_write(const struct request *req);

/* The keypath as the client sent it, still percent-encoded, without the
 * mount point and the '/' after it: what a redirect appends to another
 * site's base URL. False when the request URI is outside the mount. */
bool request_raw_keypath(const struct request *req, const char **path, size_t *len);

void request_free(struct request *req);

#endif
