/* db_test.c: the database core and the store's operations on a real store
 *
 * Each test works in a Berkeley DB environment of its own in a temporary
 * directory, through the service's calls (store.h), kvctl's
 * (store_admin.h) and the core's (kvdb.h) directly, without HTTP. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fsutil.h"
#include "kvdb.h"
#include "store.h"
#include "store_admin.h"
#include "store_ops.h"
#include "unit.h"
#include "util.h"

/* A store directory made for one test, and its configuration. */
struct fixture {
	char dir[64];
	struct config cfg;
};

static void fixture_init(struct fixture *f)
{
	struct error err;

	snprintf(f->dir, sizeof(f->dir), "/tmp/kv-db-test.XXXXXX");
	if (mkdtemp(f->dir) == NULL || !config_load(&f->cfg, "/nonexistent/kv.conf", false, &err) ||
	    !config_set_store(&f->cfg, f->dir)) {
		fprintf(stderr, "cannot set up a store in %s\n", f->dir);
		exit(EXIT_FAILURE);
	}
	f->cfg.cache_size = 1u << 20;
}

static void fixture_free(struct fixture *f)
{
	fsutil_dir_remove(f->dir);
	config_free(&f->cfg);
}

static void sleep_ms(long ms)
{
	const struct timespec pause = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&pause, NULL);
}

static enum store_status put(struct store *st, const char *key, const char *value,
			     int64_t ttl_ms, uint64_t *vs)
{
	struct store_put p = {
		.key = key, .key_len = strlen(key),
		.value = value, .value_len = strlen(value),
		.ttl_ms = ttl_ms,
	};
	enum store_status status = store_put(st, &p);

	if (vs != NULL)
		*vs = p.versionstamp;
	return status;
}

/* Whether key holds value; its versionstamp in *vs. */
static bool holds(struct store *st, const char *key, const char *value, uint64_t *vs)
{
	struct store_item item;
	bool same;

	if (store_get(st, key, strlen(key), &item) != STORE_OK)
		return false;
	same = item.value_len == strlen(value) && memcmp(item.value, value, item.value_len) == 0;
	if (vs != NULL)
		*vs = item.versionstamp;
	store_item_free(&item);
	return same;
}

static void test_put_get_delete(void)
{
	struct fixture f;
	struct store *st;
	struct store_item item;
	uint64_t vs1, vs2, vs;
	char tag[VERSIONSTAMP_LEN + 3];

	fixture_init(&f);
	st = store_new(&f.cfg);
	CHECK(st != NULL);
	CHECK(store_ping(st) == STORE_OK);
	CHECK(store_get(st, "a.b", 3, &item) == STORE_NOTFOUND);

	CHECK(put(st, "a.b", "{\"n\":1}", 0, &vs1) == STORE_OK);
	CHECK(vs1 == 1);
	CHECK(holds(st, "a.b", "{\"n\":1}", &vs));
	CHECK(vs == vs1);
	CHECK(put(st, "a.b", "2", 0, &vs2) == STORE_OK);
	CHECK(vs2 == vs1 + 1);
	CHECK(holds(st, "a.b", "2", NULL));

	/* Conditions: If-None-Match: * on a live key, If-Match with the
	 * previous versionstamp; neither writes. */
	struct store_put cond = { .key = "a.b", .key_len = 3, .value = "3", .value_len = 1,
				  .if_none_match = "*" };
	CHECK(store_put(st, &cond) == STORE_PRECONDITION);
	tag[0] = '"';
	record_format_vs(vs1, tag + 1);
	memcpy(tag + 1 + VERSIONSTAMP_LEN, "\"", 2);
	cond.if_none_match = NULL;
	cond.if_match = tag;
	CHECK(store_put(st, &cond) == STORE_PRECONDITION);
	CHECK(holds(st, "a.b", "2", NULL));
	record_format_vs(vs2, tag + 1);
	memcpy(tag + 1 + VERSIONSTAMP_LEN, "\"", 2);
	CHECK(store_put(st, &cond) == STORE_OK);
	CHECK(cond.versionstamp == vs2 + 1);

	struct store_delete del = { .key = "a.b", .key_len = 3 };
	CHECK(store_delete(st, &del) == STORE_OK && del.deleted);
	CHECK(store_get(st, "a.b", 3, &item) == STORE_NOTFOUND);
	del.deleted = true;
	CHECK(store_delete(st, &del) == STORE_OK && !del.deleted);
	store_end_request(st);
	store_free(st);
	fixture_free(&f);
}

