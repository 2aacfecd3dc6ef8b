/* feed.c: the change feed over HTTP: answers at once, long-polls, event
 * streams */
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "http_error.h"
#include "jsonbuf.h"
#include "record.h"
#include "render.h"
#include "reply.h"
#include "util.h"

/* A stream sends a comment line this often, so that proxies that close
 * idle connections leave it open. */
#define KEEPALIVE_MS 15000

/* Pages a stream sends in one go when changes pile up; the rest follow at
 * the next poll, which comes at once. */
#define STREAM_PAGES 8

/* The most of a waiting request's body that is read and dropped. */
#define DRAIN_MAX (64u << 10)

struct feed {
	struct request req;	/* the request, moved in: its key is the prefix */
	uint64_t since;		/* what the client has: changes after it are due */
	bool stream;		/* Server-Sent Events, else a long-poll */
	int64_t end_ms;		/* when the wait ends, or the stream */
	int64_t keepalive_ms;	/* a stream's next comment line */
	bool again;		/* a stream has more to send at once */
	bool slotted;
	unsigned slot;
	const struct feed_kind *kind;	/* another kind's, or NULL */
	void *kind_arg;
};

static bool wants_stream(const struct request *req)
{
	const char *accept = io_param(req->io, IO_HTTP_ACCEPT);

	return !req->head && accept != NULL && strcasestr(accept, "text/event-stream") != NULL;
}

/* Reads the changes after f->since into ch. */
static enum store_status fetch(struct feed *f, struct store *st, struct store_changes *ch,
			       bool has_since)
{
	memset(ch, 0, sizeof(*ch));
	ch->prefix = f->req.key;
	ch->prefix_len = f->req.key_len;
	ch->has_since = has_since;
	ch->since = f->since;
	ch->with_values = f->req.query.values;
	ch->limit = f->req.query.limit;
	return store_changes(st, ch);
}

static void answer_store_error(struct feed *f, enum store_status status)
{
	struct error err;
	const char *headers = http_error_from_store(status, f->req.key, NULL, &err);

	reply_error_send(&f->req, &err, headers);
}

static void answer(struct feed *f, const struct store_changes *ch)
{
	struct jsonbuf body;

	render_changes(&body, ch);
	reply_body(&f->req, 200, NULL, &body);
	jsonbuf_free(&body);
}

/* An event: the answer's versionstamp as its id, the answer as its data. */
static bool send_event(struct feed *f, const struct store_changes *ch)
{
	char vs[VERSIONSTAMP_LEN + 1], head[64];
	struct jsonbuf body;
	bool ok;

	record_format_vs(ch->versionstamp, vs);
	render_changes(&body, ch);
	snprintf(head, sizeof(head), "event: changes\nid: %s\ndata: ", vs);
	ok = !body.failed && reply_stream_write(&f->req, head, strlen(head)) &&
	     reply_stream_write(&f->req, body.data, body.len) &&
	     reply_stream_write(&f->req, "\n\n", 2);
	jsonbuf_free(&body);
	return ok;
}

/* Sends a stream the changes after f->since, a few pages at most. */
static enum feed_state stream_some(struct feed *f, struct store *st)
{
	struct store_changes ch;
	enum store_status status;

	f->again = false;
	for (int page = 0; page < STREAM_PAGES; page++) {
		if ((status = fetch(f, st, &ch, true)) != STORE_OK) {
			util_log("id=%s change stream ended: the store answered %d", f->req.id,
				 (int)status);
			return FEED_DONE;
		}
		if (ch.count > 0 && !send_event(f, &ch)) {
			store_changes_free(&ch);
			return FEED_DONE;	/* the client went away */
		}
		f->since = ch.versionstamp;
		f->again = ch.more;
		store_changes_free(&ch);
		if (!f->again)
			break;
	}
	return reply_stream_flush(&f->req) ? FEED_WAITING : FEED_DONE;
}

/* The feed's since, from the query or a stream's Last-Event-ID. */
static bool since_of(struct feed *f, bool *has, struct error *err)
{
	const char *last = io_param(f->req.io, IO_HTTP_LAST_EVENT_ID);

	*has = f->req.query.has_since;
	f->since = f->req.query.since;
	if (*has || !f->stream || last == NULL || *last == '\0')
		return true;
	if (record_parse_vs(last, strlen(last), &f->since) != RECORD_VS_OK)
		return error_set(err, 400, "invalid_query",
				 "Last-Event-ID must be a versionstamp: 20 lowercase hex digits");
	*has = true;
	return true;
}

