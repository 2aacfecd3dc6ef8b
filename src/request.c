/* request.c: what one HTTP request asks for, read from the web server
 *
 * The keypath comes from the raw REQUEST_URI, not from PATH_INFO: web
 * servers decode and normalise PATH_INFO (lighttpd turns control bytes
 * into '_', both collapse ".." and "//"), and a key must never silently
 * become another. PATH_INFO is used only where no REQUEST_URI is given. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

#include "keypath.h"
#include "record.h"
#include "request.h"
#include "util.h"

/* The contract's bounds on list pages. */
#define LIST_LIMIT_MAX 1000

/* A percent-encoded keypath is at most three bytes per decoded byte. */
#define RAW_KEYPATH_MAX (3 * KEYPATH_MAX)

static const char invalid_key_rules[] =
	"segments are 1 or more bytes of UTF-8 without '.', '/' or control characters";

static enum method parse_method(const char *name, bool *head)
{
	*head = false;
	if (name == NULL)
		return METHOD_OTHER;
	if (strcmp(name, "GET") == 0)
		return METHOD_GET;
	if (strcmp(name, "HEAD") == 0) {
		*head = true;
		return METHOD_GET;
	}
	if (strcmp(name, "PUT") == 0)
		return METHOD_PUT;
	if (strcmp(name, "DELETE") == 0)
		return METHOD_DELETE;
	if (strcmp(name, "POST") == 0)
		return METHOD_POST;
	return METHOD_OTHER;
}

/* How many bytes at the start of uri[0..uri_len) spell the mount point,
 * or -1 when they do not. SCRIPT_NAME is decoded and REQUEST_URI is not:
 * a client may send the mount's bytes percent-encoded (%7Euser for ~user),
 * so each is compared as it decodes. */
static long mount_length(const char *uri, size_t uri_len, const char *mount)
{
	size_t i = 0;

	for (; *mount != '\0'; mount++) {
		int hi, lo;

		if (i < uri_len && uri[i] == (char)*mount && uri[i] != '%') {
			i++;
			continue;
		}
		if (uri_len - i < 3 || uri[i] != '%')
			return -1;
		hi = util_hex_value((unsigned char)uri[i + 1]);
		lo = util_hex_value((unsigned char)uri[i + 2]);
		if (hi < 0 || lo < 0 || (char)(hi << 4 | lo) != *mount)
			return -1;
		i += 3;
	}
	return (long)i;
}

/* Finds the still-encoded keypath: REQUEST_URI without its query string and
 * mount point, or failing that PATH_INFO, which is already decoded. */
static bool locate_keypath(const struct io *io, const char **path, size_t *len, bool *encoded)
{
	const char *uri = io_param(io, IO_REQUEST_URI);
	const char *mount = io_param(io, IO_SCRIPT_NAME);

	if (uri != NULL) {
		size_t uri_len = strcspn(uri, "?");
		long skip = mount_length(uri, uri_len, mount != NULL ? mount : "");

		if (skip < 0)
			return false;
		*path = uri + skip;
		*len = uri_len - (size_t)skip;
		*encoded = true;
	} else {
		*path = io_param(io, IO_PATH_INFO);
		if (*path == NULL)
			*path = "";
		*len = strlen(*path);
		*encoded = false;
	}
	if (*len > 0 && **path != '/')
		return false;
	if (*len > 0) {
		(*path)++;
		(*len)--;
	}
	return true;
}

/* KV Connect lives at the mount's ".connect", which no keypath can be
 * (a keypath starts with a segment): what follows "/" there becomes the
 * request's key. */
static bool take_connect(struct request *req)
{
	static const char name[] = ".connect";
	size_t n = sizeof(name) - 1;

	if (req->key_len < n || memcmp(req->key, name, n) != 0 ||
	    (req->key_len > n && req->key[n] != '/'))
		return false;
	n += req->key_len > n;
	req->key_len -= n;
	memmove(req->key, req->key + n, req->key_len + 1);
	req->connect = true;
	return true;
}

static bool parse_keypath(struct request *req, struct error *err)
{
	const char *path;
	size_t len;
	bool encoded;

	if (!locate_keypath(req->io, &path, &len, &encoded))
		return error_set(err, 400, "invalid_key",
				 "the request URI is outside the service's mount point");
	if (len > RAW_KEYPATH_MAX)
		return error_set(err, 400, "invalid_key", "a keypath is at most %d bytes", KEYPATH_MAX);
	req->key = malloc(len + 1);
	if (req->key == NULL)
		return error_set(err, 500, "internal", "out of memory");
	if (!encoded) {
		memcpy(req->key, path, len);
		req->key_len = len;
	} else if (!keypath_unescape(path, len, req->key, &req->key_len)) {
		return error_set(err, 400, "invalid_key", "bad percent-encoding in the keypath");
	}
	req->key[req->key_len] = '\0';
	if (take_connect(req))
		return true;
	if (req->key_len > KEYPATH_MAX)
		return error_set(err, 400, "invalid_key", "a keypath is at most %d bytes", KEYPATH_MAX);
	if (req->key_len > 0 && !keypath_valid(req->key, req->key_len))
		return error_set(err, 400, "invalid_key", "invalid keypath: %s", invalid_key_rules);
	return true;
}