static void test_list(void)
{
	const char *keys[] = { "l.a", "l.b", "l.c", "la", "m" };
	struct fixture f;
	struct store *st;

	fixture_init(&f);
	st = store_new(&f.cfg);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		CHECK(put(st, keys[i], "true", 0, NULL) == STORE_OK);

	struct store_list list = { .prefix = "l", .prefix_len = 1, .limit = 2, .with_values = true };
	CHECK(store_list(st, &list) == STORE_OK);
	CHECK(list.count == 2 && list.more);
	CHECK(list.count == 2 && strcmp(list.entries[0].key, "l.a") == 0 &&
	      strcmp(list.entries[1].key, "l.b") == 0);
	CHECK(list.count > 0 && list.entries[0].item.value_len == 4);
	store_list_free(&list);

	list.after = "l.b";
	list.after_len = 3;
	CHECK(store_list(st, &list) == STORE_OK);
	CHECK(list.count == 1 && !list.more && strcmp(list.entries[0].key, "l.c") == 0);
	store_list_free(&list);

	struct store_list back = { .prefix = "l", .prefix_len = 1, .limit = 10, .reverse = true };
	CHECK(store_list(st, &back) == STORE_OK);
	CHECK(back.count == 3 && strcmp(back.entries[0].key, "l.c") == 0 &&
	      strcmp(back.entries[2].key, "l.a") == 0);
	CHECK(back.count > 0 && back.entries[0].item.value_len == 0);	/* no values asked */
	store_list_free(&back);

	/* The whole store: every key, never the counter record. */
	struct store_list all = { .prefix = "", .limit = 100 };
	CHECK(store_list(st, &all) == STORE_OK);
	CHECK(all.count == 5 && !all.more);
	CHECK(all.count == 5 && strcmp(all.entries[4].key, "m") == 0);
	store_list_free(&all);
	all.reverse = true;
	CHECK(store_list(st, &all) == STORE_OK);
	CHECK(all.count == 5 && strcmp(all.entries[0].key, "m") == 0);
	store_list_free(&all);
	store_free(st);
	fixture_free(&f);
}

static void test_commit(void)
{
	struct fixture f;
	struct store *st;
	uint64_t vs;

	fixture_init(&f);
	st = store_new(&f.cfg);
	CHECK(put(st, "c.n", "40", 0, &vs) == STORE_OK);
	CHECK(put(st, "c.s", "\"text\"", 0, NULL) == STORE_OK);

	struct store_check checks[] = {
		{ .key = "c.n", .key_len = 3, .versionstamp = vs },
		{ .key = "c.none", .key_len = 6, .absent = true },
	};
	struct store_mutation muts[] = {
		{ .op = STORE_SUM, .key = "c.n", .key_len = 3, .operand = 2 },
		{ .op = STORE_SET, .key = "c.new", .key_len = 5, .value = "[1]", .value_len = 3 },
		{ .op = STORE_MAX, .key = "c.max", .key_len = 5, .operand = -7 },
	};
	struct store_commit c = { checks, 2, muts, 3, 0, 0 };
	uint64_t n_vs, new_vs;

	CHECK(store_commit(st, &c) == STORE_OK);
	CHECK(c.versionstamp == vs + 2);	/* after the put of c.s */
	CHECK(holds(st, "c.n", "42", &n_vs) && holds(st, "c.new", "[1]", &new_vs));
	CHECK(n_vs == c.versionstamp && new_vs == c.versionstamp);
	CHECK(holds(st, "c.max", "-7", NULL));

	/* The first check no longer holds: nothing is written. */
	c.n_mutations = 1;
	CHECK(store_commit(st, &c) == STORE_CHECK_FAILED);
	CHECK(c.failed == 0);
	CHECK(holds(st, "c.n", "42", NULL));

	struct store_mutation bad = { .op = STORE_SUM, .key = "c.s", .key_len = 3, .operand = 1 };
	struct store_commit c2 = { NULL, 0, &bad, 1, 0, 0 };
	CHECK(store_commit(st, &c2) == STORE_TYPE_MISMATCH);
	CHECK(holds(st, "c.s", "\"text\"", NULL));

	struct store_mutation big = { .op = STORE_SUM, .key = "c.n", .key_len = 3,
				      .operand = INT64_MAX };
	struct store_commit c3 = { NULL, 0, &big, 1, 0, 0 };
	CHECK(store_commit(st, &c3) == STORE_OVERFLOW);
	store_free(st);
	fixture_free(&f);
}

/* Reads the counter through the core, in a write transaction. */
static int counter_body(struct kvdb *db, DB_TXN *txn, void *arg)
{
	return kvdb_lock_counter(db, txn, arg);
}

