/* connect_write.c: KV Connect's atomic_write: checks and mutations in
 * Deno's encodings, read into one atomic commit of the store */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "connect.h"
#include "connect_key.h"
#include "connect_v8.h"
#include "gate.h"
#include "http_error.h"
#include "record.h"
#include "reply.h"
#include "util.h"

#include "kvconnect.pb-c.h"

/* Deno's own bounds on a write, checked again here. */
#define WRITE_CHECKS_MAX 100
#define WRITE_MUTATIONS_MAX 1000
#define WRITE_KEY_MAX 2048
#define WRITE_VALUE_MAX 65536

void connect_write_free(struct connect_write *w)
{
	for (size_t i = 0; w->values != NULL && i < w->n_values; i++)
		jsonbuf_free(&w->values[i]);
	free(w->values);
	free(w->checks);
	free(w->mutations);
	free(w->keys);
}

/* Each key of a write has a slot: its stored form, then the dotted
 * keypath its grants are checked on, NUL-terminated. */
#define KEY_SLOT (2 * (KEYPATH_MAX + 1))

struct write_key {
	const char *stored, *grant;
	size_t stored_len, grant_len;
};

static bool read_key(const ProtobufCBinaryData *key, const char *what, size_t i, char *slot,
		     struct write_key *out, struct error *err)
{
	char *grant = slot + KEYPATH_MAX + 1;
	size_t prefix_len;

	if (key->len == 0 || key->len > WRITE_KEY_MAX)
		return error_set(err, 400, "invalid_key", "%s[%zu]: a key is 1 to %d bytes", what,
				 i, WRITE_KEY_MAX);
	if (connect_key_to_stored(key->data, key->len, slot, &out->stored_len) != key->len)
		return error_set(err, 400, "invalid_key",
				 "%s[%zu]: the key is malformed, or longer than %d bytes as the "
				 "store keeps it", what, i, KEYPATH_MAX);
	connect_key_prefix(key->data, key->len, grant, &prefix_len);
	keypath_decode(grant, prefix_len, grant);
	grant[prefix_len] = '\0';
	out->stored = slot;
	out->grant = grant;
	out->grant_len = prefix_len;
	return true;
}

static bool read_check(const Kvconnect__Check *in, size_t i, struct connect_write *w,
		       struct store_check *c, char *key, struct error *err)
{
	struct write_key k;

	if (!read_key(&in->key, "checks", i, key, &k, err))
		return false;
	c->key = k.stored;
	c->key_len = k.stored_len;
	c->stored = true;
	c->grant = k.grant;
	c->grant_len = k.grant_len;
	if (in->versionstamp.len == 0) {
		c->absent = true;
		return true;
	}
	if (in->versionstamp.len != CONNECT_VS_LEN)
		return error_set(err, 400, "invalid_body",
				 "checks[%zu]: a versionstamp is empty or %d bytes", i, CONNECT_VS_LEN);
	/* The two bytes above the 64-bit counter are always zero here. */
	w->never_holds |= in->versionstamp.data[0] != 0 || in->versionstamp.data[1] != 0;
	c->versionstamp = util_get_be64(in->versionstamp.data + 2);
	return true;
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* A set's value: V8 data, JSON text when it has a JSON form and else as
 * it came; a KvU64; a Uint8Array's bytes. */
static bool read_set_value(const Kvconnect__KvValue *v, size_t i, size_t max_value,
			   struct store_mutation *m, struct jsonbuf *text, struct error *err)
{
	const struct connect_v8_limits lim = { .depth_max = RECORD_DEPTH_MAX, .json_max = max_value };
	char num[24];
	bool json = true;