/* Decodes a query-string component: '+' for a space as HTML forms send
 * it, then %XX escapes, so that %2B stays a '+'. out has room for len + 1
 * bytes; the escapes are decoded in place, which never writes ahead of
 * what it reads. */
static bool query_unescape(const char *in, size_t len, char *out)
{
	size_t n;

	for (size_t i = 0; i < len; i++)
		out[i] = in[i] == '+' ? ' ' : in[i];
	if (!keypath_unescape(out, len, out, &n))
		return false;
	out[n] = '\0';
	return strlen(out) == n;	/* no NUL byte inside */
}

static bool parse_bool(const char *s, bool *out)
{
	if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
		*out = true;
	else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
		*out = false;
	else
		return false;
	return true;
}

static bool query_bool(const char *name, const char *value, bool *out, struct error *err)
{
	if (parse_bool(value, out))
		return true;
	return error_set(err, 400, "invalid_query", "%s must be true, false, 1 or 0", name);
}

/* Applies one name=value pair. Parameters the service does not know are
 * ignored. */
static bool apply_param(struct query *q, const char *name, char *value, struct error *err)
{
	uint64_t n;

	if (strcmp(name, "backup") == 0)
		return query_bool(name, value, &q->backup, err);
	if (strcmp(name, "load") == 0)
		return query_bool(name, value, &q->load, err);
	q->others = true;
	if (strcmp(name, "list") == 0)
		return query_bool(name, value, &q->list, err);
	if (strcmp(name, "reverse") == 0) {
		q->reverse_given = true;
		return query_bool(name, value, &q->reverse, err);
	}
	if (strcmp(name, "changes") == 0)
		return query_bool(name, value, &q->changes, err);
	if (strcmp(name, "since") == 0) {
		if (record_parse_vs(value, strlen(value), &q->since) != RECORD_VS_OK)
			return error_set(err, 400, "invalid_query",
					 "since must be a versionstamp: 20 lowercase hex digits");
		q->has_since = true;
		return true;
	}
	if (strcmp(name, "wait") == 0) {
		if (!util_parse_u64(value, strlen(value), &q->wait_ms))
			return error_set(err, 400, "invalid_query",
					 "wait must be a whole number of milliseconds");
		q->has_wait = true;
		return true;
	}
	if (strcmp(name, "values") == 0)
		return query_bool(name, value, &q->values, err);
	if (strcmp(name, "limit") == 0) {
		if (!util_parse_u64(value, strlen(value), &n) || n < 1 || n > LIST_LIMIT_MAX)
			return error_set(err, 400, "invalid_query",
					 "limit must be an integer from 1 to %d", LIST_LIMIT_MAX);
		q->limit = (unsigned)n;
		return true;
	}
	if (strcmp(name, "depth") == 0) {
		if (strcmp(value, "1") != 0)
			return error_set(err, 400, "invalid_query", "depth must be 1");
		q->depth = 1;
		return true;
	}
	if (strcmp(name, "recurse") == 0)
		return query_bool(name, value, &q->recurse, err);
	if (strcmp(name, "read") == 0)
		return query_bool(name, value, &q->read, err);
	if (strcmp(name, "consistent") == 0)
		return query_bool(name, value, &q->consistent, err);
	if (strcmp(name, "cursor") == 0) {
		free(q->cursor);
		q->cursor = strdup(value);
		if (q->cursor == NULL)
			return error_set(err, 500, "internal", "out of memory");
	}
	return true;
}

/* Decodes and applies one name[=value] component, len bytes at p; buf
 * has room for its name and value, each with its terminator. */
static bool apply_component(struct query *q, const char *p, size_t len, char *buf,
			    struct error *err)
{
	size_t name_len = strcspn(p, "=&");
	size_t skip = name_len + (name_len < len);	/* the name and its '=' */
	char *value = buf + name_len + 1;

	if (!query_unescape(p, name_len, buf) || !query_unescape(p + skip, len - skip, value))
		return error_set(err, 400, "invalid_query", "bad percent-encoding in the query string");
	return apply_param(q, buf, value, err);
}

bool request_parse_query(const char *qs, struct query *q, struct error *err)
{
	bool ok = true;
	char *buf;

	q->limit = LIST_LIMIT_MAX;
	q->values = true;
	if (qs == NULL || *qs == '\0')
		return true;
	/* Each name and value is decoded into buf with its terminator after
	 * it, the value starting one byte past the name's: a last parameter
	 * without '=' ("?list") puts its empty value at strlen(qs) + 1. */
	buf = malloc(strlen(qs) + 2);
	if (buf == NULL)
		return error_set(err, 500, "internal", "out of memory");
	for (const char *p = qs; *p != '\0' && ok;) {
		size_t len = strcspn(p, "&");

		if (len > 0)
			ok = apply_component(q, p, len, buf, err);
		p += len + (p[len] == '&');
	}
	free(buf);
	if (ok && q->changes && (q->list || q->reverse_given || q->cursor != NULL))
		ok = error_set(err, 400, "invalid_query",
			       "a change feed takes since, wait, limit and values, not list, "
			       "cursor or reverse");
	return ok;
}