/* Raises the counter by 100 through the core. */
static int raise_body(struct kvdb *db, DB_TXN *txn, void *arg)
{
	uint64_t last;
	int ret;

	if ((ret = kvdb_lock_counter(db, txn, &last)) != 0)
		return ret;
	*(uint64_t *)arg = last + 100;
	return kvdb_write_versionstamp(db, txn, last + 100);
}

/* A body that asks to be rolled back after writing. */
static int rollback_body(struct kvdb *db, DB_TXN *txn, void *arg)
{
	struct record rec = { .versionstamp = 9, .value = "1", .value_len = 1 };
	char key[] = { 'r', KEYPATH_SEP, 'x' };
	int ret;

	if ((ret = kvdb_put_record(db, txn, key, sizeof(key), &rec)) != 0)
		return ret;
	return KVDB_ROLLBACK;
}

static void test_core_counter(void)
{
	static const struct kvdb_role role = { .who = "db_test", .watchdog_seconds = 10,
					       .join_wait_ms = 1000 };
	struct fixture f;
	struct kvdb *db;
	struct store *st;
	uint64_t last = 99, raised = 0, vs;

	fixture_init(&f);
	db = kvdb_new(&f.cfg, &role);
	CHECK(db != NULL);
	CHECK(kvdb_open(db) == STORE_OK);
	CHECK(kvdb_run(db, true, counter_body, &last) == STORE_OK);
	CHECK(last == 0);	/* a fresh store */
	CHECK(kvdb_run(db, true, raise_body, &raised) == STORE_OK);
	CHECK(raised == 100);
	CHECK(kvdb_run(db, true, rollback_body, NULL) == STORE_OK);
	kvdb_free(db);

	/* The service hands out versionstamps after the counter. */
	st = store_new(&f.cfg);
	CHECK(put(st, "k", "0", 0, &vs) == STORE_OK);
	CHECK(vs == 101);
	CHECK(!holds(st, "r.x", "1", NULL));	/* the rolled back write */
	store_free(st);
	fixture_free(&f);
}

static void test_ranges(void)
{
	struct kvdb_range r;
	char out[KEYPATH_MAX + 1];
	char inside[] = { 'a', KEYPATH_SEP, 'b' }, itself[] = { 'a' }, other[] = { 'a', 'b' };
	DBT k;

	kvdb_range_init(&r, "a", 1);
	CHECK(r.len == 2 && r.bytes[0] == 'a' && r.bytes[1] == KEYPATH_SEP);
	kvdb_dbt(&k, inside, sizeof(inside));
	CHECK(kvdb_in_range(&r, &k));
	kvdb_dbt(&k, itself, sizeof(itself));
	CHECK(!kvdb_in_range(&r, &k));	/* strictly under the prefix */
	kvdb_dbt(&k, other, sizeof(other));
	CHECK(!kvdb_in_range(&r, &k));
	CHECK(kvdb_range_first(&r, out) == 2 && memcmp(out, "a", 2) == 0);
	CHECK(kvdb_range_past(&r, out) == 2 && out[0] == 'a' && out[1] == KEYPATH_SEP + 1);

	kvdb_range_init(&r, "", 0);
	CHECK(r.len == 0);
	kvdb_dbt(&k, KVDB_COUNTER_KEY, sizeof(KVDB_COUNTER_KEY));
	CHECK(!kvdb_in_range(&r, &k));
	kvdb_dbt(&k, itself, sizeof(itself));
	CHECK(kvdb_in_range(&r, &k));
	CHECK(kvdb_range_first(&r, out) == 1 && out[0] == 1);
	CHECK(kvdb_range_past(&r, out) == 1 && (unsigned char)out[0] == 0xff);
}

