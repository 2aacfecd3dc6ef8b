/* seed.c: fills a store with the benchmark's keys through the store API
 *
 *   bench/seed CONF KEYS VALUE_BYTES [PREFIX]
 *
 * Writes bench.k00000 .. bench.k(KEYS-1), each a JSON value of exactly
 * VALUE_BYTES bytes: the values bench/kv.lua's bench_value() builds, so a
 * GET of the benchmark finds what a PUT of it would have written. It goes
 * through store_put(), the function a PUT request ends in, without HTTP:
 * seeding a million keys through the web server would take longer than
 * the benchmark itself. The store directory and cache size come from the
 * kv.conf at CONF, like a worker's; the store may be in use by workers.  *
 * With a PREFIX it writes PREFIX.k00000 .. PREFIX.k(KEYS-1) instead, for
 * the trees of the one-level list, in atomic commits of SEED_BATCH keys
 * (store_commit(), as POST /kv/ does): a tree of a million keys seeds in
 * seconds rather than minutes. Every key of a batch holds the same value,
 * which a list's answer does not depend on. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "keypath.h"
#include "store.h"
#include "util.h"

/* The bench's keys are a prefix, .k and at least five digits. */
#define PREFIX_MAX 32
#define KEY_MAX (PREFIX_MAX + 32)

/* The keys of one commit when seeding a tree. */
#define SEED_BATCH 1000

/* Progress on stderr every this many keys, for the million-key run. */
#define REPORT_EVERY 100000

/* The value of key number i: {"id":"kNNNNN","pad":"xxx..."}, size bytes
 * (at least the head's), written to out, which holds size bytes. */
static size_t bench_value(uint64_t i, size_t size, char *out)
{
	int head = snprintf(out, size, "{\"id\":\"k%05" PRIu64 "\",\"pad\":\"", i);
	size_t n = (size_t)head;

	if (head < 0 || n + 2 > size)
		return 0;
	memset(out + n, 'x', size - n - 2);
	memcpy(out + size - 2, "\"}", 2);
	return size;
}

static bool parse_args(int argc, char **argv, uint64_t *keys, uint64_t *size,
		       const char **prefix)
{
	*prefix = argc == 5 ? argv[4] : "bench";
	if ((argc != 4 && argc != 5) || !util_parse_u64(argv[2], strlen(argv[2]), keys) ||
	    !util_parse_u64(argv[3], strlen(argv[3]), size) || *size < 32 || *size > (1u << 20) ||
	    !keypath_valid(*prefix, strlen(*prefix)) || strlen(*prefix) > PREFIX_MAX) {
		fprintf(stderr, "usage: seed CONF KEYS VALUE_BYTES [PREFIX] (32 to 1048576 bytes; "
			"PREFIX a keypath of at most %d bytes)\n", PREFIX_MAX);
		return false;
	}
	return true;
}

static bool seed(struct store *st, const char *prefix, uint64_t keys, size_t size, char *value)
{
	char key[KEY_MAX];
	struct store_put put;
	enum store_status status;

	for (uint64_t i = 0; i < keys; i++) {
		memset(&put, 0, sizeof(put));
		put.key = key;
		put.key_len = (size_t)snprintf(key, sizeof(key), "%s.k%05" PRIu64, prefix, i);
		put.value = value;
		put.value_len = bench_value(i, size, value);
		if (put.value_len == 0) {
			fprintf(stderr, "seed: %zu bytes cannot hold the value of key %" PRIu64 "\n",
				size, i);
			return false;
		}
		if ((status = store_put(st, &put)) != STORE_OK) {
			fprintf(stderr, "seed: writing %s failed (store status %d)\n", key, (int)status);
			return false;
		}
		if ((i + 1) % REPORT_EVERY == 0)
			fprintf(stderr, "seed: %" PRIu64 " keys\n", i + 1);
	}
	return true;
}

/* The keys from first on, at most SEED_BATCH, in one commit. */
static bool commit_batch(struct store *st, const char *prefix, uint64_t first, uint64_t n,
			 const char *value, size_t value_len, struct store_mutation *m,
			 char (*keys)[KEY_MAX])
{
	struct store_commit op = { .mutations = m, .n_mutations = (size_t)n };
	enum store_status status;

	for (uint64_t i = 0; i < n; i++) {
		memset(&m[i], 0, sizeof(m[i]));
		m[i].op = STORE_SET;
		m[i].key = keys[i];
		m[i].key_len = (size_t)snprintf(keys[i], KEY_MAX, "%s.k%05" PRIu64, prefix, first + i);
		m[i].value = value;
		m[i].value_len = value_len;
	}
	if ((status = store_commit(st, &op)) != STORE_OK) {
		fprintf(stderr, "seed: writing %s.k%05" PRIu64 " and on failed (store status %d)\n",
			prefix, first, (int)status);
		return false;
	}
	return true;
}

static bool seed_tree(struct store *st, const char *prefix, uint64_t keys, size_t size,
		      char *value)
{
	struct store_mutation *m = calloc(SEED_BATCH, sizeof(*m));
	char (*names)[KEY_MAX] = calloc(SEED_BATCH, KEY_MAX);
	size_t value_len = bench_value(0, size, value);
	bool ok = m != NULL && names != NULL && value_len > 0;

	for (uint64_t i = 0; ok && i < keys; i += SEED_BATCH) {
		uint64_t n = keys - i < SEED_BATCH ? keys - i : SEED_BATCH;

		ok = commit_batch(st, prefix, i, n, value, value_len, m, names);
	}
	free(m);
	free(names);
	return ok;
}

int main(int argc, char **argv)
{
	struct config cfg = { 0 };
	struct store *st = NULL;
	uint64_t keys, size;
	const char *prefix;
	char *value = NULL;
	struct error err;
	int status = EXIT_FAILURE;

	if (!parse_args(argc, argv, &keys, &size, &prefix))
		return 2;
	if (!config_load(&cfg, argv[1], true, &err)) {
		fprintf(stderr, "seed: %s\n", err.message);
		goto out;
	}
	value = malloc(size);
	st = store_new(&cfg);
	if (value == NULL || st == NULL) {
		fprintf(stderr, "seed: out of memory\n");
		goto out;
	}
	if (argc == 5 ? seed_tree(st, prefix, keys, size, value) : seed(st, prefix, keys, size, value))
		status = EXIT_SUCCESS;
out:
	store_free(st);
	free(value);
	config_free(&cfg);
	return status;
}
