/* render.c: the bodies and item headers of responses, as JSON text */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "render.h"
#include "util.h"

/* Copied rather than formatted: the ETag is on every GET and PUT. */
void render_item_headers(char *out, size_t size, const char *vs, int64_t expires_at)
{
	static const char etag[] = "ETag: \"";
	size_t n = sizeof(etag) - 1, vs_len = strlen(vs);

	if (n + vs_len + sizeof("\"\r\n") > size) {
		out[0] = '\0';
		return;
	}
	memcpy(out, etag, n);
	memcpy(out + n, vs, vs_len);
	n += vs_len;
	memcpy(out + n, "\"\r\n", sizeof("\"\r\n"));
	n += sizeof("\"\r\n") - 1;
	if (expires_at != 0)
		snprintf(out + n, size - n, "KV-Expires-At: %" PRId64 "\r\n", expires_at);
}

/* A site of a replicated group: {"site": "HOST:PORT", "url": ...}. */
static void site_object(struct jsonbuf *out, const struct config_site *site)
{
	char address[300];
	int n = snprintf(address, sizeof(address), "%s:%u", site->host, (unsigned)site->port);

	jsonbuf_lit(out, "{\"site\":");
	jsonbuf_string(out, address, n < 0 ? 0 : (size_t)n < sizeof(address) ? (size_t)n
									    : sizeof(address) - 1);
	jsonbuf_lit(out, ",\"url\":");
	if (site->url != NULL)
		jsonbuf_string(out, site->url, strlen(site->url));
	else
		jsonbuf_lit(out, "null");
	jsonbuf_lit(out, "}");
}

void render_health(struct jsonbuf *out, const struct store_site *site, const struct config *cfg,
		   const char *vs)
{
	jsonbuf_init(out, 96);
	jsonbuf_lit(out, "{\"service\":");
	jsonbuf_string(out, PACKAGE_NAME, strlen(PACKAGE_NAME));
	jsonbuf_lit(out, ",\"version\":");
	jsonbuf_string(out, PACKAGE_VERSION, strlen(PACKAGE_VERSION));
	jsonbuf_lit(out, ",\"status\":\"ok\"");
	if (site->replicated) {
		jsonbuf_lit(out, ",\"replication\":{\"role\":");
		jsonbuf_lit(out, site->master ? "\"master\"" : "\"replica\"");
		jsonbuf_lit(out, ",\"self\":");
		site_object(out, &cfg->site);
		jsonbuf_lit(out, ",\"master\":");
		if (site->master_site != NULL)
			site_object(out, site->master_site);
		else
			jsonbuf_lit(out, "null");
		jsonbuf_lit(out, ",\"versionstamp\":");
		jsonbuf_string(out, vs, strlen(vs));
		jsonbuf_lit(out, "}");
	}
	jsonbuf_lit(out, "}");
}

/* ,"value": the value's JSON text; a value that a Deno program wrote
 * with no JSON form has "encoding" in its place, "bytes" for a
 * Uint8Array and "v8" for the rest (docs/API.md). */
static void value_member(struct jsonbuf *out, enum record_kind kind, const char *value,
			 size_t value_len)
{
	if (kind == RECORD_BYTES) {
		jsonbuf_lit(out, ",\"encoding\":\"bytes\"");
	} else if (kind == RECORD_V8) {
		jsonbuf_lit(out, ",\"encoding\":\"v8\"");
	} else {
		jsonbuf_lit(out, ",\"value\":");
		jsonbuf_raw(out, value, value_len);
	}
}

/* {"key", "value", "versionstamp", "expiresAt"}: a written key (without
 * its value) and a list entry (with it when the listing asks). */
static void item_object(struct jsonbuf *out, const char *key, size_t key_len,
			const struct store_item *with_value, const char *vs, int64_t expires_at)
{
	jsonbuf_lit(out, "{\"key\":");
	jsonbuf_string(out, key, key_len);
	if (with_value != NULL)
		value_member(out, with_value->kind, with_value->value, with_value->value_len);
	jsonbuf_lit(out, ",\"versionstamp\":\"");
	jsonbuf_lit(out, vs);
	jsonbuf_lit(out, "\",\"expiresAt\":");
	jsonbuf_int_or_null(out, expires_at);
	jsonbuf_lit(out, "}");
}

void render_written(struct jsonbuf *out, const char *key, size_t key_len, const char *vs,
		    int64_t expires_at)
{
	jsonbuf_init(out, 128 + key_len);
	item_object(out, key, key_len, NULL, vs, expires_at);
}

/* A versionstamp as a JSON string, or null when there is none. */
static void vs_or_null(struct jsonbuf *out, bool present, uint64_t versionstamp)
{
	char vs[VERSIONSTAMP_LEN + 1];

	if (!present) {
		jsonbuf_lit(out, "null");
		return;
	}
	record_format_vs(versionstamp, vs);
	jsonbuf_lit(out, "\"");
	jsonbuf_lit(out, vs);
	jsonbuf_lit(out, "\"");
}