static void test_expiry_and_sweep(void)
{
	struct fixture f;
	struct store *st;
	struct store_admin *sa = NULL;
	struct store_admin_stats stats;
	struct store_item item;
	struct error err;
	uint64_t removed = 0;

	fixture_init(&f);
	st = store_new(&f.cfg);
	CHECK(put(st, "e.kept", "2", 60000, NULL) == STORE_OK);
	CHECK(put(st, "e.plain", "3", 0, NULL) == STORE_OK);
	/* The last write: none after it purges the record once it expired. */
	CHECK(put(st, "e.gone", "1", 1, NULL) == STORE_OK);
	sleep_ms(20);
	CHECK(store_get(st, "e.gone", 6, &item) == STORE_NOTFOUND);
	CHECK(holds(st, "e.kept", "2", NULL));
	store_free(st);

	CHECK(store_admin_open(&f.cfg, &sa, &err) == STORE_OK);
	CHECK(sa != NULL && store_admin_stats(sa, &stats, &err) == STORE_OK);
	CHECK(stats.keys_live == 2 && stats.keys_expired == 1);
	CHECK(stats.value_bytes == 2 && stats.versionstamp == 3);
	CHECK(sa != NULL && store_admin_sweep(sa, 10, NULL, NULL, &removed, &err) == STORE_OK);
	CHECK(removed == 1);
	CHECK(sa != NULL && store_admin_stats(sa, &stats, &err) == STORE_OK);
	CHECK(stats.keys_live == 2 && stats.keys_expired == 0);
	store_admin_close(sa);

	/* A write purges what expired, through the expiry index. */
	st = store_new(&f.cfg);
	CHECK(put(st, "e.soon", "4", 1, NULL) == STORE_OK);
	sleep_ms(20);
	CHECK(put(st, "e.other", "5", 0, NULL) == STORE_OK);
	store_free(st);
	CHECK(store_admin_open(&f.cfg, &sa, &err) == STORE_OK);
	CHECK(sa != NULL && store_admin_stats(sa, &stats, &err) == STORE_OK);
	CHECK(stats.keys_live == 3 && stats.keys_expired == 0);
	CHECK(sa != NULL && store_admin_verify(sa, &err) == STORE_OK);
	store_admin_close(sa);
	fixture_free(&f);
}

/* The expiry index as it is: its entries in order. */
struct index_dump {
	size_t n;
	int64_t when[8];
	char key[8][32];	/* dotted */
};

static int index_read_body(struct kvdb *db, DB_TXN *txn, void *arg)
{
	struct index_dump *out = arg;
	DB *expiry = kvdb_expiry(db);
	unsigned char when[8];
	char key[KEYPATH_MAX];
	DBC *cursor = NULL;
	DBT k, d;
	int ret;

	out->n = 0;
	if ((ret = expiry->cursor(expiry, txn, &cursor, 0)) != 0)
		return ret;
	for (;;) {
		kvdb_dbt_into(&k, when, sizeof(when));
		kvdb_dbt_into(&d, key, sizeof(key));
		if ((ret = cursor->get(cursor, &k, &d, DB_NEXT)) != 0)
			break;
		if (out->n == 8 || k.size != 8 || d.size >= sizeof(out->key[0])) {
			ret = EINVAL;
			break;
		}
		out->when[out->n] = (int64_t)util_get_be64(when);
		for (size_t i = 0; i < d.size; i++)
			out->key[out->n][i] = key[i] == KEYPATH_SEP ? '.' : key[i];
		out->key[out->n][d.size] = '\0';
		out->n++;
	}
	return kvdb_cursor_end(cursor, ret);
}

static struct index_dump index_of(struct store *st)
{
	struct index_dump out = { .n = 99 };

	CHECK(kvdb_run(st->db, false, index_read_body, &out) == STORE_OK);
	return out;
}

/* Whether the index holds exactly one entry, key's at when. */
static bool index_is(struct store *st, const char *key, int64_t when)
{
	struct index_dump ix = index_of(st);

	return ix.n == 1 && strcmp(ix.key[0], key) == 0 && ix.when[0] == when;
}

/* One index entry changed behind the core's back, to make it stale. */
struct index_edit {
	const char *key;	/* dotted */
	int64_t when;
	bool add;
};

static int index_edit_body(struct kvdb *db, DB_TXN *txn, void *arg)
{
	struct index_edit *e = arg;
	DB *expiry = kvdb_expiry(db);
	unsigned char when[8];
	char key[KEYPATH_MAX];
	size_t len = strlen(e->key);
	DBC *cursor = NULL;
	DBT k, d;
	int ret;

	util_put_be64(when, (uint64_t)e->when);
	keypath_encode(e->key, len, key);
	kvdb_dbt_into(&k, when, sizeof(when));
	k.size = sizeof(when);
	kvdb_dbt_into(&d, key, sizeof(key));
	d.size = (u_int32_t)len;
	if (e->add)
		return expiry->put(expiry, txn, &k, &d, DB_NODUPDATA);
	if ((ret = expiry->cursor(expiry, txn, &cursor, 0)) != 0)
		return ret;
	if ((ret = cursor->get(cursor, &k, &d, DB_GET_BOTH | DB_RMW)) == 0)
		ret = cursor->del(cursor, 0);
	if (ret == DB_NOTFOUND)
		ret = EINVAL;
	return kvdb_cursor_end(cursor, ret);
}