static bool take_slot(struct feed *f, const struct config *cfg, struct wake *w)
{
	f->slotted = wake_claim(w, cfg->watch_max, &f->slot);
	return f->slotted;
}

static void refuse_slot(struct feed *f)
{
	struct error err;

	error_set(&err, 429, "too_many_watches",
		  "too many change feeds are waiting at this site; try again");
	reply_error_send(&f->req, &err, "Retry-After: 1\r\n");
}

/* Starts a stream: its headers, then the changes already there. */
static enum feed_state stream_begin(struct feed *f, struct store *st)
{
	static const char opened[] = ": change feed\n\n";

	if (!reply_stream_begin(&f->req, 200, "text/event-stream; charset=utf-8",
				"X-Accel-Buffering: no\r\n") ||
	    !reply_stream_write(&f->req, opened, sizeof(opened) - 1))
		return FEED_DONE;
	f->keepalive_ms = util_now_ms() + KEEPALIVE_MS;
	return stream_some(f, st);
}

/* The first look at a feed: what it answers at once, and whether it must
 * wait. */
static enum feed_state feed_open(struct feed *f, struct store *st, const struct config *cfg,
				 struct wake *w)
{
	struct store_changes ch;
	enum store_status status;
	struct error err;
	bool has_since;
	uint64_t start;
	uint64_t wait_ms = f->req.query.has_wait ? f->req.query.wait_ms : 0;

	if (!since_of(f, &has_since, &err)) {
		reply_error_send(&f->req, &err, NULL);
		return FEED_DONE;
	}
	if (f->stream && !f->req.query.has_wait)
		wait_ms = cfg->watch_wait_max_ms;
	if (wait_ms > cfg->watch_wait_max_ms)
		wait_ms = cfg->watch_wait_max_ms;
	f->end_ms = util_now_ms() + (int64_t)wait_ms;
	if (has_since)
		(void)feed_expire_due(st, cfg);
	start = f->since;
	if ((status = fetch(f, st, &ch, has_since)) != STORE_OK) {
		answer_store_error(f, status);
		return FEED_DONE;
	}
	/* A stream sends whole answers from where its client is: the first
	 * look's changes go again as its first event. */
	f->since = f->stream && has_since ? start : ch.versionstamp;
	if (!f->stream && (ch.count > 0 || ch.more || wait_ms == 0 || f->req.head)) {
		answer(f, &ch);
		store_changes_free(&ch);
		return FEED_DONE;
	}
	store_changes_free(&ch);
	if (!take_slot(f, cfg, w)) {
		refuse_slot(f);
		return FEED_DONE;
	}
	io_drain(f->req.io, DRAIN_MAX);
	return f->stream ? stream_begin(f, st) : FEED_WAITING;
}

enum feed_state feed_begin(struct request *req, struct store *st, const struct config *cfg,
			   struct wake *w, struct feed **out)
{
	struct feed *f = calloc(1, sizeof(*f));
	enum feed_state state;

	*out = NULL;
	if (f == NULL) {
		reply_out_of_memory(req);
		return FEED_DONE;
	}
	/* The request is the feed's from here: request_free() of the empty
	 * one the caller keeps frees nothing. */
	f->req = *req;
	memset(req, 0, sizeof(*req));
	f->stream = wants_stream(&f->req);
	state = feed_open(f, st, cfg, w);
	if (state == FEED_DONE) {
		*req = f->req;	/* the caller frees it as before */
		memset(&f->req, 0, sizeof(f->req));
		feed_free(f, w);
		return FEED_DONE;
	}
	*out = f;
	return FEED_WAITING;
}

enum feed_state feed_begin_kind(struct request *req, struct store *st, const struct config *cfg,
				struct wake *w, const struct feed_kind *kind, void *arg,
				struct feed **out)
{
	struct feed *f = calloc(1, sizeof(*f));

