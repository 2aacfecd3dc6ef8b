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

/* A number the table bounds is within them once loaded: a rate or a
 * burst only when set. */
static bool within_bounds(const struct config *cfg, const struct config_setting *s)
{
	const char *field = (const char *)cfg + s->offset;
	uint64_t n;

	if (s->type != CONFIG_SIZE && s->type != CONFIG_U32 && s->type != CONFIG_RATE)
		return true;
	if (s->width == sizeof(uint64_t)) {
		memcpy(&n, field, sizeof(n));
	} else {
		uint32_t v;

		memcpy(&v, field, sizeof(v));
		n = v;
	}
	if (n == 0 && s->def == NULL)
		return true;
	return n >= s->min && n <= s->max;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg = { 0 };
	struct error err;

	if (!write_input(data, size))
		return 0;
	err.message[0] = '\0';
	if (config_load(&cfg, path, true, &err)) {
		FUZZ_REQUIRE(cfg.store != NULL && cfg.store[0] == '/');
		for (size_t i = 0; i < config_n_settings; i++)
			FUZZ_REQUIRE(within_bounds(&cfg, &config_settings[i]));
		FUZZ_REQUIRE(cfg.rate == 0 || cfg.burst != 0);
	} else {
		FUZZ_REQUIRE(err.status == 0 && err.code == NULL);
		FUZZ_REQUIRE(err.message[0] != '\0' && strlen(err.message) < sizeof(err.message));
	}
	config_free(&cfg);
	return 0;
}
