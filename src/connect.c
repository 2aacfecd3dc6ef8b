/* connect.c: Deno's KV Connect: the dispatch under {mount}/.connect and
 * the metadata exchange */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "body.h"
#include "connect.h"
#include "connect_v8.h"
#include "jsonbuf.h"
#include "jsontext.h"
#include "reply.h"
#include "util.h"

#include "kvconnect.pb-c.h"

/* The data path's token is the metadata's own; clients ask again about
 * once a minute, and every request checks the token anyway, so the day
 * only has to be long enough never to be reached. */
#define METADATA_LIFETIME_MS (24 * 3600 * 1000LL)

/* The database id, checked by no client for its value: the nil UUID. */
#define DATABASE_ID "00000000-0000-0000-0000-000000000000"

#define METADATA_BODY_MAX 4096

void connect_vs_pack(uint64_t vs, unsigned char out[CONNECT_VS_LEN])
{
	out[0] = out[1] = 0;
	util_put_be64(out + 2, vs);
}

void connect_reply_proto(struct request *req, const void *message)
{
	const ProtobufCMessage *m = message;
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(len > 0 ? len : 1);

	if (buf == NULL) {
		reply_out_of_memory(req);
		return;
	}
	protobuf_c_message_pack(m, buf);
	reply_send_typed(req, 200, "application/x-protobuf", (const char *)buf, len);
	free(buf);
}

bool connect_entry(const struct store_range_entry *e, struct jsonbuf *value,
		   unsigned char stamp[CONNECT_VS_LEN], struct Kvconnect__KvEntry *out)
{
	uint64_t u;
	char le[8];

	kvconnect__kv_entry__init(out);
	out->key.data = e->key;
	out->key.len = e->key_len;
	connect_vs_pack(e->item.versionstamp, stamp);
	out->versionstamp.data = stamp;
	out->versionstamp.len = CONNECT_VS_LEN;
	jsonbuf_init(value, e->item.value_len + 16);
	switch (e->item.kind) {
	case RECORD_U64:
		if (!util_parse_u64(e->item.value, e->item.value_len, &u))
			return false;
		for (int i = 0; i < 8; i++, u >>= 8)
			le[i] = (char)(u & 0xff);
		jsonbuf_raw(value, le, sizeof(le));
		out->encoding = KVCONNECT__VALUE_ENCODING__VE_LE64;
		break;
	case RECORD_BYTES:
	case RECORD_V8:
		/* Kept as they came. */
		jsonbuf_raw(value, e->item.value, e->item.value_len);
		out->encoding = e->item.kind == RECORD_BYTES ? KVCONNECT__VALUE_ENCODING__VE_BYTES :
			KVCONNECT__VALUE_ENCODING__VE_V8;
		break;
	default:
		if (!connect_v8_from_json(e->item.value, e->item.value_len, value))
			return false;
		out->encoding = KVCONNECT__VALUE_ENCODING__VE_V8;
	}
	out->value.data = (uint8_t *)value->data;
	out->value.len = value->len;
	return !value->failed;
}

struct versions {
	bool v2, v3;
	bool ok;
};

static bool note_version(const char *value, size_t len, void *arg)
{
	struct versions *v = arg;
	int64_t n;

	if (jsontext_integer(value, len, &n) != JSONTEXT_INTEGER) {
		v->ok = false;
		return false;
	}
	v->v2 |= n == 2;
	v->v3 |= n == 3;
	return true;
}

/* The protocol version to speak: 3 when the client offers it, else 2;
 * version 1, whose endpoints must be absolute URLs, is not served. */
static bool pick_version(const char *body, size_t len, int *version, struct error *err)
{
	struct jsontext_field fields[] = { { .name = "supportedVersions" } };
	struct versions v = { .ok = true };

	if (jsontext_validate(body, len, 8) != JSONTEXT_OK)
		return error_set(err, 400, "invalid_json", "the metadata request is not JSON");
	if (jsontext_fields(body, len, fields, 1) == JSONTEXT_FIELDS_NOT_OBJECT ||
	    fields[0].value == NULL ||
	    !jsontext_elements(fields[0].value, fields[0].value_len, note_version, &v) || !v.ok)
		return error_set(err, 400, "invalid_body",
				 "the metadata request needs supportedVersions, an array of integers");
	if (!v.v2 && !v.v3)
		return error_set(err, 400, "unsupported",
				 "this service speaks KV Connect versions 2 and 3 only");
	*version = v.v3 ? 3 : 2;
	return true;
}