static enum store_status verify(const struct fixture *f)
{
	struct store_admin *sa = NULL;
	enum store_status status;
	struct error err;

	if (store_admin_open(&f->cfg, &sa, &err) != STORE_OK)
		return STORE_ERROR;
	status = store_admin_verify(sa, &err);
	store_admin_close(sa);
	return status;
}

/* The core keeps the expiry index in step with every write of the
 * primary, and verify tells when it is not. */
static void test_expiry_index(void)
{
	struct fixture f;
	struct store *st;
	struct store_admin *sa = NULL;
	struct index_dump ix;
	struct error err;
	uint64_t skipped;
	int64_t e1, e2;

	fixture_init(&f);
	st = store_new(&f.cfg);
	struct store_put p = { .key = "i.a", .key_len = 3, .value = "1", .value_len = 1,
			       .ttl_ms = 60000 };
	CHECK(store_put(st, &p) == STORE_OK);
	e1 = p.expires_at;
	CHECK(e1 > 0 && index_is(st, "i.a", e1));
	/* Without a ttl: no entry. */
	CHECK(put(st, "i.a", "2", 0, NULL) == STORE_OK);
	CHECK(index_of(st).n == 0);
	/* A ttl again, then another: one entry, the new expiry's. */
	CHECK(store_put(st, &p) == STORE_OK);
	e1 = p.expires_at;
	p.ttl_ms = 120000;
	CHECK(store_put(st, &p) == STORE_OK);
	e2 = p.expires_at;
	CHECK(e2 > e1 && index_is(st, "i.a", e2));
	/* A second key: one entry per key, in expiry order. */
	struct store_put q = { .key = "i.b", .key_len = 3, .value = "1", .value_len = 1,
			       .ttl_ms = 30000 };
	CHECK(store_put(st, &q) == STORE_OK);
	ix = index_of(st);
	CHECK(ix.n == 2 && strcmp(ix.key[0], "i.b") == 0 && ix.when[0] == q.expires_at &&
	      strcmp(ix.key[1], "i.a") == 0 && ix.when[1] == e2);
	/* A delete takes its entry. */
	struct store_delete del = { .key = "i.b", .key_len = 3 };
	CHECK(store_delete(st, &del) == STORE_OK && del.deleted);
	CHECK(index_is(st, "i.a", e2));
	del.key = "i.a";
	CHECK(store_delete(st, &del) == STORE_OK && del.deleted);
	CHECK(index_of(st).n == 0);

	/* Commits: a set with a ttl, a sum without one keeps the expiry, a
	 * sum with one replaces it, a set without one drops it, a delete
	 * with a ttl'd key takes it. */
	struct store_mutation m = { .op = STORE_SET, .key = "i.c", .key_len = 3, .value = "5",
				    .value_len = 1, .ttl_ms = 60000 };
	struct store_commit c = { .mutations = &m, .n_mutations = 1 };
	CHECK(store_commit(st, &c) == STORE_OK);
	ix = index_of(st);
	CHECK(ix.n == 1 && strcmp(ix.key[0], "i.c") == 0);
	e1 = ix.when[0];
	m = (struct store_mutation){ .op = STORE_SUM, .key = "i.c", .key_len = 3, .operand = 1 };
	CHECK(store_commit(st, &c) == STORE_OK && holds(st, "i.c", "6", NULL));
	CHECK(index_is(st, "i.c", e1));
	m.ttl_ms = 90000;
	CHECK(store_commit(st, &c) == STORE_OK && holds(st, "i.c", "7", NULL));
	ix = index_of(st);
	CHECK(ix.n == 1 && strcmp(ix.key[0], "i.c") == 0 && ix.when[0] > e1);
	m = (struct store_mutation){ .op = STORE_SET, .key = "i.c", .key_len = 3, .value = "8",
				     .value_len = 1 };
	CHECK(store_commit(st, &c) == STORE_OK);
	CHECK(index_of(st).n == 0);
	m.ttl_ms = 60000;
	CHECK(store_commit(st, &c) == STORE_OK && index_of(st).n == 1);
	m = (struct store_mutation){ .op = STORE_DELETE, .key = "i.c", .key_len = 3 };
	CHECK(store_commit(st, &c) == STORE_OK && index_of(st).n == 0);

	/* A purge takes the entry and the record. */
	CHECK(put(st, "i.d", "1", 1, NULL) == STORE_OK);
	CHECK(index_of(st).n == 1);
	sleep_ms(20);
	CHECK(put(st, "i.e", "1", 0, NULL) == STORE_OK);
	CHECK(index_of(st).n == 0);
	store_free(st);
	CHECK(store_admin_open(&f.cfg, &sa, &err) == STORE_OK);
	struct store_admin_stats stats;
	CHECK(sa != NULL && store_admin_stats(sa, &stats, &err) == STORE_OK);
	CHECK(stats.keys_live == 1 && stats.keys_expired == 0);

	/* A load over a key with a ttl: the loaded expiry replaces it. */
	int64_t later = util_now_ms() + 600000;
	struct store_admin_record recs[] = {
		{ .key = "i.f", .key_len = 3, .value = "1", .value_len = 1, .expires_at = later },
		{ .key = "i.e", .key_len = 3, .value = "2", .value_len = 1,
		  .expires_at = later + 1 },
		{ .key = "i.f", .key_len = 3, .value = "3", .value_len = 1,
		  .expires_at = later + 2 },
	};
	CHECK(sa != NULL && store_admin_load(sa, recs, 3, false, &skipped, NULL, &err) ==
	      STORE_OK);
	store_admin_close(sa);
	st = store_new(&f.cfg);
	ix = index_of(st);
	CHECK(ix.n == 2 && strcmp(ix.key[0], "i.e") == 0 && ix.when[0] == later + 1 &&
	      strcmp(ix.key[1], "i.f") == 0 && ix.when[1] == later + 2);
	store_free(st);
	CHECK(verify(&f) == STORE_OK);

	/* An entry missing: verify says so, and the key's next write mends
	 * the index. */
	st = store_new(&f.cfg);
	struct index_edit edit = { .key = "i.e", .when = later + 1, .add = false };
	CHECK(kvdb_run(st->db, true, index_edit_body, &edit) == STORE_OK);
	store_free(st);
	CHECK(verify(&f) == STORE_ERROR);
	st = store_new(&f.cfg);
	p = (struct store_put){ .key = "i.e", .key_len = 3, .value = "4", .value_len = 1,
				.ttl_ms = 60000 };
	CHECK(store_put(st, &p) == STORE_OK);
	ix = index_of(st);
	CHECK(ix.n == 2 && strcmp(ix.key[0], "i.e") == 0 && ix.when[0] == p.expires_at);
	store_free(st);
	CHECK(verify(&f) == STORE_OK);

	/* A stale entry, past, for a key whose record has no ttl: verify
	 * says so, and the purge drops the entry but keeps the record. */
	st = store_new(&f.cfg);
	CHECK(put(st, "i.g", "\"kept\"", 0, NULL) == STORE_OK);
	edit = (struct index_edit){ .key = "i.g", .when = 1000, .add = true };
	CHECK(kvdb_run(st->db, true, index_edit_body, &edit) == STORE_OK);
	/* And one for no record at all. */
	edit = (struct index_edit){ .key = "i.none", .when = 1001, .add = true };
	CHECK(kvdb_run(st->db, true, index_edit_body, &edit) == STORE_OK);
	CHECK(index_of(st).n == 4);
	store_free(st);
	CHECK(verify(&f) == STORE_ERROR);
	st = store_new(&f.cfg);
	CHECK(put(st, "i.h", "1", 0, NULL) == STORE_OK);
	CHECK(holds(st, "i.g", "\"kept\"", NULL));
	ix = index_of(st);
	CHECK(ix.n == 2 && strcmp(ix.key[0], "i.e") == 0 && strcmp(ix.key[1], "i.f") == 0);
	store_free(st);
	CHECK(verify(&f) == STORE_OK);

	/* A sweep goes past a stale entry to the expired records after it. */
	st = store_new(&f.cfg);
	CHECK(put(st, "i.x", "1", 1, NULL) == STORE_OK);
	sleep_ms(20);
	edit = (struct index_edit){ .key = "i.none", .when = 1000, .add = true };
	CHECK(kvdb_run(st->db, true, index_edit_body, &edit) == STORE_OK);
	CHECK(index_of(st).n == 4);
	store_free(st);
	uint64_t removed = 0;
	CHECK(store_admin_open(&f.cfg, &sa, &err) == STORE_OK);
	CHECK(sa != NULL && store_admin_sweep(sa, 1, NULL, NULL, &removed, &err) == STORE_OK);
	CHECK(removed == 1);
	store_admin_close(sa);
	st = store_new(&f.cfg);
	CHECK(index_of(st).n == 2);
	store_free(st);
	CHECK(verify(&f) == STORE_OK);
	fixture_free(&f);
}

