/* connect_read.c: KV Connect's snapshot_read: key ranges from one
 * snapshot, their values in Deno's encodings */
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "connect.h"
#include "connect_key.h"
#include "http_error.h"
#include "reply.h"
#include "util.h"

#include "kvconnect.pb-c.h"

/* Deno's own bounds on a read, checked again here. */
#define READ_RANGES_MAX 10
#define READ_ENTRIES_MAX 1000
#define READ_KEY_MAX 2049

/* Each range needs a read grant on the keypath its bounds share: every
 * key between two byte strings starts with their common bytes, so every
 * key of the range lies at or under the whole string parts among them
 * (a get names its key, a list by prefix its prefix, and a range over
 * everything the root). */
static bool range_permitted(const struct request *req, const Kvconnect__ReadRange *r,
			    struct error *err)
{
	char prefix[KEYPATH_MAX + 1];
	size_t common = 0, n;

	while (common < r->start.len && common < r->end.len &&
	       r->start.data[common] == r->end.data[common])
		common++;
	connect_key_prefix(r->start.data, common, prefix, &n);
	keypath_decode(prefix, n, prefix);
	prefix[n] = '\0';
	if (auth_permits(&req->client, prefix, n, AUTH_READ))
		return true;
	return error_set(err, 403, "forbidden", "this token may not read %s",
			 n > 0 ? prefix : "every key");
}

/* Node's @deno/kv reads a key K (get, getMany, a check's read) as the
 * range from K to the end of the keyspace, FF, limit 1, and keeps the
 * entry when it is K. Such a range is read within the widest read grant
 * that covers K: its end is cut at the end of that grant's subtree, so
 * that what comes back is K or a key the token may read, and the get
 * answers as it would unbounded. Writes the cut end into end
 * (READ_KEY_MAX + 1 bytes) and returns its length; 0 when the range is
 * not of that shape or no grant covers K. */
static size_t cut_get(const struct request *req, const Kvconnect__ReadRange *r, unsigned char *end)
{
	char path[KEYPATH_MAX + 1];
	size_t n, seg = 0, part = 0;
	size_t used = connect_key_prefix(r->start.data, r->start.len, path, &n);

	if (r->limit != 1 || r->end.len != 1 || r->end.data[0] != 0xff || used == 0)
		return 0;
	keypath_decode(path, n, path);
	while (seg < n) {
		/* The next segment's end in the keypath, and its part's in the
		 * key: past the 00 that closes it (a segment holds none). */
		while (seg < n && path[seg] != '.')
			seg++;
		while (r->start.data[part] != 0x00)
			part++;
		part++;
		if (auth_permits(&req->client, path, seg, AUTH_READ)) {
			memcpy(end, r->start.data, part);
			end[part] = 0xff;
			return part + 1;
		}
		seg++;
	}
	return 0;
}

/* Checks the request's bounds and grants, and fills the store's ranges;
 * a cut end goes into ends (READ_KEY_MAX + 1 bytes a range). */
static bool read_ranges(const struct request *req, const Kvconnect__SnapshotRead *in,
			struct store_range *ranges, unsigned char *ends, struct error *err)
{
	size_t total = 0;

	for (size_t i = 0; i < in->n_ranges; i++) {
		const Kvconnect__ReadRange *r = in->ranges[i];

		if (r->limit <= 0 || (total += (size_t)r->limit) > READ_ENTRIES_MAX)
			return error_set(err, 400, "invalid_body",
					 "ranges[%zu]: a limit is from 1, and a read's limits add up to "
					 "at most %d", i, READ_ENTRIES_MAX);
		if (r->start.len > READ_KEY_MAX || r->end.len > READ_KEY_MAX)
			return error_set(err, 400, "invalid_key",
					 "ranges[%zu]: a bound is at most %d bytes", i, READ_KEY_MAX);
		ranges[i] = (struct store_range) {
			.start = r->start.data, .start_len = r->start.len,
			.end = r->end.data, .end_len = r->end.len,
			.limit = (unsigned)r->limit, .reverse = r->reverse,
		};
		if (!range_permitted(req, r, err)) {
			unsigned char *end = ends + i * (READ_KEY_MAX + 1);
			size_t cut = cut_get(req, r, end);

			if (cut == 0)
				return false;
			ranges[i].end = end;
			ranges[i].end_len = cut;
		}
	}
	return true;
}

