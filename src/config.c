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

#include "auth.h"
#include "config.h"
#include "keypath.h"
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

static bool set_auth(struct config *cfg, const char *value, const char **why)
{
	*why = "must be on or off";
	return parse_bool(value, &cfg->auth);
}

static bool set_read_only(struct config *cfg, const char *value, const char **why)
{
	*why = "must be on or off";
	return parse_bool(value, &cfg->read_only);
}

/* The bound keeps the limiter's arithmetic (nanoseconds per request) exact
 * enough and far above anything one host serves. */
#define RATE_MAX 1000000

/* "50/s": a count of requests per second, minute or hour. */
static bool set_rate(struct config *cfg, const char *value, const char **why)
{
	const char *slash = strchr(value, '/');
	uint64_t n;

	*why = "must be N/s, N/m or N/h with N from 1 to 1000000";
	if (slash == NULL || !util_parse_u64(value, (size_t)(slash - value), &n) ||
	    n < 1 || n > RATE_MAX)
		return false;
	if (strcmp(slash, "/s") == 0)
		cfg->rate_period_s = 1;
	else if (strcmp(slash, "/m") == 0)
		cfg->rate_period_s = 60;
	else if (strcmp(slash, "/h") == 0)
		cfg->rate_period_s = 3600;
	else
		return false;
	cfg->rate = (uint32_t)n;
	return true;
}

static bool set_burst(struct config *cfg, const char *value, const char **why)
{
	uint64_t n;

	*why = "must be a whole number from 1 to 1000000";
	if (!util_parse_u64(value, strlen(value), &n) || n < 1 || n > RATE_MAX)
		return false;
	cfg->burst = (uint32_t)n;
	return true;
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
	{ "auth", set_auth },
	{ "rate", set_rate },
	{ "burst", set_burst },
	{ "read_only", set_read_only },
};

/* ------------------------------------------------------------------------
 * [token NAME] sections: hash, read and write */

typedef bool (*token_parse_fn)(struct config_token *t, char *value, const char **why);

static bool set_hash(struct config_token *t, char *value, const char **why)
{
	static const char prefix[] = "sha256:";
	size_t hex_len = strlen(value) - (sizeof(prefix) - 1);

	if (t->has_hash) {
		*why = "given twice in this section";
		return false;
	}
	*why = "must be sha256: and 64 hex digits (kvctl token NAME prints it)";
	if (strncmp(value, prefix, sizeof(prefix) - 1) != 0 || hex_len != 2 * CONFIG_HASH_LEN ||
	    !util_hex_decode(value + sizeof(prefix) - 1, hex_len, t->hash))
		return false;
	t->has_hash = true;
	return true;
}

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

/* A comma-separated list of grants, each "*" or a keypath. */
static bool parse_grants(char *value, char ***grants, size_t *n, const char **why)
{
	if (*grants != NULL) {
		*why = "given twice in this section";
		return false;
	}
	*why = "must be \"*\" or keypaths separated by commas";
	for (char *p = value; p != NULL;) {
		char *comma = strchr(p, ',');
		char *grant, **more;

		if (comma != NULL)
			*comma = '\0';
		grant = trim(p);
		p = comma != NULL ? comma + 1 : NULL;
		if (strcmp(grant, "*") != 0 && !keypath_valid(grant, strlen(grant)))
			return false;
		more = realloc(*grants, (*n + 1) * sizeof(**grants));
		if (more == NULL || (more[*n] = strdup(grant)) == NULL) {
			if (more != NULL)
				*grants = more;
			*why = "out of memory";
			return false;
		}
		*grants = more;
		(*n)++;
	}
	return true;
}

static bool set_read(struct config_token *t, char *value, const char **why)
{
	return parse_grants(value, &t->read, &t->n_read, why);
}

static bool set_write(struct config_token *t, char *value, const char **why)
{
	return parse_grants(value, &t->write, &t->n_write, why);
}

static const struct {
	const char *name;
	token_parse_fn parse;
} token_directives[] = {
	{ "hash", set_hash },
	{ "read", set_read },
	{ "write", set_write },
};

/* Checks the section that ends here: a token without a hash or with
 * another token's hash is a mistake, not a token that never matches. */
static const char *finish_token(const struct config *cfg)
{
	const struct config_token *t;

	if (cfg->n_tokens == 0)
		return NULL;
	t = &cfg->tokens[cfg->n_tokens - 1];
	if (!t->has_hash)
		return "this [token] section has no hash";
	for (size_t i = 0; i + 1 < cfg->n_tokens; i++)
		if (memcmp(cfg->tokens[i].hash, t->hash, CONFIG_HASH_LEN) == 0)
			return "this [token] section has the same hash as another";
	return NULL;
}