bool request_parse_cursor(const char *cursor, const char *prefix, size_t prefix_len,
			  char **after, size_t *after_len, struct error *err)
{
	size_t hex_len, len;
	char *key = NULL;
	bool ok = false;

	*after = NULL;
	*after_len = 0;
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
	if (!keypath_valid(key, len) || len <= prefix_len ||
	    (prefix_len > 0 && (memcmp(key, prefix, prefix_len) != 0 || key[prefix_len] != '.')))
		goto out;
	*after = key;
	*after_len = len;
	key = NULL;
	ok = true;
out:
	free(key);
	if (!ok)
		error_set(err, 400, "invalid_query", "the cursor is not one this listing gave out");
	return ok;
}

/* An X-Request-Id is kept when it is 1 to REQUEST_ID_MAX bytes of letters,
 * digits and "-_.:+/=@": enough for UUIDs, hex and base64 ids, and nothing
 * that could break a response header or a log line. */
static bool id_is_sane(const char *id)
{
	static const char allowed[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:+/=@";
	size_t len = strspn(id, allowed);

	return len > 0 && len <= REQUEST_ID_MAX && id[len] == '\0';
}

/* A fresh id is 64 bits in hex from a splitmix64 sequence. The ids only
 * tie log lines to responses and need not be secret, only unique across
 * processes, restarts and hosts without a counter shared between them: a
 * per-process sequence seeded from the kernel does that with one
 * getrandom(2) per process rather than one per request. */
_Static_assert(REQUEST_ID_MAX >= 16, "a made id is 16 hex digits");

/* The seed is random, and the pid goes in as well, so that two processes
 * start different sequences even should the kernel have no randomness yet
 * (early boot) and the clock stand in for it. */
void request_ids_init(struct request_ids *ids)
{
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (uint64_t)ts.tv_sec << 20 ^ (uint64_t)ts.tv_nsec;
	}
	ids->state = seed ^ (uint64_t)getpid() << 40;
}

/* splitmix64: the state steps by an odd constant and is then scrambled by
 * a bijection, so a process repeats no id before 2^64 of them. */
static uint64_t next_id(struct request_ids *ids)
{
	uint64_t z = ids->state += UINT64_C(0x9e3779b97f4a7c15);

	z = (z ^ z >> 30) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ z >> 27) * UINT64_C(0x94d049bb133111eb);
	return z ^ z >> 31;
}

static void make_id(struct request_ids *ids, char *out)
{
	unsigned char raw[8];

	util_put_be64(raw, next_id(ids));
	util_hex_encode(raw, sizeof(raw), out);
	out[2 * sizeof(raw)] = '\0';
}

static void set_id(struct request *req, struct request_ids *ids)
{
	const char *given = io_param(req->io, IO_HTTP_X_REQUEST_ID);

	if (given != NULL && id_is_sane(given))
		memcpy(req->id, given, strlen(given) + 1);
	else
		make_id(ids, req->id);
}

bool request_parse(struct request *req, struct io *io, struct request_ids *ids, struct error *err)
{
	memset(req, 0, sizeof(*req));
	req->io = io;
	set_id(req, ids);
	req->method = parse_method(io_param(io, IO_REQUEST_METHOD), &req->head);
	req->if_match = io_param(io, IO_HTTP_IF_MATCH);
	req->if_none_match = io_param(io, IO_HTTP_IF_NONE_MATCH);
	return parse_keypath(req, err) &&
	       request_parse_query(io_param(io, IO_QUERY_STRING), &req->query, err);
}

bool request_is_backup(const struct request *req)
{
	return req->method == METHOD_GET && req->key_len == 0 && req->query.backup;
}

bool request_is_load(const struct request *req)
{
	return req->method == METHOD_POST && req->key_len == 0 && req->query.load;
}

bool request_is_read_many(const struct request *req)
{
	return req->method == METHOD_POST && req->key_len == 0 && req->query.read &&
	       !req->query.load;
}

bool request_is_write(const struct request *req)
{
	enum method m = req->method;

	return m == METHOD_PUT || m == METHOD_DELETE || (m == METHOD_POST && !request_is_read_many(req));
}

bool request_raw_keypath(const struct request *req, const char **path, size_t *len)
{
	bool encoded;

	return locate_keypath(req->io, path, len, &encoded);
}

void request_free(struct request *req)
{
	free(req->key);
	free(req->query.cursor);
	free(req->body);
	memset(req, 0, sizeof(*req));
}