	*out = NULL;
	if (f == NULL) {
		kind->free(arg);
		reply_out_of_memory(req);
		return FEED_DONE;
	}
	f->req = *req;
	memset(req, 0, sizeof(*req));
	f->kind = kind;
	f->kind_arg = arg;
	if (!take_slot(f, cfg, w) || kind->start(arg, &f->req, st) == FEED_DONE) {
		if (!f->slotted)
			refuse_slot(f);
		*req = f->req;
		memset(&f->req, 0, sizeof(f->req));
		feed_free(f, w);
		return FEED_DONE;
	}
	*out = f;
	return FEED_WAITING;
}

enum feed_state feed_poll(struct feed *f, struct store *st, const struct config *cfg,
			  uint64_t current)
{
	int64_t now = util_now_ms();
	struct store_changes ch;
	enum store_status status;

	if (f->kind != NULL)
		return f->kind->poll(f->kind_arg, &f->req, st, current);
	if (f->stream) {
		if ((current > f->since || f->again) && stream_some(f, st) == FEED_DONE)
			return FEED_DONE;
		if (now >= f->end_ms)
			return FEED_DONE;
		if (now >= f->keepalive_ms) {
			static const char alive[] = ": keep-alive\n\n";

			f->keepalive_ms = now + KEEPALIVE_MS;
			if (!reply_stream_write(&f->req, alive, sizeof(alive) - 1) ||
			    !reply_stream_flush(&f->req))
				return FEED_DONE;
		}
		return FEED_WAITING;
	}
	if (current <= f->since && now < f->end_ms)
		return FEED_WAITING;
	if ((status = fetch(f, st, &ch, true)) != STORE_OK) {
		answer_store_error(f, status);
		return FEED_DONE;
	}
	f->since = ch.versionstamp;
	if (ch.count == 0 && !ch.more && now < f->end_ms) {
		store_changes_free(&ch);
		return FEED_WAITING;
	}
	answer(f, &ch);
	store_changes_free(&ch);
	(void)cfg;
	return FEED_DONE;
}

int64_t feed_due(const struct feed *f)
{
	if (f->kind != NULL)
		return f->kind->due(f->kind_arg);
	if (f->again)
		return 0;
	if (f->stream && f->keepalive_ms < f->end_ms)
		return f->keepalive_ms;
	return f->end_ms;
}

void feed_finish(struct feed *f)
{
	struct store_changes ch;

	if (f->kind != NULL) {
		f->kind->finish(f->kind_arg, &f->req);
		return;
	}
	if (f->stream)
		return;
	memset(&ch, 0, sizeof(ch));
	ch.versionstamp = f->since;
	answer(f, &ch);
}

void feed_set_io(struct feed *f, struct io *io)
{
	f->req.io = io;
}

void feed_free(struct feed *f, struct wake *w)
{
	if (f == NULL)
		return;
	if (f->slotted)
		wake_release(w, f->slot);
	if (f->kind != NULL)
		f->kind->free(f->kind_arg);
	request_free(&f->req);
	free(f);
}

int64_t feed_expire_due(struct store *st, const struct config *cfg)
{
	int64_t next = 0;

	if (!cfg->read_only)
		(void)store_expire_due(st, &next);
	return next;
}

void feed_wait(struct feed *f, struct store *st, const struct config *cfg, struct wake *w)
{
	int64_t next_expiry = feed_expire_due(st, cfg);
	uint64_t current;

	for (;;) {
		int64_t now = util_now_ms(), until = feed_due(f);
		bool stale = f->req.config_changed != NULL && f->req.config_changed(f->req.config_arg);
		int timeout = wake_timeout_ms(w);
		struct pollfd pfd = { .fd = wake_fd(w), .events = POLLIN };

		if (next_expiry != 0 && next_expiry < until)
			until = next_expiry;
		if (until - now < timeout)
			timeout = until > now ? (int)(until - now) : 0;
		(void)poll(&pfd, pfd.fd >= 0 ? 1 : 0, timeout);
		wake_drain(w);
		if (next_expiry != 0 && util_now_ms() >= next_expiry)
			next_expiry = feed_expire_due(st, cfg);
		if (store_versionstamp(st, &current) != STORE_OK)
			current = UINT64_MAX;	/* the poll's read answers the error */
		if (feed_poll(f, st, cfg, current) == FEED_DONE)
			break;
		if (stale) {
			feed_finish(f);
			break;
		}
		store_end_request(st);
	}
}