/* ,"versionstamp":"vs" */
static void versionstamp_member(struct jsonbuf *out, uint64_t vs)
{
	jsonbuf_lit(out, ",\"versionstamp\":");
	vs_or_null(out, true, vs);
}

void render_deleted(struct jsonbuf *out, const char *key, size_t key_len, bool deleted,
		    uint64_t vs)
{
	jsonbuf_init(out, 96 + key_len);
	jsonbuf_lit(out, "{\"key\":");
	jsonbuf_string(out, key, key_len);
	jsonbuf_lit(out, deleted ? ",\"deleted\":true" : ",\"deleted\":false");
	if (deleted)
		versionstamp_member(out, vs);
	else
		jsonbuf_lit(out, ",\"versionstamp\":null");
	jsonbuf_lit(out, "}");
}

void render_committed(struct jsonbuf *out, const char *vs)
{
	jsonbuf_init(out, 64);
	jsonbuf_lit(out, "{\"ok\":true,\"versionstamp\":\"");
	jsonbuf_lit(out, vs);
	jsonbuf_lit(out, "\"}");
}

void render_loaded(struct jsonbuf *out, uint64_t loaded, uint64_t skipped, const char *vs)
{
	jsonbuf_init(out, 96);
	jsonbuf_lit(out, "{\"loaded\":");
	jsonbuf_int(out, (int64_t)loaded);
	jsonbuf_lit(out, ",\"skipped\":");
	jsonbuf_int(out, (int64_t)skipped);
	jsonbuf_lit(out, ",\"versionstamp\":\"");
	jsonbuf_lit(out, vs);
	jsonbuf_lit(out, "\"}");
}

static void list_entry(struct jsonbuf *out, const struct store_entry *e, bool with_value)
{
	char vs[VERSIONSTAMP_LEN + 1];

	record_format_vs(e->item.versionstamp, vs);
	item_object(out, e->key, e->key_len, with_value ? &e->item : NULL, vs, e->item.expires_at);
}

/* The cursor of a page that more keys follow: the hex of its last key. */
static void list_cursor(struct jsonbuf *out, const struct store_entry *last)
{
	char *hex = malloc(2 * last->key_len);

	if (hex == NULL) {
		out->failed = true;
		return;
	}
	util_hex_encode((const unsigned char *)last->key, last->key_len, hex);
	jsonbuf_lit(out, "\"");
	jsonbuf_raw(out, hex, 2 * last->key_len);
	jsonbuf_lit(out, "\"");
	free(hex);
}

void render_list_page(struct jsonbuf *out, const struct store_list *list)
{
	size_t hint = 64;

	for (size_t i = 0; i < list->count; i++)
		hint += list->entries[i].key_len + list->entries[i].item.value_len + 96;
	jsonbuf_init(out, hint);
	jsonbuf_lit(out, "{\"entries\":[");
	for (size_t i = 0; i < list->count; i++) {
		if (i > 0)
			jsonbuf_lit(out, ",");
		list_entry(out, &list->entries[i], list->with_values);
	}
	jsonbuf_lit(out, "],\"cursor\":");
	if (list->more)
		list_cursor(out, &list->entries[list->count - 1]);
	else
		jsonbuf_lit(out, "null");
	versionstamp_member(out, list->versionstamp);
	jsonbuf_lit(out, "}");
}

static const char *const change_ops[] = {
	[STORE_CHANGE_SET] = "set",
	[STORE_CHANGE_DELETE] = "delete",
	[STORE_CHANGE_EXPIRE] = "expire",
};

static void change_object(struct jsonbuf *out, const struct store_change *c, bool with_value)
{
	jsonbuf_lit(out, "{\"key\":");
	jsonbuf_string(out, c->key, c->key_len);
	versionstamp_member(out, c->versionstamp);
	jsonbuf_lit(out, ",\"op\":\"");
	jsonbuf_lit(out, change_ops[c->op]);
	jsonbuf_lit(out, "\"");
	if (c->op == STORE_CHANGE_SET) {
		if (with_value)
			value_member(out, c->kind, c->value, c->value_len);
		jsonbuf_lit(out, ",\"expiresAt\":");
		jsonbuf_int_or_null(out, c->expires_at);
	}
	jsonbuf_lit(out, "}");
}

void render_changes(struct jsonbuf *out, const struct store_changes *ch)
{
	size_t hint = 96;

	for (size_t i = 0; i < ch->count; i++)
		hint += ch->changes[i].key_len + ch->changes[i].value_len + 112;
	jsonbuf_init(out, hint);
	jsonbuf_lit(out, "{\"changes\":[");
	for (size_t i = 0; i < ch->count; i++) {
		if (i > 0)
			jsonbuf_lit(out, ",");
		change_object(out, &ch->changes[i], ch->with_values);
	}
	jsonbuf_lit(out, "]");
	versionstamp_member(out, ch->versionstamp);
	jsonbuf_lit(out, ch->more ? ",\"more\":true}" : ",\"more\":false}");
}


