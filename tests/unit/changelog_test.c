/* changelog_test.c: the change log's byte layouts and its pending list */
#include <stdint.h>
#include <string.h>

#include "changelog.h"
#include "unit.h"

static void test_meta(void)
{
	struct changelog_meta m = { .present = true, .floor = 7, .bytes = 1u << 20, .entries = 42,
				    .oldest_ms = 1700000000000 };
	struct changelog_meta back;
	unsigned char buf[CHANGELOG_META_LEN];

	changelog_meta_pack(&m, buf);
	CHECK(changelog_meta_unpack(buf, sizeof(buf), &back));
	CHECK(back.present && back.floor == 7 && back.bytes == 1u << 20 && back.entries == 42);
	CHECK(back.oldest_ms == 1700000000000);
	/* A counter of a store that kept no log: no meta, not an error. */
	CHECK(changelog_meta_unpack(buf, 0, &back) && !back.present && back.floor == 0);
	CHECK(!changelog_meta_unpack(buf, sizeof(buf) - 1, &back));
	CHECK(!changelog_meta_unpack(buf, 1, &back));
}

static void test_keys_sort_in_commit_order(void)
{
	unsigned char a[CHANGELOG_KEY_LEN], b[CHANGELOG_KEY_LEN], c[CHANGELOG_KEY_LEN];

	changelog_key_pack(255, 1, a);
	changelog_key_pack(256, 0, b);
	changelog_key_pack(256, 70000, c);
	CHECK(memcmp(a, b, sizeof(a)) < 0);
	CHECK(memcmp(b, c, sizeof(b)) < 0);
}

static void test_entry_round_trip(void)
{
	const char key[] = "users\0john", value[] = "{\"a\": 1.50}";
	struct changelog_entry e = {
		.versionstamp = 9, .seq = 3, .op = CHANGELOG_SET, .time_ms = 1700000000000,
		.expires_at = 1800000000000, .key = key, .key_len = sizeof(key) - 1,
		.value = value, .value_len = strlen(value),
	};
	unsigned char k[CHANGELOG_KEY_LEN], d[128];
	struct changelog_entry back;
	size_t size = changelog_data_size(&e);

	CHECK(size == CHANGELOG_DATA_HEADER + e.key_len + e.value_len && size <= sizeof(d));
	changelog_key_pack(e.versionstamp, e.seq, k);
	changelog_data_pack(&e, d);
	CHECK(changelog_unpack(k, sizeof(k), d, size, &back));
	CHECK(back.versionstamp == 9 && back.seq == 3 && back.op == CHANGELOG_SET);
	CHECK(back.time_ms == e.time_ms && back.expires_at == e.expires_at);
	CHECK(back.key_len == e.key_len && memcmp(back.key, key, e.key_len) == 0);
	CHECK(back.value_len == e.value_len && memcmp(back.value, value, e.value_len) == 0);

	/* Damage of every kind is refused, never read past. */
	CHECK(!changelog_unpack(k, sizeof(k) - 1, d, size, &back));
	CHECK(!changelog_unpack(k, sizeof(k), d, size - 1, &back));
	CHECK(!changelog_unpack(k, sizeof(k), d, size + 1, &back));
	CHECK(!changelog_unpack(k, sizeof(k), d, CHANGELOG_DATA_HEADER - 1, &back));
	d[1] = 9;
	CHECK(!changelog_unpack(k, sizeof(k), d, size, &back));
	d[1] = CHANGELOG_SET;
	d[0] = 2;
	CHECK(!changelog_unpack(k, sizeof(k), d, size, &back));
	d[0] = 1;
	d[19] = 0;	/* key length 0 */
	d[18] = 0;
	CHECK(!changelog_unpack(k, sizeof(k), d, size, &back));

	/* A delete carries no value. */
	struct changelog_entry del = { .op = CHANGELOG_DELETE, .key = "a", .key_len = 1 };

	changelog_data_pack(&del, d);
	CHECK(changelog_unpack(k, sizeof(k), d, changelog_data_size(&del), &back));
	CHECK(back.op == CHANGELOG_DELETE && back.value == NULL && back.value_len == 0);
}

static void test_pending(void)
{
	struct changelog_pending p = { 0 };
	char key[8];

	for (int i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		CHECK(changelog_pending_add(&p, CHANGELOG_SET, key, strlen(key), "12", 2, 0) == 0);
	}
	CHECK(p.count == 100 && p.cap >= 100);
	CHECK(p.entries[42].key_len == 3 && memcmp(p.entries[42].key, "k42", 3) == 0);
	CHECK(p.entries[42].value_len == 2 && memcmp(p.entries[42].value, "12", 2) == 0);
	changelog_pending_clear(&p);
	CHECK(p.count == 0);
	CHECK(changelog_pending_add(&p, CHANGELOG_EXPIRE, "x", 1, NULL, 0, 0) == 0);
	CHECK(p.entries[0].op == CHANGELOG_EXPIRE && p.entries[0].value == NULL);
	changelog_pending_clear(&p);
	free(p.entries);
}

int main(void)
{
	test_meta();
	test_keys_sort_in_commit_order();
	test_entry_round_trip();
	test_pending();
	return UNIT_DONE();
}