/* The message's entries point into these, freed after the reply. */
struct answer {
	Kvconnect__ReadRangeOutput *outputs;
	Kvconnect__ReadRangeOutput **output_ptrs;
	Kvconnect__KvEntry *entries;
	Kvconnect__KvEntry **entry_ptrs;
	struct jsonbuf *values;
	unsigned char *stamps;	/* CONNECT_VS_LEN per entry */
	size_t n_entries;
};

static void answer_free(struct answer *a)
{
	for (size_t i = 0; a->values != NULL && i < a->n_entries; i++)
		jsonbuf_free(&a->values[i]);
	free(a->outputs);
	free(a->output_ptrs);
	free(a->entries);
	free(a->entry_ptrs);
	free(a->values);
	free(a->stamps);
}

static bool build_answer(struct store_range *ranges, size_t n, struct answer *a,
			 Kvconnect__SnapshotReadOutput *msg)
{
	size_t total = 0, at = 0;

	for (size_t i = 0; i < n; i++)
		total += ranges[i].count;
	a->outputs = calloc(n + 1, sizeof(*a->outputs));
	a->output_ptrs = calloc(n + 1, sizeof(*a->output_ptrs));
	a->entries = calloc(total + 1, sizeof(*a->entries));
	a->entry_ptrs = calloc(total + 1, sizeof(*a->entry_ptrs));
	a->values = calloc(total + 1, sizeof(*a->values));
	a->stamps = calloc(total + 1, CONNECT_VS_LEN);
	if (a->outputs == NULL || a->output_ptrs == NULL || a->entries == NULL ||
	    a->entry_ptrs == NULL || a->values == NULL || a->stamps == NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		Kvconnect__ReadRangeOutput *o = &a->outputs[i];

		kvconnect__read_range_output__init(o);
		o->values = a->entry_ptrs + at;
		o->n_values = ranges[i].count;
		a->output_ptrs[i] = o;
		for (size_t j = 0; j < ranges[i].count; j++, at++) {
			a->entry_ptrs[at] = &a->entries[at];
			a->n_entries = at + 1;
			if (!connect_entry(&ranges[i].entries[j], &a->values[at],
					   a->stamps + at * CONNECT_VS_LEN, &a->entries[at]))
				return false;
		}
	}
	msg->ranges = a->output_ptrs;
	msg->n_ranges = n;
	msg->read_is_strongly_consistent = true;
	msg->status = KVCONNECT__SNAPSHOT_READ_STATUS__SR_SUCCESS;
	return true;
}

void connect_snapshot_read(struct request *req, struct store *st, const struct config *cfg)
{
	Kvconnect__SnapshotRead *in = NULL;
	Kvconnect__SnapshotReadOutput msg;
	struct store_range *ranges = NULL;
	unsigned char *ends = NULL;
	struct answer a = { 0 };
	enum store_status status;
	struct error err;
	size_t n = 0;

	if (!body_read(req, cfg->max_body, &err))
		goto refuse;
	in = kvconnect__snapshot_read__unpack(NULL, req->body_len, (const uint8_t *)req->body);
	if (in == NULL) {
		error_set(&err, 400, "invalid_body", "the body is not a SnapshotRead message");
		goto refuse;
	}
	/* Bounded before anything is allocated for them. */
	if (in->n_ranges > READ_RANGES_MAX) {
		error_set(&err, 400, "invalid_body", "a read takes at most %d ranges",
			  READ_RANGES_MAX);
		goto refuse;
	}
	ranges = calloc(in->n_ranges + 1, sizeof(*ranges));
	ends = malloc((in->n_ranges + 1) * (READ_KEY_MAX + 1));
	if (ranges == NULL || ends == NULL) {
		reply_out_of_memory(req);
		goto out;
	}
	if (!read_ranges(req, in, ranges, ends, &err))
		goto refuse;
	n = in->n_ranges;
	status = store_read_ranges(st, ranges, n);
	if (status != STORE_OK) {
		const char *headers = http_error_from_store(status, NULL, NULL, &err);

		reply_error_send(req, &err, headers);
		goto out;
	}
	kvconnect__snapshot_read_output__init(&msg);
	if (!build_answer(ranges, n, &a, &msg)) {
		util_log("id=%s snapshot_read: a stored value could not be encoded", req->id);
		error_set(&err, 500, "internal", "internal error");
		goto refuse;
	}
	connect_reply_proto(req, &msg);
	goto out;
refuse:
	reply_error_send(req, &err, NULL);
out:
	answer_free(&a);
	if (ranges != NULL)
		store_ranges_free(ranges, n);
	free(ranges);
	free(ends);
	if (in != NULL)
		kvconnect__snapshot_read__free_unpacked(in, NULL);
}