/* "[token NAME]": the lines that follow belong to a new token. */
static const char *open_section(struct config *cfg, char *line, unsigned lineno)
{
	size_t len = strlen(line);
	struct config_token *more;
	char *name;

	if (line[len - 1] != ']' || strncmp(line, "[token", 6) != 0 ||
	    (line[6] != ' ' && line[6] != '\t'))
		return "expected [token NAME]";
	line[len - 1] = '\0';
	name = trim(line + 6);
	if (!auth_token_name_valid(name))
		return "a token name is " AUTH_TOKEN_NAME_RULE;
	for (size_t i = 0; i < cfg->n_tokens; i++)
		if (strcmp(cfg->tokens[i].name, name) == 0)
			return "a token of this name exists already";
	more = realloc(cfg->tokens, (cfg->n_tokens + 1) * sizeof(*more));
	if (more == NULL)
		return "out of memory";
	cfg->tokens = more;
	memset(&more[cfg->n_tokens], 0, sizeof(*more));
	more[cfg->n_tokens].line = lineno;
	more[cfg->n_tokens].name = strdup(name);
	if (more[cfg->n_tokens].name == NULL)
		return "out of memory";
	cfg->n_tokens++;
	return NULL;
}

static const char *apply_token_line(struct config_token *t, const char *name, char *value)
{
	const char *why = NULL;

	for (size_t i = 0; i < sizeof(token_directives) / sizeof(token_directives[0]); i++)
		if (strcmp(name, token_directives[i].name) == 0)
			return token_directives[i].parse(t, value, &why) ? NULL : why;
	return "unknown setting in a [token] section (only hash, read and write)";
}


/* Applies one line; returns NULL or the reason it is bad. Lines after a
 * [token NAME] line belong to that token. */
static const char *apply_line(struct config *cfg, char *line, unsigned lineno)
{
	char *eq, *name, *value;
	const char *why = NULL;

	line = trim(line);
	if (line[0] == '\0' || line[0] == '#')
		return NULL;
	if (line[0] == '[') {
		why = finish_token(cfg);
		return why != NULL ? why : open_section(cfg, line, lineno);
	}
	eq = strchr(line, '=');
	if (eq == NULL)
		return "expected name = value";
	*eq = '\0';
	name = trim(line);
	value = trim(eq + 1);
	if (value[0] == '\0')
		return "empty value";
	if (cfg->n_tokens > 0)
		return apply_token_line(&cfg->tokens[cfg->n_tokens - 1], name, value);
	for (size_t i = 0; i < sizeof(directives) / sizeof(directives[0]); i++) {
		if (strcmp(name, directives[i].name) == 0)
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
	cfg->auth = true;
}

/* What only the whole file can tell. */
static const char *finish_file(struct config *cfg, unsigned *lineno)
{
	const char *why = finish_token(cfg);

	if (why != NULL) {
		*lineno = cfg->tokens[cfg->n_tokens - 1].line;
		return why;
	}
	*lineno = 0;
	if (cfg->burst != 0 && cfg->rate == 0)
		return "burst is set without rate";
	if (cfg->rate != 0 && cfg->burst == 0)
		cfg->burst = cfg->rate;
	return NULL;
}

static bool finish_lines(struct config *cfg, const char *path, struct error *err)
{
	unsigned lineno;
	const char *why = finish_file(cfg, &lineno);

	if (why == NULL)
		return true;
	if (lineno != 0)
		return error_operator(err, "%s:%u: %s", path, lineno, why);
	return error_operator(err, "%s: %s", path, why);
}

bool config_load(struct config *cfg, const char *path, bool required, struct error *err)
{
	bool ok = false;
	FILE *f = NULL;
	char line[CONFIG_LINE_MAX];
	unsigned lineno = 0;

	defaults(cfg);
	if (!config_set_store(cfg, KV_DEFAULT_STORE)) {
		error_operator(err, "out of memory");
		goto out;
	}
	f = fopen(path, "r");
	if (f == NULL) {
		if (errno == ENOENT && !required) {
			ok = true;
			goto out;
		}
		error_operator(err, "%s: cannot read: %s", path, strerror(errno));
		goto out;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *why;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			error_operator(err, "%s:%u: line too long", path, lineno);
			goto out;
		}
		why = apply_line(cfg, line, lineno);
		if (why != NULL) {
			error_operator(err, "%s:%u: %s", path, lineno, why);
			goto out;
		}
	}
	if (ferror(f)) {
		error_operator(err, "%s: read error", path);
		goto out;
	}
	ok = finish_lines(cfg, path, err);
out:
	if (f != NULL)
		fclose(f);
	return ok;
}

bool config_locate(struct config *cfg, const char *given, struct error *err)
{
	const char *path = given != NULL ? given : getenv("KV_CONF");
	const char *data = getenv("KV_DATA");

	if (!config_load(cfg, path != NULL ? path : KV_DEFAULT_CONF, path != NULL, err))
		return false;
	if (data != NULL && *data != '\0' && !config_set_store(cfg, data))
		return error_operator(err, "out of memory");
	return true;
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

static void free_grants(char **grants, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(grants[i]);
	free(grants);
}

void config_free(struct config *cfg)
{
	free(cfg->store);
	cfg->store = NULL;
	for (size_t i = 0; i < cfg->n_tokens; i++) {
		free(cfg->tokens[i].name);
		free_grants(cfg->tokens[i].read, cfg->tokens[i].n_read);
		free_grants(cfg->tokens[i].write, cfg->tokens[i].n_write);
	}
	free(cfg->tokens);
	cfg->tokens = NULL;
	cfg->n_tokens = 0;
}
