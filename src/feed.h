/* feed.h: the change feed over HTTP: answers at once, long-polls, event
 * streams
 *
 * GET /kv/{prefix}?changes=true answers at once when it can. A long-poll
 * with nothing to answer yet, and an event stream, must wait: the feed
 * then takes one of the site's waiting-feed slots (wake.h) and the
 * request becomes the feed's. A FastCGI process parks it and goes on
 * serving other requests, calling feed_poll() whenever any process of the
 * store commits (the wake file says so) and at feed_due(); a plain CGI
 * process waits for it in feed_wait(). */
#ifndef KV_FEED_H
#define KV_FEED_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "io.h"
#include "request.h"
#include "store.h"
#include "wake.h"

struct feed;

enum feed_state {
	FEED_DONE,	/* the request is answered (or its client gone) */
	FEED_WAITING,	/* the feed waits; the caller polls it */
};

/* Serves a feed request. FEED_WAITING with *out set when it must wait:
 * the request then belongs to the feed (req is left empty for
 * request_free) and w holds its slot. */
enum feed_state feed_begin(struct request *req, struct store *st, const struct config *cfg,
			   struct wake *w, struct feed **out);

/* A waiting request of another kind (KV Connect's watch) on the same
 * slots, parking and polling: its own start once it holds a slot, poll,
 * due time, end for a process that stops, and free of arg. */
struct feed_kind {
	enum feed_state (*start)(void *arg, struct request *req, struct store *st);
	enum feed_state (*poll)(void *arg, struct request *req, struct store *st,
				uint64_t current);
	int64_t (*due)(const void *arg);
	void (*finish)(void *arg, struct request *req);
	void (*free)(void *arg);
};

/* Makes req a waiting request of that kind, which then owns arg: as
 * feed_begin(), FEED_DONE when no slot is free (answered 429
 * too_many_watches) or when its start says so. */
enum feed_state feed_begin_kind(struct request *req, struct store *st, const struct config *cfg,
				struct wake *w, const struct feed_kind *kind, void *arg,
				struct feed **out);

/* Looks again: answers a long-poll that has changes or whose wait ended,
 * sends a stream its new changes or a keep-alive, ends a stream whose
 * time is up. current is the store's versionstamp, read once for every
 * feed a process polls: a feed already past it reads nothing. */
enum feed_state feed_poll(struct feed *f, struct store *st, const struct config *cfg,
			  uint64_t current);

/* When the feed must be polled at the latest, in util_now_ms() time. */
int64_t feed_due(const struct feed *f);

/* Ends the feed now, for a process that stops: a long-poll answers that
 * nothing changed, a stream ends. */
void feed_finish(struct feed *f);

/* The connection of a parked feed, moved by the caller to where it
 * keeps it. */
void feed_set_io(struct feed *f, struct io *io);

/* Releases the feed's slot and frees it; the connection stays the
 * caller's to finish. */
void feed_free(struct feed *f, struct wake *w);

/* Waits in this process until the feed is done (plain CGI). */
void feed_wait(struct feed *f, struct store *st, const struct config *cfg, struct wake *w);

/* Removes the keys whose expiry passed, unless the service is read-only;
 * the earliest expiry still ahead (0 for none), for a waiter's timer. */
int64_t feed_expire_due(struct store *st, const struct config *cfg);

#endif
