/* connect_watch.c: KV Connect's watch: a stream of the watched keys'
 * values, a frame each time one of them changes
 *
 * The answer is a stream of frames, each a 32-bit little-endian length
 * and a WatchOutput; a length of 0 is a ping. The first frame marks every
 * key changed, as the client requires; later ones mark those whose
 * versionstamp moved. The request then waits as a change feed does
 * (feed.h): a FastCGI process parks it with its connection and polls it
 * when any process of the store commits, so that it holds no process
 * that other requests need. It ends when the feed streams' time is up,
 * and the client opens it again. */
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "connect.h"
#include "connect_key.h"
#include "feed.h"
#include "reply.h"
#include "util.h"

#include "kvconnect.pb-c.h"

/* Deno's own bound on the keys of one watch. */
#define WATCH_KEYS_MAX 10

/* A ping this often, as denokv sends them, so that idle proxies keep the
 * stream open. */
#define PING_MS 5000

struct watch {
	size_t n;
	unsigned char *keys[WATCH_KEYS_MAX];	/* Deno encodings, owned */
	size_t key_lens[WATCH_KEYS_MAX];
	unsigned char ends[WATCH_KEYS_MAX][CONNECT_KEY_MAX + 2];	/* each key ++ 00 */
	uint64_t sent[WATCH_KEYS_MAX];		/* versionstamp last sent; 0: absent */
	uint64_t seen;		/* the store's versionstamp at the last look */
	int64_t ping_ms;
	int64_t end_ms;
};

static void watch_free(void *arg)
{
	struct watch *w = arg;

	for (size_t i = 0; i < w->n; i++)
		free(w->keys[i]);
	free(w);
}

/* Reads each key as a one-key range, all from one snapshot. */
static enum store_status read_keys(struct watch *w, struct store *st, struct store_range *ranges)
{
	for (size_t i = 0; i < w->n; i++)
		ranges[i] = (struct store_range) {
			.start = w->keys[i], .start_len = w->key_lens[i],
			.end = w->ends[i], .end_len = w->key_lens[i] + 1, .limit = 1,
		};
	return store_read_ranges(st, ranges, w->n);
}

/* Sends one frame of every key, each marked changed, when the
 * versionstamp of any differs from the last sent (or always when all is
 * set): the CLI reads a key left unchanged as absent, so every frame
 * carries every key, as denokv's do. *sent says whether a frame went. */
static bool send_frame(struct watch *w, struct request *req, struct store_range *ranges, bool all,
		       bool *sent)
{
	Kvconnect__WatchOutput out;
	Kvconnect__WatchKeyOutput keys[WATCH_KEYS_MAX], *key_ptrs[WATCH_KEYS_MAX];
	Kvconnect__KvEntry entries[WATCH_KEYS_MAX];
	struct jsonbuf values[WATCH_KEYS_MAX];
	unsigned char stamps[WATCH_KEYS_MAX][CONNECT_VS_LEN];
	size_t n_values = 0, len;
	uint8_t *frame = NULL;
	bool ok = false;

	*sent = false;
	kvconnect__watch_output__init(&out);
	out.status = KVCONNECT__SNAPSHOT_READ_STATUS__SR_SUCCESS;
	out.keys = key_ptrs;
	out.n_keys = w->n;
	for (size_t i = 0; i < w->n; i++) {
		uint64_t vs = ranges[i].count > 0 ? ranges[i].entries[0].item.versionstamp : 0;

		all |= vs != w->sent[i];
		w->sent[i] = vs;
	}
	if (!all) {
		ok = true;
		goto out;
	}
	for (size_t i = 0; i < w->n; i++) {
		const struct store_range *r = &ranges[i];

		kvconnect__watch_key_output__init(&keys[i]);
		key_ptrs[i] = &keys[i];
		keys[i].changed = true;
		if (r->count == 0)
			continue;
		n_values++;
		if (!connect_entry(&r->entries[0], &values[n_values - 1], stamps[i], &entries[i]))
			goto out;
		keys[i].entry_if_changed = &entries[i];
	}
	*sent = true;
	len = kvconnect__watch_output__get_packed_size(&out);
	frame = malloc(4 + len);
	if (frame == NULL)
		goto out;
	for (int i = 0; i < 4; i++)
		frame[i] = (uint8_t)(len >> (8 * i));
	kvconnect__watch_output__pack(&out, frame + 4);
	ok = reply_stream_write(req, (const char *)frame, 4 + len) && reply_stream_flush(req);
out:
	for (size_t i = 0; i < n_values; i++)
		jsonbuf_free(&values[i]);
	free(frame);
	return ok;
}