	if (v == NULL)
		return error_set(err, 400, "invalid_body", "mutations[%zu]: a set needs a value", i);
	if (v->data.len > WRITE_VALUE_MAX)
		return error_set(err, 413, "value_too_large",
				 "mutations[%zu]: a value is at most %d bytes", i, WRITE_VALUE_MAX);
	jsonbuf_init(text, v->data.len + 16);
	switch (v->encoding) {
	case KVCONNECT__VALUE_ENCODING__VE_V8:
		if (!connect_v8_read(v->data.data, v->data.len, &lim, text, &json, err)) {
			char msg[sizeof(err->message)];

			snprintf(msg, sizeof(msg), "%s", err->message);
			return error_set(err, err->status, err->code, "mutations[%zu]: %s", i, msg);
		}
		if (!json) {
			text->len = 0;
			jsonbuf_raw(text, (const char *)v->data.data, v->data.len);
			m->kind = RECORD_V8;
		}
		break;
	case KVCONNECT__VALUE_ENCODING__VE_LE64:
		if (v->data.len != 8)
			return error_set(err, 400, "invalid_value",
					 "mutations[%zu]: a KvU64 is 8 bytes", i);
		jsonbuf_raw(text, num, (size_t)snprintf(num, sizeof(num), "%" PRIu64,
							 get_le64(v->data.data)));
		m->kind = RECORD_U64;
		break;
	case KVCONNECT__VALUE_ENCODING__VE_BYTES:
		jsonbuf_raw(text, (const char *)v->data.data, v->data.len);
		m->kind = RECORD_BYTES;
		break;
	default:
		return error_set(err, 400, "invalid_value",
				 "mutations[%zu]: unknown value encoding %d", i, (int)v->encoding);
	}
	if (text->failed)
		return error_set(err, 500, "internal", "out of memory");
	if (text->len > max_value)
		return error_set(err, 413, "value_too_large",
				 "mutations[%zu]: the value is more than %zu bytes as stored", i,
				 max_value);
	m->value = text->data;
	m->value_len = text->len;
	return true;
}

/* sum, min and max: a KvU64 operand with no bounds, as Deno sends them. */
static bool read_operand(const Kvconnect__Mutation *in, size_t i, struct store_mutation *m,
			 struct error *err)
{
	const Kvconnect__KvValue *v = in->value;

	if (v == NULL || v->encoding != KVCONNECT__VALUE_ENCODING__VE_LE64 || v->data.len != 8 ||
	    in->sum_min.len != 0 || in->sum_max.len != 0 || in->sum_clamp)
		return error_set(err, 400, "unsupported",
				 "mutations[%zu]: sum, min and max take a Deno.KvU64 and no bounds",
				 i);
	m->u64 = true;
	m->operand_u64 = get_le64(v->data.data);
	return true;
}

/* expire_at_ms as a ttl: 0 and -1 are none, a time already past is 1. */
static bool read_expiry(int64_t at, size_t i, int64_t now, struct store_mutation *m,
			struct error *err)
{
	if (at == 0 || at == -1)
		return true;
	if (at < 0 || at > EXPIRES_AT_MAX)
		return error_set(err, 400, "invalid_ttl",
				 "mutations[%zu]: expire_at_ms is 0 or a time up to 2^53 - 1", i);
	m->ttl_ms = at > now ? at - now : 1;
	return true;
}

static bool read_mutation(const Kvconnect__Mutation *in, size_t i, size_t max_value, int64_t now,
			  struct store_mutation *m, char *key, struct jsonbuf *text,
			  struct error *err)
{
	struct write_key k;

	if (!read_key(&in->key, "mutations", i, key, &k, err))
		return false;
	m->key = k.stored;
	m->key_len = k.stored_len;
	m->stored = true;
	m->grant = k.grant;
	m->grant_len = k.grant_len;
	switch (in->mutation_type) {
	case KVCONNECT__MUTATION_TYPE__M_SET:
		m->op = STORE_SET;
		if (!read_set_value(in->value, i, max_value, m, text, err))
			return false;
		break;
	case KVCONNECT__MUTATION_TYPE__M_DELETE:
		m->op = STORE_DELETE;
		break;
	case KVCONNECT__MUTATION_TYPE__M_SUM:
	case KVCONNECT__MUTATION_TYPE__M_MIN:
	case KVCONNECT__MUTATION_TYPE__M_MAX:
		m->op = in->mutation_type == KVCONNECT__MUTATION_TYPE__M_SUM ? STORE_SUM :
			in->mutation_type == KVCONNECT__MUTATION_TYPE__M_MIN ? STORE_MIN : STORE_MAX;
		if (!read_operand(in, i, m, err))
			return false;
		break;
	case KVCONNECT__MUTATION_TYPE__M_SET_SUFFIX_VERSIONSTAMPED_KEY:
		return error_set(err, 400, "unsupported",
				 "mutations[%zu]: versionstamped keys are not supported", i);
	default:
		return error_set(err, 400, "invalid_body", "mutations[%zu]: unknown mutation type %d",
				 i, (int)in->mutation_type);
	}
	return read_expiry(in->expire_at_ms, i, now, m, err);
}

static bool read_write(const Kvconnect__AtomicWrite *in, size_t max_value, struct connect_write *w,
		       struct error *err)
{
	size_t n = in->n_checks + in->n_mutations;
	int64_t now = util_now_ms();

