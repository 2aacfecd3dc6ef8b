/* config.c: the configuration file, read once at start-up and read-only after
 *
 * The syntax is "name = value" lines with "#" comments. Each name has a row
 * in a table that says how to parse its value; an unknown name or a bad
 * value stops start-up with the file and line, because a setting that is
 * silently ignored is worse than a service that does not start. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"

#ifndef KV_DEFAULT_STORE
#define KV_DEFAULT_STORE "/var/lib/kv"
#endif

/* A config line longer than this is an error, not a truncation. */
#define CONFIG_LINE_MAX 4096

typedef bool (*config_parse_fn)(struct config *cfg, const char *value, const char **why);

static bool parse_bool(const char *value, bool *out)
{
	if (strcmp(value, "on") == 0 || strcmp(value, "true") == 0 || strcmp(value, "yes") == 0) {
		*out = true;
		return true;
	}
	if (strcmp(value, "off") == 0 || strcmp(value, "false") == 0 || strcmp(value, "no") == 0) {
		*out = false;
		return true;
	}
	return false;
}

/* A byte count with an optional K, M or G suffix (powers of 1024). */
static bool parse_size(const char *value, uint64_t min, uint64_t max, uint64_t *out)
{
	size_t len = strlen(value);
	uint64_t unit = 1, n;

	if (len > 0) {
		switch (value[len - 1]) {
		case 'K': case 'k': unit = 1ULL << 10; len--; break;
		case 'M': case 'm': unit = 1ULL << 20; len--; break;
		case 'G': case 'g': unit = 1ULL << 30; len--; break;
		}
	}
	if (!util_parse_u64(value, len, &n) || n > max / unit || n * unit < min)
		return false;
	*out = n * unit;
	return true;
}

static bool set_store(struct config *cfg, const char *value, const char **why)
{
	if (value[0] != '/') {
		*why = "must be an absolute path";
		return false;
	}
	if (!config_set_store(cfg, value)) {
		*why = "out of memory";
		return false;
	}
	return true;
}

static bool set_max_value(struct config *cfg, const char *value, const char **why)
{
	uint64_t n;

	*why = "must be a byte count from 16 to 64M";
	if (!parse_size(value, 16, 64ULL << 20, &n))
		return false;
	cfg->max_value = (size_t)n;
	return true;
}

static bool set_max_body(struct config *cfg, const char *value, const char **why)
{
	uint64_t n;

	*why = "must be a byte count from 64 to 256M";
	if (!parse_size(value, 64, 256ULL << 20, &n))
		return false;
	cfg->max_body = (size_t)n;
	return true;
}

static bool set_sync(struct config *cfg, const char *value, const char **why)
{
	*why = "must be on or off";
	return parse_bool(value, &cfg->sync);
}

static bool set_open(struct config *cfg, const char *value, const char **why)
{
	if (strcmp(value, "per_process") == 0)
		cfg->open = CONFIG_OPEN_PER_PROCESS;
	else if (strcmp(value, "per_request") == 0)
		cfg->open = CONFIG_OPEN_PER_REQUEST;
	else {
		*why = "must be per_process or per_request";
		return false;
	}
	return true;
}

static bool set_cache_size(struct config *cfg, const char *value, const char **why)
{
	*why = "must be a byte count from 256K to 64G";
	return parse_size(value, 256ULL << 10, 64ULL << 30, &cfg->cache_size);
}

static const struct {
	const char *name;
	config_parse_fn parse;
} directives[] = {
	{ "store", set_store },
	{ "max_value", set_max_value },
	{ "max_body", set_max_body },
	{ "sync", set_sync },
	{ "open", set_open },
	{ "cache_size", set_cache_size },
};

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		end--;
	*end = '\0';
	return s;
}

/* Applies one line; returns NULL or the reason it is bad. */
static const char *apply_line(struct config *cfg, char *line)
{
	char *eq, *name, *value;
	const char *why = NULL;

	line = trim(line);
	if (line[0] == '\0' || line[0] == '#')
		return NULL;
	eq = strchr(line, '=');
	if (eq == NULL)
		return "expected name = value";
	*eq = '\0';
	name = trim(line);
	value = trim(eq + 1);
	for (size_t i = 0; i < sizeof(directives) / sizeof(directives[0]); i++) {
		if (strcmp(name, directives[i].name) != 0)
			continue;
		if (value[0] == '\0')
			return "empty value";
		return directives[i].parse(cfg, value, &why) ? NULL : why;
	}
	return "unknown setting";
}

static void defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_value = 65536;
	cfg->max_body = 1048576;
	cfg->sync = false;
	cfg->open = CONFIG_OPEN_PER_PROCESS;
	cfg->cache_size = 16ULL << 20;
}

bool config_load(struct config *cfg, const char *path, bool required,
		 char *err, size_t errlen)
{
	bool ok = false;
	FILE *f = NULL;
	char line[CONFIG_LINE_MAX];
	unsigned lineno = 0;

	defaults(cfg);
	if (!config_set_store(cfg, KV_DEFAULT_STORE)) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	f = fopen(path, "r");
	if (f == NULL) {
		if (errno == ENOENT && !required) {
			ok = true;
			goto out;
		}
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		goto out;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *why;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line too long", path, lineno);
			goto out;
		}
		why = apply_line(cfg, line);
		if (why != NULL) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
			goto out;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto out;
	}
	ok = true;
out:
	if (f != NULL)
		fclose(f);
	return ok;
}

bool config_set_store(struct config *cfg, const char *dir)
{
	char *copy = strdup(dir);

	if (copy == NULL)
		return false;
	free(cfg->store);
	cfg->store = copy;
	return true;
}

void config_free(struct config *cfg)
{
	free(cfg->store);
	cfg->store = NULL;
}
