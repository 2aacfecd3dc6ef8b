/* seed.c: fills a store with the benchmark's keys through the store API
 *
 *   bench/seed CONF KEYS VALUE_BYTES
 *
 * Writes bench.k00000 .. bench.k(KEYS-1), each a JSON value of exactly
 * VALUE_BYTES bytes: the values bench/kv.lua's bench_value() builds, so a
 * GET of the benchmark finds what a PUT of it would have written. It goes
 * through store_put(), the function a PUT request ends in, without HTTP:
 * seeding a million keys through the web server would take longer than
 * the benchmark itself. The store directory and cache size come from the
 * kv.conf at CONF, like a worker's; the store may be in use by workers. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "store.h"
#include "util.h"

/* The bench's keys are bench.k and at least five digits. */
#define KEY_MAX 32

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

static bool parse_args(int argc, char **argv, uint64_t *keys, uint64_t *size)
{
	if (argc != 4 || !util_parse_u64(argv[2], strlen(argv[2]), keys) ||
	    !util_parse_u64(argv[3], strlen(argv[3]), size) || *size < 32 || *size > (1u << 20)) {
		fprintf(stderr, "usage: seed CONF KEYS VALUE_BYTES (32 to 1048576 bytes)\n");
		return false;
	}
	return true;
}

static bool seed(struct store *st, uint64_t keys, size_t size, char *value)
{
	char key[KEY_MAX];
	struct store_put put;
	enum store_status status;

	for (uint64_t i = 0; i < keys; i++) {
		memset(&put, 0, sizeof(put));
		put.key = key;
		put.key_len = (size_t)snprintf(key, sizeof(key), "bench.k%05" PRIu64, i);
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

int main(int argc, char **argv)
{
	struct config cfg = { 0 };
	struct store *st = NULL;
	uint64_t keys, size;
	char *value = NULL;
	struct error err;
	int status = EXIT_FAILURE;

	if (!parse_args(argc, argv, &keys, &size))
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
	if (seed(st, keys, size, value))
		status = EXIT_SUCCESS;
out:
	store_free(st);
	free(value);
	config_free(&cfg);
	return status;
}