void render_deleted_tree(struct jsonbuf *out, uint64_t deleted, uint64_t versionstamp)
{
	jsonbuf_init(out, 80);
	jsonbuf_lit(out, "{\"deleted\":");
	jsonbuf_int(out, (int64_t)deleted);
	jsonbuf_lit(out, ",\"versionstamp\":");
	vs_or_null(out, versionstamp != 0, versionstamp);
	jsonbuf_lit(out, "}");
}

/* ,"value","versionstamp","expiresAt" of an item, each null when it is
 * absent; the value left out unless with_value. */
static void item_members(struct jsonbuf *out, const struct store_item *item, bool present,
			 bool with_value)
{
	if (with_value && present)
		value_member(out, item->kind, item->value, item->value_len);
	else if (with_value)
		jsonbuf_lit(out, ",\"value\":null");
	jsonbuf_lit(out, ",\"versionstamp\":");
	vs_or_null(out, present, item->versionstamp);
	jsonbuf_lit(out, ",\"expiresAt\":");
	jsonbuf_int_or_null(out, present ? item->expires_at : 0);
}

void render_children_page(struct jsonbuf *out, const struct store_children *page)
{
	size_t hint = 96;

	for (size_t i = 0; i < page->count; i++)
		hint += page->entries[i].entry.key_len + page->entries[i].entry.item.value_len + 128;
	jsonbuf_init(out, hint);
	jsonbuf_lit(out, "{\"entries\":[");
	for (size_t i = 0; i < page->count; i++) {
		const struct store_child *c = &page->entries[i];

		jsonbuf_lit(out, i > 0 ? ",{\"key\":" : "{\"key\":");
		jsonbuf_string(out, c->entry.key, c->entry.key_len);
		jsonbuf_lit(out, c->has_value ? ",\"hasValue\":true" : ",\"hasValue\":false");
		jsonbuf_lit(out, c->has_children ? ",\"hasChildren\":true" : ",\"hasChildren\":false");
		item_members(out, &c->entry.item, c->has_value, page->with_values);
		jsonbuf_lit(out, "}");
	}
	jsonbuf_lit(out, "],\"cursor\":");
	if (page->more)
		list_cursor(out, &page->entries[page->count - 1].entry);
	else
		jsonbuf_lit(out, "null");
	jsonbuf_lit(out, ",\"versionstamp\":");
	vs_or_null(out, true, page->versionstamp);
	jsonbuf_lit(out, "}");
}

void render_read_many(struct jsonbuf *out, const struct store_read_many *read)
{
	size_t hint = 96;

	for (size_t i = 0; i < read->n_keys; i++)
		hint += read->keys[i].key_len + read->keys[i].item.value_len + 96;
	jsonbuf_init(out, hint);
	jsonbuf_lit(out, "{\"entries\":[");
	for (size_t i = 0; i < read->n_keys; i++) {
		const struct store_read_key *rk = &read->keys[i];

		jsonbuf_lit(out, i > 0 ? ",{\"key\":" : "{\"key\":");
		jsonbuf_string(out, rk->key, rk->key_len);
		item_members(out, &rk->item, rk->found, true);
		jsonbuf_lit(out, "}");
	}
	jsonbuf_lit(out, "],\"versionstamp\":");
	vs_or_null(out, true, read->versionstamp);
	jsonbuf_lit(out, "}");
}

/* {"error": {...}: the body of every error, left open for more members. */
static void error_open(struct jsonbuf *out, const struct error *err, size_t more)
{
	size_t len = strlen(err->message);

	jsonbuf_init(out, 64 + len + more);
	jsonbuf_lit(out, "{\"error\":{\"status\":");
	jsonbuf_int(out, err->status);
	jsonbuf_lit(out, ",\"code\":");
	jsonbuf_string(out, err->code, strlen(err->code));
	jsonbuf_lit(out, ",\"message\":");
	jsonbuf_string(out, err->message, len);
	jsonbuf_lit(out, "}");
}

void render_error(struct jsonbuf *out, const struct error *err)
{
	error_open(out, err, 0);
	jsonbuf_lit(out, "}");
}

void render_redirect(struct jsonbuf *out, const struct error *err, const char *address,
		     const char *url)
{
	error_open(out, err, 64 + strlen(address) + strlen(url));
	jsonbuf_lit(out, ",\"master\":{\"site\":");
	jsonbuf_string(out, address, strlen(address));
	jsonbuf_lit(out, ",\"url\":");
	jsonbuf_string(out, url, strlen(url));
	jsonbuf_lit(out, "}}");
}
