/* config_fuzz.c: the configuration file (src/config.c)
 *
 * config_load() reads a path, so each input is written to one temporary
 * file first, made on the first call and removed at exit. */
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"

static char path[] = "/tmp/kv-config-fuzz-XXXXXX";
static int fd = -1;

static void remove_file(void)
{
	unlink(path);
}

static bool write_input(const uint8_t *data, size_t size)
{
	if (fd < 0) {
		fd = mkstemp(path);
		if (fd < 0)
			return false;
		atexit(remove_file);
	}
	return ftruncate(fd, 0) == 0 && pwrite(fd, data, size, 0) == (ssize_t)size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg = { 0 };
	struct error err;

	if (!write_input(data, size))
		return 0;
	err.message[0] = '\0';
	if (config_load(&cfg, path, true, &err)) {
		FUZZ_REQUIRE(cfg.store != NULL);
		FUZZ_REQUIRE(cfg.max_value >= 16 && cfg.max_value <= 64u << 20);
		FUZZ_REQUIRE(cfg.max_body >= 64 && cfg.max_body <= 256u << 20);
		FUZZ_REQUIRE(cfg.cache_size >= 256u << 10 && cfg.cache_size <= 64ULL << 30);
	} else {
		FUZZ_REQUIRE(err.status == 0 && err.code == NULL);
		FUZZ_REQUIRE(err.message[0] != '\0' && strlen(err.message) < sizeof(err.message));
	}
	config_free(&cfg);
	return 0;
}