/* The bearer token the client sent, or "anonymous" with auth off and
 * none sent: the data path is to send it back. */
static const char *bearer_of(const struct request *req, size_t *len)
{
	const char *h = io_param(req->io, IO_HTTP_AUTHORIZATION);

	if (h != NULL && strncasecmp(h, "Bearer ", 7) == 0) {
		h += 7;
		while (*h == ' ')
			h++;
		*len = strlen(h);
		if (*len > 0)
			return h;
	}
	*len = strlen("anonymous");
	return "anonymous";
}

/* The absolute path of the data path: the request's own path (the mount
 * and /.connect, as the client spelled it) and /v2. A relative URL would
 * resolve against the mount's parent. */
static void endpoint_url(const struct request *req, struct jsonbuf *out)
{
	const char *uri = io_param(req->io, IO_REQUEST_URI);
	const char *mount = io_param(req->io, IO_SCRIPT_NAME);
	char *url;
	size_t len;

	if (uri != NULL) {
		len = strcspn(uri, "?");
		url = malloc(len + sizeof("/v2"));
		if (url == NULL) {
			out->failed = true;
			return;
		}
		memcpy(url, uri, len);
	} else {
		len = strlen(mount != NULL ? mount : "");
		url = malloc(len + sizeof("/.connect/v2"));
		if (url == NULL) {
			out->failed = true;
			return;
		}
		memcpy(url, mount != NULL ? mount : "", len);
		memcpy(url + len, "/.connect", strlen("/.connect"));
		len += strlen("/.connect");
	}
	memcpy(url + len, "/v2", 3);
	jsonbuf_string(out, url, len + 3);
	free(url);
}

static void format_expiry(int64_t ms, char *out, size_t size)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	gmtime_r(&secs, &tm);
	n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, size - n, ".%03dZ", (int)(ms % 1000));
}

static void handle_metadata(struct request *req, const struct config *cfg)
{
	struct jsonbuf body;
	struct error err;
	char expires[40];
	const char *token;
	size_t token_len;
	int version = 0;

	if (!body_read(req, METADATA_BODY_MAX, &err) ||
	    !pick_version(req->body, req->body_len, &version, &err)) {
		reply_error_send(req, &err, NULL);
		return;
	}
	token = bearer_of(req, &token_len);
	format_expiry(util_now_ms() + METADATA_LIFETIME_MS, expires, sizeof(expires));
	jsonbuf_init(&body, 256);
	jsonbuf_lit(&body, "{\"version\":");
	jsonbuf_int(&body, version);
	jsonbuf_lit(&body, ",\"databaseId\":\"" DATABASE_ID "\",\"endpoints\":[{\"url\":");
	endpoint_url(req, &body);
	jsonbuf_lit(&body, ",\"consistency\":\"strong\"}],\"token\":");
	jsonbuf_string(&body, token, token_len);
	jsonbuf_lit(&body, ",\"expiresAt\":");
	jsonbuf_string(&body, expires, strlen(expires));
	jsonbuf_lit(&body, "}");
	if (body.failed)
		reply_out_of_memory(req);
	else
		reply_send_typed(req, 200, "application/json", body.data, body.len);
	jsonbuf_free(&body);
}

void connect_handle(struct request *req, struct store *st, const struct config *cfg)
{
	struct error err;

	if (req->key_len == 0) {
		handle_metadata(req, cfg);
	} else if (strcmp(req->key, "v2/snapshot_read") == 0) {
		connect_snapshot_read(req, st, cfg);
	} else if (strcmp(req->key, "v2/atomic_write") == 0) {
		connect_atomic_write(req, st, cfg);
	} else if (strcmp(req->key, "v2/watch") == 0) {
		connect_watch(req, st, cfg);
	} else {
		body_discard(req->io);
		error_set(&err, 404, "not_found", "no such KV Connect endpoint");
		reply_error_send(req, &err, NULL);
	}
}