/* The feed of prefix after since into ch (limit 1000, values). */
static enum store_status changes(struct store *st, const char *prefix, uint64_t since,
				 unsigned limit, struct store_changes *ch)
{
	memset(ch, 0, sizeof(*ch));
	ch->prefix = prefix;
	ch->prefix_len = strlen(prefix);
	ch->has_since = true;
	ch->since = since;
	ch->with_values = true;
	ch->limit = limit;
	return store_changes(st, ch);
}

static bool change_is(const struct store_change *c, const char *key, enum store_change_op op,
		      uint64_t vs)
{
	return strcmp(c->key, key) == 0 && c->op == op && c->versionstamp == vs;
}

static void test_changes(void)
{
	struct fixture f;
	struct store *st;
	struct store_changes ch;
	uint64_t vs, current;
	int64_t next;

	fixture_init(&f);
	st = store_new(&f.cfg);
	CHECK(put(st, "a.x", "1", 0, NULL) == STORE_OK);
	CHECK(put(st, "ab.y", "2", 0, NULL) == STORE_OK);
	struct store_delete del = { .key = "a.x", .key_len = 3 };
	CHECK(store_delete(st, &del) == STORE_OK && del.deleted && del.versionstamp == 3);
	struct store_mutation m[] = {
		{ .op = STORE_SET, .key = "a", .key_len = 1, .value = "3", .value_len = 1 },
		{ .op = STORE_SUM, .key = "a.n", .key_len = 3, .operand = 5 },
	};
	struct store_commit c = { .mutations = m, .n_mutations = 2 };
	CHECK(store_commit(st, &c) == STORE_OK && c.versionstamp == 4);

	CHECK(changes(st, "a", 0, 1000, &ch) == STORE_OK);
	CHECK(ch.count == 4 && ch.versionstamp == 4 && !ch.more);
	if (ch.count == 4) {
		CHECK(change_is(&ch.changes[0], "a.x", STORE_CHANGE_SET, 1));
		CHECK(change_is(&ch.changes[1], "a.x", STORE_CHANGE_DELETE, 3));
		CHECK(change_is(&ch.changes[2], "a", STORE_CHANGE_SET, 4));
		CHECK(change_is(&ch.changes[3], "a.n", STORE_CHANGE_SET, 4));
		CHECK(ch.changes[3].value_len == 1 && ch.changes[3].value[0] == '5');
	}
	store_changes_free(&ch);
	/* A commit is never split: an answer ends at the first commit
	 * boundary once it has limit changes. */
	CHECK(changes(st, "a", 0, 2, &ch) == STORE_OK);
	CHECK(ch.count == 2 && ch.versionstamp == 3 && ch.more);
	store_changes_free(&ch);
	CHECK(changes(st, "a", 3, 1, &ch) == STORE_OK);
	CHECK(ch.count == 2 && ch.versionstamp == 4 && !ch.more);
	store_changes_free(&ch);
	CHECK(changes(st, "", 1, 1000, &ch) == STORE_OK && ch.count == 4);
	store_changes_free(&ch);
	CHECK(changes(st, "a", 5, 1000, &ch) == STORE_AHEAD);
	store_changes_free(&ch);
	CHECK(store_versionstamp(st, &current) == STORE_OK && current == 4);

	/* An expiry shows once the sweep runs, under a versionstamp of its own. */
	CHECK(put(st, "a.t", "7", 1, &vs) == STORE_OK);
	sleep_ms(20);
	CHECK(store_expire_due(st, &next) == STORE_OK && next == 0);
	CHECK(changes(st, "a.t", vs, 1000, &ch) == STORE_OK);
	CHECK(ch.count == 1 && ch.count == 1 &&
	      change_is(&ch.changes[0], "a.t", STORE_CHANGE_EXPIRE, vs + 1));
	store_changes_free(&ch);
	store_free(st);

	/* Pruning: past changes_max the oldest commits go, and a since
	 * before them is gone. */
	f.cfg.changes_max = 64u << 10;
	st = store_new(&f.cfg);
	char value[1100];

	memset(value, '1', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	for (int i = 0; i < 100; i++)
		CHECK(put(st, "p.k", value, 0, &vs) == STORE_OK);
	CHECK(changes(st, "p", 0, 1000, &ch) == STORE_GONE);
	store_changes_free(&ch);
	CHECK(changes(st, "p", vs - 10, 1000, &ch) == STORE_OK && ch.count == 10);
	store_changes_free(&ch);
	store_free(st);

	/* And past changes_keep: a write prunes what is older. */
	f.cfg.changes_max = 64u << 20;
	f.cfg.changes_keep_ms = 30;
	st = store_new(&f.cfg);
	CHECK(put(st, "t.a", "1", 0, &vs) == STORE_OK);
	sleep_ms(60);
	CHECK(put(st, "t.b", "2", 0, NULL) == STORE_OK);
	CHECK(changes(st, "t", vs - 1, 1000, &ch) == STORE_GONE);
	store_changes_free(&ch);
	CHECK(changes(st, "t", vs, 1000, &ch) == STORE_OK && ch.count == 1);
	store_changes_free(&ch);
	store_free(st);
	fixture_free(&f);
}

struct dumped {
	char keys[8][16];
	uint64_t vs[8];
	size_t n;
};

static bool collect(const struct store_admin_record *rec, void *arg)
{
	struct dumped *d = arg;

	if (d->n == 8 || rec->key_len >= sizeof(d->keys[0]))
		return false;
	memcpy(d->keys[d->n], rec->key, rec->key_len + 1);
	d->vs[d->n++] = rec->versionstamp;
	return true;
}

static void test_dump_load_backup(void)
{
	struct fixture f, g;
	struct store *st;
	struct store_admin *sa = NULL;
	struct dumped d = { .n = 0 };
	struct error err;
	char backup[96];
	uint64_t skipped = 1, vs, keys = 0;
	bool fresh = false;

	fixture_init(&f);
	st = store_new(&f.cfg);
	CHECK(put(st, "d.b", "\"b\"", 0, NULL) == STORE_OK);
	CHECK(put(st, "d.a", "\"a\"", 0, NULL) == STORE_OK);
	CHECK(put(st, "x", "0", 0, NULL) == STORE_OK);
	store_free(st);

	CHECK(store_admin_open(&f.cfg, &sa, &err) == STORE_OK);
	CHECK(sa != NULL && store_admin_dump(sa, "d", 1, NULL, collect, &d, &err) == STORE_OK);
	CHECK(d.n == 2 && strcmp(d.keys[0], "d.a") == 0 && strcmp(d.keys[1], "d.b") == 0);
	CHECK(d.n == 2 && d.vs[0] == 2 && d.vs[1] == 1);

	snprintf(backup, sizeof(backup), "%s/backup", f.dir);
	CHECK(sa != NULL && store_admin_backup(sa, backup, &err) == STORE_OK);
	CHECK(sa != NULL && store_admin_backup(sa, backup, &err) == STORE_PRECONDITION);
	CHECK(strcmp(err.message, "the directory is not empty") == 0);
	store_admin_close(sa);

	/* Loaded into a fresh store, records keep their versionstamps. */
	fixture_init(&g);
	CHECK(store_admin_open(&g.cfg, &sa, &err) == STORE_OK);
	CHECK(sa != NULL && store_admin_fresh(sa, &fresh, &err) == STORE_OK && fresh);
	struct store_admin_record recs[] = {
		{ .key = "d.a", .key_len = 3, .value = "\"a\"", .value_len = 3, .versionstamp = 2 },
		{ .key = "old", .key_len = 3, .value = "1", .value_len = 1, .expires_at = 1,
		  .versionstamp = 3 },
	};
	CHECK(sa != NULL && store_admin_load(sa, recs, 2, true, &skipped, NULL, &err) == STORE_OK);
	CHECK(skipped == 1);
	store_admin_close(sa);
	st = store_new(&g.cfg);
	CHECK(holds(st, "d.a", "\"a\"", &vs) && vs == 2);
	CHECK(put(st, "d.c", "1", 0, &vs) == STORE_OK && vs == 3);
	store_free(st);
	fixture_free(&g);

	/* The backup restored into a new directory. */
	fixture_init(&g);
	CHECK(rmdir(g.dir) == 0);
	CHECK(store_admin_restore(&g.cfg, backup, &keys, &err) == STORE_OK);
	CHECK(keys == 3);
	CHECK(store_admin_restore(&g.cfg, backup, &keys, &err) == STORE_PRECONDITION);
	st = store_new(&g.cfg);
	CHECK(holds(st, "d.b", "\"b\"", &vs) && vs == 1);
	store_free(st);
	fixture_free(&g);
	fsutil_dir_remove(backup);
	fixture_free(&f);
}

int main(void)
{
	test_ranges();
	test_put_get_delete();
	test_list();
	test_commit();
	test_core_counter();
	test_expiry_and_sweep();
	test_expiry_index();
	test_dump_load_backup();
	test_changes();
	return UNIT_DONE();
}