	if (in->n_enqueues > 0)
		return error_set(err, 400, "unsupported", "queues (enqueue) are not supported");
	if (in->n_checks > WRITE_CHECKS_MAX || in->n_mutations > WRITE_MUTATIONS_MAX)
		return error_set(err, 400, "invalid_body",
				 "a write takes at most %d checks and %d mutations",
				 WRITE_CHECKS_MAX, WRITE_MUTATIONS_MAX);
	w->checks = calloc(in->n_checks + 1, sizeof(*w->checks));
	w->mutations = calloc(in->n_mutations + 1, sizeof(*w->mutations));
	w->values = calloc(in->n_mutations + 1, sizeof(*w->values));
	w->keys = malloc((n + 1) * KEY_SLOT);
	if (w->checks == NULL || w->mutations == NULL || w->values == NULL || w->keys == NULL)
		return error_set(err, 500, "internal", "out of memory");
	for (size_t i = 0; i < in->n_checks; i++) {
		if (!read_check(in->checks[i], i, w, &w->checks[i], w->keys + i * KEY_SLOT,
				err))
			return false;
	}
	for (size_t i = 0; i < in->n_mutations; i++) {
		char *key = w->keys + (in->n_checks + i) * KEY_SLOT;

		w->n_values = i + 1;
		if (!read_mutation(in->mutations[i], i, max_value, now, &w->mutations[i], key,
				   &w->values[i], err))
			return false;
	}
	w->op.checks = w->checks;
	w->op.n_checks = in->n_checks;
	w->op.mutations = w->mutations;
	w->op.n_mutations = in->n_mutations;
	return true;
}

bool connect_write_parse(struct connect_write *w, const uint8_t *body, size_t len,
			 size_t max_value, struct error *err)
{
	Kvconnect__AtomicWrite *in = kvconnect__atomic_write__unpack(NULL, len, body);
	bool ok;

	memset(w, 0, sizeof(*w));
	if (in == NULL)
		return error_set(err, 400, "invalid_body", "the body is not an AtomicWrite message");
	ok = read_write(in, max_value, w, err);
	kvconnect__atomic_write__free_unpacked(in, NULL);
	return ok;
}

static void reply_outcome(struct request *req, Kvconnect__AtomicWriteStatus status,
			  const uint64_t *vs, const uint32_t *failed)
{
	Kvconnect__AtomicWriteOutput out;
	unsigned char stamp[CONNECT_VS_LEN];
	uint32_t index;

	kvconnect__atomic_write_output__init(&out);
	out.status = status;
	if (vs != NULL) {
		connect_vs_pack(*vs, stamp);
		out.versionstamp.data = stamp;
		out.versionstamp.len = sizeof(stamp);
	}
	if (failed != NULL) {
		index = *failed;
		out.failed_checks = &index;
		out.n_failed_checks = 1;
	}
	connect_reply_proto(req, &out);
}

void connect_atomic_write(struct request *req, struct store *st, const struct config *cfg)
{
	struct connect_write w = { 0 };
	enum store_status status;
	const char *headers = NULL;
	struct error err;
	uint32_t failed;
	char which[48];

	if (!body_read(req, cfg->max_body, &err) ||
	    !connect_write_parse(&w, (const uint8_t *)req->body, req->body_len, cfg->max_value,
				 &err) ||
	    !gate_commit(&req->client, &w.op, &err))
		goto refuse;
	/* Maintenance mode: the protocol's own word for a refused write. */
	if (cfg->read_only && w.op.n_mutations > 0) {
		reply_outcome(req, KVCONNECT__ATOMIC_WRITE_STATUS__AW_WRITE_DISABLED, NULL, NULL);
		goto out;
	}
	if (w.never_holds) {
		reply_outcome(req, KVCONNECT__ATOMIC_WRITE_STATUS__AW_CHECK_FAILURE, NULL, NULL);
		goto out;
	}
	status = store_commit(st, &w.op);
	if (status == STORE_OK) {
		reply_outcome(req, KVCONNECT__ATOMIC_WRITE_STATUS__AW_SUCCESS, &w.op.versionstamp,
			      NULL);
		goto out;
	}
	if (status == STORE_CHECK_FAILED) {
		failed = (uint32_t)w.op.failed;
		reply_outcome(req, KVCONNECT__ATOMIC_WRITE_STATUS__AW_CHECK_FAILURE, NULL, &failed);
		goto out;
	}
	snprintf(which, sizeof(which), "the key of mutations[%zu]", w.op.failed);
	headers = http_error_from_store(status, which, NULL, &err);
refuse:
	reply_error_send(req, &err, headers);
out:
	connect_write_free(&w);
}