/* Reads the keys and sends what changed. */
static bool look(struct watch *w, struct request *req, struct store *st, bool all)
{
	struct store_range ranges[WATCH_KEYS_MAX];
	bool sent, ok;

	if (read_keys(w, st, ranges) != STORE_OK) {
		util_log("id=%s watch ended: the store could not be read", req->id);
		return false;
	}
	ok = send_frame(w, req, ranges, all, &sent);
	store_ranges_free(ranges, w->n);
	if (sent)
		w->ping_ms = util_now_ms() + PING_MS;
	return ok;
}

static enum feed_state watch_poll(void *arg, struct request *req, struct store *st,
				  uint64_t current)
{
	struct watch *w = arg;
	int64_t now = util_now_ms();

	if (current > w->seen) {
		w->seen = current;
		if (!look(w, req, st, false))
			return FEED_DONE;
	}
	if (now >= w->end_ms)
		return FEED_DONE;
	if (now >= w->ping_ms) {
		static const char ping[4] = { 0 };

		w->ping_ms = now + PING_MS;
		if (!reply_stream_write(req, ping, sizeof(ping)) || !reply_stream_flush(req))
			return FEED_DONE;
	}
	return FEED_WAITING;
}

static int64_t watch_due(const void *arg)
{
	const struct watch *w = arg;

	return w->ping_ms < w->end_ms ? w->ping_ms : w->end_ms;
}

/* The stream's headers and its first frame, every key in it. */
static enum feed_state watch_start(void *arg, struct request *req, struct store *st)
{
	return reply_stream_begin(req, 200, "application/octet-stream",
				  "X-Accel-Buffering: no\r\n") &&
	       look(arg, req, st, true) ? FEED_WAITING : FEED_DONE;
}

/* A stream just ends: the client opens it again. */
static void watch_finish(void *arg, struct request *req)
{
}

static const struct feed_kind watch_kind = {
	.start = watch_start, .poll = watch_poll, .due = watch_due, .finish = watch_finish, .free = watch_free,
};

/* Reads the body's keys, each readable by the token. */
static bool read_watch(struct request *req, const Kvconnect__Watch *in, struct watch *w,
		       struct error *err)
{
	char path[KEYPATH_MAX + 1];
	size_t len;

	if (in->n_keys == 0 || in->n_keys > WATCH_KEYS_MAX)
		return error_set(err, 400, "invalid_body", "a watch takes 1 to %d keys",
				 WATCH_KEYS_MAX);
	for (size_t i = 0; i < in->n_keys; i++) {
		const ProtobufCBinaryData *key = &in->keys[i]->key;

		if (key->len == 0 || key->len > CONNECT_KEY_MAX)
			return error_set(err, 400, "invalid_key", "keys[%zu]: a key is 1 to %d bytes",
					 i, CONNECT_KEY_MAX);
		/* Grants cover the keypath of the key's leading segments. */
		connect_key_prefix(key->data, key->len, path, &len);
		keypath_decode(path, len, path);
		path[len] = '\0';
		if (!auth_permits(&req->client, path, len, AUTH_READ))
			return error_set(err, 403, "forbidden", "this token may not read %s",
					 len > 0 ? path : "every key");
		w->keys[i] = malloc(key->len);
		if (w->keys[i] == NULL)
			return error_set(err, 500, "internal", "out of memory");
		w->n = i + 1;
		memcpy(w->keys[i], key->data, key->len);
		memcpy(w->ends[i], key->data, key->len);
		w->ends[i][key->len] = 0x00;
		w->key_lens[i] = key->len;
	}
	return true;
}

void connect_watch(struct request *req, struct store *st, const struct config *cfg)
{
	struct wake *wk = req->wake != NULL ? req->wake : store_wake(st);
	struct feed **park = req->park;
	Kvconnect__Watch *in = NULL;
	struct watch *w = calloc(1, sizeof(*w));
	struct feed *f;
	struct error err;

	if (w == NULL) {
		reply_out_of_memory(req);
		goto out;
	}
	if (!body_read(req, cfg->max_body, &err))
		goto refuse;
	in = kvconnect__watch__unpack(NULL, req->body_len, (const uint8_t *)req->body);
	if (in == NULL) {
		error_set(&err, 400, "invalid_body", "the body is not a Watch message");
		goto refuse;
	}
	if (!read_watch(req, in, w, &err))
		goto refuse;
	if (store_versionstamp(st, &w->seen) != STORE_OK)
		w->seen = 0;
	w->end_ms = util_now_ms() + cfg->watch_wait_max_ms;
	w->ping_ms = util_now_ms() + PING_MS;
	/* From here w is the waiting request's. */
	if (feed_begin_kind(req, st, cfg, wk, &watch_kind, w, &f) == FEED_WAITING) {
		if (park != NULL) {
			*park = f;
		} else {
			feed_wait(f, st, cfg, wk);
			feed_free(f, wk);
		}
	}
	w = NULL;
	goto out;
refuse:
	reply_error_send(req, &err, NULL);
out:
	if (w != NULL)
		watch_free(w);
	if (in != NULL)
		kvconnect__watch__free_unpacked(in, NULL);
}
