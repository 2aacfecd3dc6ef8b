/* config.c: the configuration file, read at start-up and again when it changes
 *
 * The syntax is "name = value" lines with "#" comments. Each name has a row
 * in config_settings that says its type, where it is stored, its bounds,
 * its default and what it is for; the parser, its messages, the defaults
 * and the reference (src/confref.c, from which kvd.8 and the sample
 * kv.conf take their settings) all read that one table. An unknown name or
 * a bad value is refused with the file and line (kvd then answers every
 * request 500 configuration, src/confwatch.c), because a setting that is
 * silently ignored is worse than a service that does not serve.
 * [token NAME] sections have their own small table. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "config.h"
#include "fsutil.h"
#include "keypath.h"
#include "util.h"

#ifndef KV_DEFAULT_STORE
#define KV_DEFAULT_STORE "/var/lib/kv"
#endif

/* A config line longer than this is an error, not a truncation. */
#define CONFIG_LINE_MAX 4096

/* The bound keeps the limiter's arithmetic (nanoseconds per request) exact
 * enough and far above anything one host serves. */
#define RATE_MAX 1000000

#define FIELD(f) offsetof(struct config, f), sizeof(((struct config *)NULL)->f)

#define KIB (UINT64_C(1) << 10)
#define MIB (UINT64_C(1) << 20)
#define HOUR_MS (UINT64_C(3600) * 1000)
#define GIB (UINT64_C(1) << 30)

/* In the order of enum config_open. */
static const char *const open_choices[] = { "per_process", "per_request", NULL };

/* In the order of enum config_ack. */
static const char *const ack_choices[] = { "quorum", "all", "one", NULL };

const struct config_setting config_settings[] = {
	{
		.name = "store", .type = CONFIG_PATH, FIELD(store),
		.def = KV_DEFAULT_STORE, .def_text = "$(localstatedir)/lib/kv",
		.example = "/var/lib/kv",
		.help = "The Berkeley DB environment directory: the data, its logs and region files.",
		.about = "A directory that exists and is writable by the user the kvd processes "
			 "run as (Apache runs them as www-data). Give each store to one user "
			 "only: files another user creates in it lock the first one out, unless "
			 "store_group makes them the group's. "
			 "KV_DATA, when set and not empty, overrides this setting.",
	},
	{
		.name = "store_group", .type = CONFIG_GROUP, FIELD(store_group),
		.def_text = "none: the group of the process that creates a file",
		.example = "www-data",
		.help = "The group the store's files belong to, so that its members share the store.",
		.about = "For a store that kvd, running as the web server's user, and its owner "
			 "(kvctl stats, kvctl backup) both use: make both members of the group. "
			 "kvd and kvctl give the store directory this group and the set-group-ID "
			 "bit when they own it, so that every file created in it belongs to the "
			 "group, and create the files with store_mode, 0660 unless it says "
			 "otherwise.",
	},
	{
		.name = "store_mode", .type = CONFIG_MODE, FIELD(store_mode),
		.min = 0600, .max = 0666,
		.def_text = "each file's own mode less the process's umask: 0660 (0640 under umask "
			    "022), the rate-limit table 0600; 0660 with store_group",
		.example = "0660",
		.help = "The permission bits of the store's new files, whatever the umask.",
		.about = "Applies to every file kvd and kvctl create in the store directory (the "
			 "databases, the logs, the shared regions, kv.lock, the rate-limit table) "
			 "and to restored stores and backups. The owner always reads and writes; "
			 "0660 lets the group do as much, 0600 no one else. Files made before "
			 "it was set follow it when a process that owns them next joins the store.",
	},
	{
		.name = "max_value", .type = CONFIG_SIZE, FIELD(max_value),
		.min = 16, .max = 64 * MIB, .def = "65536",
		.help = "The largest value, in bytes of its JSON text.",
		.about = "A larger value is refused with 413 value_too_large.",
	},
	{
		.name = "max_body", .type = CONFIG_SIZE, FIELD(max_body),
		.min = 64, .max = 256 * MIB, .def = "1M",
		.help = "The largest request body, in bytes.",
		.about = "A larger body is refused with 413 body_too_large before it is read. "
			 "Atomic commits carry many values in one body, so keep it well above "
			 "max_value, and below the web server's own limit (16 MiB in every "
			 "sample configuration) so that kvd answers with its own error.",
	},
	{
		.name = "max_load", .type = CONFIG_SIZE, FIELD(max_load),
		.min = 1024, .max = 1024 * MIB, .def = "15M",
		.help = "The largest backup that POST /kv/?load=true takes, in bytes.",
		.about = "A larger body is refused with 413 body_too_large before it is read. "
			 "The service holds the whole body while it checks every line before "
			 "writing any, so this bounds a process's memory during a load. The "
			 "default stays below the web server's own limit (16 MiB in every "
			 "sample configuration) so that kvd answers with its own error; raise "
			 "both to load a larger backup, or load it in parts, or with kvctl load.",
	},
	{
		.name = "max_recursive_delete", .type = CONFIG_U32, FIELD(max_recursive_delete),
		.min = 1, .max = 10000000, .def = "100000",
		.help = "The most keys one DELETE /kv/PREFIX?recurse=true deletes.",
		.about = "A subtree with more keys is refused with 413 too_many_keys and nothing "
			 "is deleted. The delete runs in one transaction that holds every other "
			 "write back until it ends, so this bounds how long writers wait: delete a "
			 "larger subtree a part at a time, or raise it for a quiet store. The "
			 "transaction locks every page of the subtree, and the lock table has room "
			 "for 100,000 keys of values up to about 1.5 KiB; a subtree that needs "
			 "more locks is refused the same way.",
	},
	{
		.name = "sync", .type = CONFIG_BOOL, FIELD(sync), .def = "off",
		.help = "Whether a commit waits for its log record to reach the disk.",
		.about = "on flushes the log to the disk at every commit before the answer goes "
			 "out (about 1 ms per commit on a typical disk). off writes the log to "
			 "the operating system at every commit without flushing it: a crash of "
			 "kvd or of the web server loses nothing, a crash of the operating "
			 "system or a power cut can lose the last commits. Either way a commit "
			 "is atomic: it is there entirely or not at all.",
	},
	{
		.name = "open", .type = CONFIG_ENUM, FIELD(open), .choices = open_choices,
		.def = "per_process",
		.help = "When kvd opens its database handles.",
		.about = "per_process: on a process's first request, then kept. per_request: at "
			 "the start of every request and closed at its end (much slower, and it "
			 "writes log records even for reads). The environment itself is joined "
			 "once per process either way.",
	},
	{
		.name = "cache_size", .type = CONFIG_SIZE, FIELD(cache_size),
		.min = 256 * KIB, .max = 64 * GIB, .def = "16M", .example = "64M",
		.help = "The Berkeley DB cache, shared by every kvd process of the store.",
		.about = "Only the process that creates the environment sets it: change it with "
			 "every kvd of the store stopped. What must fit is the btree's internal "
			 "pages, which every read walks: 412 pages of 16 KiB (6.6 MiB) for a "
			 "million keys of 1 KiB values; leaf pages that miss the cache are read "
			 "from the operating system's page cache. 64M holds the internal pages "
			 "of several million keys.",
	},
	{
		.name = "read_only", .type = CONFIG_BOOL, FIELD(read_only), .def = "off",
		.help = "Maintenance mode: reads are served, writes are refused.",
		.about = "Every write (PUT, DELETE, an atomic commit) is refused with 503 "
			 "unavailable and Retry-After: 60.",
	},
	{
		.name = "rate", .type = CONFIG_RATE, FIELD(rate), .min = 1, .max = RATE_MAX,
		.def_text = "no limit", .example = "50/s",
		.help = "How fast each client's bucket of requests refills.",
		.about = "A token bucket per client, shared by every kvd process of the store (in "
			 "the file kv-ratelimit.2 in the store directory). A client is its "
			 "token's name, or its remote address when it sends no known token. A "
			 "client whose bucket is empty gets 429 rate_limited with Retry-After; "
			 "every answer carries RateLimit-Limit, RateLimit-Remaining and "
			 "RateLimit-Reset.",
	},
	{
		.name = "burst", .type = CONFIG_U32, FIELD(burst), .min = 1, .max = RATE_MAX,
		.def_text = "the N of rate", .example = "100",
		.help = "The size of each client's bucket: how many requests it may send at once.",
		.about = "Only with rate.",
	},
	{
		.name = "changes_keep", .type = CONFIG_DURATION, FIELD(changes_keep_ms),
		.min = 1000, .max = 720 * HOUR_MS, .def = "1h",
		.help = "How long the change log keeps a change for the change feed.",
		.about = "A feed whose since is older than what the log keeps is answered 410 "
			 "changes_expired, and its client lists again. Every write prunes a few "
			 "of the oldest commits once they are older than this or the log holds "
			 "more than changes_max.",
	},
	{
		.name = "changes_max", .type = CONFIG_SIZE, FIELD(changes_max),
		.min = 64 * KIB, .max = 64 * GIB, .def = "256M",
		.help = "The most bytes of changes the change log holds, values included.",
		.about = "Bounds the log's disk space under a burst of writes, whatever "
			 "changes_keep says: beyond it the oldest commits go first.",
	},
	{
		.name = "watch_wait_max", .type = CONFIG_DURATION, FIELD(watch_wait_max_ms),
		.min = 1000, .max = HOUR_MS, .def = "60s",
		.help = "The longest a long-poll waits, or an event stream stays open.",
		.about = "A longer wait= is cut to it. Keep it below the web server's timeout "
			 "for a response from kvd (every sample configuration allows 90 s or "
			 "more), or the web server ends the wait with an error of its own.",
	},
	{
		.name = "watch_max", .type = CONFIG_U32, FIELD(watch_max), .min = 1, .max = 65536,
		.def = "1000",
		.help = "How many feeds may wait at once at this site, across its processes.",
		.about = "A feed that must wait (a long-poll with nothing to answer yet, or an "
			 "event stream) beyond it is refused with 429 too_many_watches. Under "
			 "lighttpd, nginx and Apache mod_proxy_fcgi a waiting feed costs a socket "
			 "in a kvd process that goes on serving; under mod_fcgid and plain CGI "
			 "it costs a process (and a web server worker) for as long as it waits.",
	},
	{
		.name = "replication", .type = CONFIG_BOOL, FIELD(replication), .def = "off",
		.help = "Whether this site belongs to a replicated group (docs/replication.md).",
		.about = "on: the store is one copy of a group of sites, one of them the master, "
			 "kept by Berkeley DB's Replication Manager; needs site and at least one "
			 "peer, and a kvd --replicate process beside the web server. Writes go to "
			 "the master (a replica answers 307 to it), reads are served by every site. "
			 "off: the settings below are ignored.",
	},
	{
		.name = "site", .type = CONFIG_SITE, FIELD(site),
		.def_text = "none", .example = "127.0.0.1:7001 http://127.0.0.1:8081/kv",
		.help = "This site's replication address (HOST:PORT), and its HTTP base URL.",
		.about = "The address the other sites reach this one at, exactly as they name it "
			 "in their peer lines; the URL, which may be left out, is what this site "
			 "reports as its own when it is master. Changing the address of a running "
			 "group needs the store's recovery.",
	},
	{
		.name = "peer", .type = CONFIG_PEER, FIELD(peers),
		.def_text = "none", .example = "127.0.0.1:7002 http://127.0.0.1:8082/kv",
		.help = "Another site of the group: its replication address and HTTP base URL.",
		.about = "One line per other site. A write sent to a replica is redirected to the "
			 "master's URL from these lines, with the request's path and query.",
	},
	{
		.name = "ack", .type = CONFIG_ENUM, FIELD(ack), .choices = ack_choices,
		.def = "quorum",
		.help = "Which acknowledgements a write waits for before its 200.",
		.about = "quorum: a majority of the group has the write on disk, so no failover "
			 "loses it. all: every site has it. one: the master and one more site. A "
			 "write whose acknowledgements do not come within ack_timeout is answered "
			 "503 with its outcome unknown.",
	},
	{
		.name = "ack_timeout", .type = CONFIG_DURATION, FIELD(ack_timeout_ms),
		.min = 10, .max = 60 * 1000, .def = "2s",
		.help = "How long a write waits at the master for its acknowledgements.",
	},
	{
		.name = "priority", .type = CONFIG_U32, FIELD(priority), .min = 0, .max = 1000,
		.def = "100",
		.help = "This site's priority in elections; 0: it never becomes master.",
		.about = "Among the sites with the most recent log, the highest priority wins.",
	},
	{
		.name = "group_creator", .type = CONFIG_BOOL, FIELD(group_creator), .def = "off",
		.help = "Whether this site creates the group at its very first start.",
		.about = "On exactly one site, for the group's first start: it becomes master of "
			 "a group of one, which the others join. Ignored once the store holds the "
			 "group's membership; never set it on a site added later or re-seeded.",
	},
	{
		.name = "auth", .type = CONFIG_BOOL, FIELD(auth), .def = "on",
		.help = "Whether requests need a bearer token (Authorization: Bearer ...).",
		.about = "on: every request needs a token of a [token NAME] section; no token or "
			 "an unknown one is 401 unauthorized, a key outside the token's grants "
			 "403 forbidden, and with no [token] section at all every request is "
			 "401. off: anyone may read and write everything (development only).",
	},
};

const size_t config_n_settings = sizeof(config_settings) / sizeof(config_settings[0]);

/* ------------------------------------------------------------------------
 * Values of the settings table */

enum parse_result { PARSE_OK, PARSE_BAD, PARSE_NOMEM };

void config_format_size(uint64_t n, char *out, size_t size)
{
	static const struct { uint64_t unit; char suffix; } units[] = {
		{ GIB, 'G' }, { MIB, 'M' }, { KIB, 'K' },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (n >= units[i].unit && n % units[i].unit == 0) {
			snprintf(out, size, "%llu%c", (unsigned long long)(n / units[i].unit),
				 units[i].suffix);
			return;
		}
	}
	snprintf(out, size, "%llu", (unsigned long long)n);
}

void config_format_duration(uint64_t ms, char *out, size_t size)
{
	static const struct { uint64_t unit; const char *suffix; } units[] = {
		{ HOUR_MS, "h" }, { 60 * 1000, "m" }, { 1000, "s" },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ms >= units[i].unit && ms % units[i].unit == 0) {
			snprintf(out, size, "%llu%s", (unsigned long long)(ms / units[i].unit),
				 units[i].suffix);
			return;
		}
	}
	snprintf(out, size, "%llums", (unsigned long long)ms);
}

/* "a or b", "a, b or c" */
static void join_choices(const char *const *choices, char *out, size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; choices[i] != NULL && used < size; i++) {
		const char *sep = i == 0 ? "" : choices[i + 1] == NULL ? " or " : ", ";
		int n = snprintf(out + used, size - used, "%s%s", sep, choices[i]);

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

void config_rule(const struct config_setting *s, char *out, size_t size)
{
	char min[32], max[32];

	switch (s->type) {
	case CONFIG_PATH:
		snprintf(out, size, "an absolute path");
		break;
	case CONFIG_SIZE:
		config_format_size(s->min, min, sizeof(min));
		config_format_size(s->max, max, sizeof(max));
		snprintf(out, size, "a byte count from %s to %s", min, max);
		break;
	case CONFIG_U32:
		snprintf(out, size, "a whole number from %llu to %llu",
			 (unsigned long long)s->min, (unsigned long long)s->max);
		break;
	case CONFIG_BOOL:
		snprintf(out, size, "on or off");
		break;
	case CONFIG_ENUM:
		join_choices(s->choices, out, size);
		break;
	case CONFIG_RATE:
		snprintf(out, size, "N/s, N/m or N/h with N from %llu to %llu",
			 (unsigned long long)s->min, (unsigned long long)s->max);
		break;
	case CONFIG_MODE:
		snprintf(out, size, "an octal mode from %04llo to %04llo that lets the owner read "
			 "and write, with no execute bit", (unsigned long long)s->min,
			 (unsigned long long)s->max);
		break;
	case CONFIG_GROUP:
		snprintf(out, size, "the name or number of a group of /etc/group");
		break;
	case CONFIG_DURATION:
		config_format_duration(s->min, min, sizeof(min));
		config_format_duration(s->max, max, sizeof(max));
		snprintf(out, size, "a duration (ms, s, m or h) from %s to %s", min, max);
		break;
	case CONFIG_SITE:
		snprintf(out, size, "HOST:PORT, optionally followed by the site's http:// or "
			 "https:// base URL");
		break;
	case CONFIG_PEER:
		snprintf(out, size, "HOST:PORT followed by the site's http:// or https:// base URL");
		break;
	}
}

/* Stores n in an unsigned field of width bytes: a size_t, a uint64_t, a
 * uint32_t or an enum. */
static void store_uint(void *field, size_t width, uint64_t n)
{
	if (width == sizeof(uint64_t)) {
		memcpy(field, &n, sizeof(n));
	} else {
		uint32_t v = (uint32_t)n;

		memcpy(field, &v, sizeof(v));
	}
}

_Static_assert(sizeof(enum config_open) == sizeof(uint32_t),
	       "store_uint writes an enum setting as 32 bits");
_Static_assert(sizeof(size_t) == sizeof(uint64_t) || sizeof(size_t) == sizeof(uint32_t),
	       "store_uint writes a size_t setting as 64 or 32 bits");

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
		case 'K': case 'k': unit = KIB; len--; break;
		case 'M': case 'm': unit = MIB; len--; break;
		case 'G': case 'g': unit = GIB; len--; break;
		}
	}
	if (!util_parse_u64(value, len, &n) || n > max / unit || n * unit < min)
		return false;
	*out = n * unit;
	return true;
}

/* A whole number followed by ms, s, m or h. */
static bool parse_duration(const char *value, uint64_t min, uint64_t max, uint64_t *out)
{
	static const struct { const char *suffix; uint64_t ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60 * 1000 }, { "h", HOUR_MS },
	};
	size_t len = strlen(value), digits = 0;
	uint64_t n;

	while (digits < len && value[digits] >= '0' && value[digits] <= '9')
		digits++;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(value + digits, units[i].suffix) != 0)
			continue;
		if (!util_parse_u64(value, digits, &n) || n > max / units[i].ms ||
		    n * units[i].ms < min)
			return false;
		*out = n * units[i].ms;
		return true;
	}
	return false;
}

static bool parse_u32(const char *value, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t n;

	if (!util_parse_u64(value, strlen(value), &n) || n < min || n > max)
		return false;
	*out = n;
	return true;
}

static bool parse_choice(const char *value, const char *const *choices, uint64_t *out)
{
	for (uint64_t i = 0; choices[i] != NULL; i++) {
		if (strcmp(value, choices[i]) == 0) {
			*out = i;
			return true;
		}
	}
	return false;
}

/* "50/s": a count of requests per second, minute or hour. */
static bool parse_rate(const char *value, uint64_t min, uint64_t max, uint64_t *n,
		       uint32_t *period_s)
{
	static const struct { const char *unit; uint32_t seconds; } periods[] = {
		{ "/s", 1 }, { "/m", 60 }, { "/h", 3600 },
	};
	const char *slash = strchr(value, '/');

	if (slash == NULL || !util_parse_u64(value, (size_t)(slash - value), n) ||
	    *n < min || *n > max)
		return false;
	for (size_t i = 0; i < sizeof(periods) / sizeof(periods[0]); i++) {
		if (strcmp(slash, periods[i].unit) == 0) {
			*period_s = periods[i].seconds;
			return true;
		}
	}
	return false;
}

/* Octal digits (3 or 4) of a file's permission bits, within min and max,
 * with every bit of min and none outside max. */
static bool parse_mode(const char *value, uint64_t min, uint64_t max, uint64_t *out)
{
	size_t len = strlen(value);
	uint64_t n = 0;

	if (len < 3 || len > 4)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (value[i] < '0' || value[i] > '7')
			return false;
		n = n * 8 + (uint64_t)(value[i] - '0');
	}
	if ((n & min) != min || (n & ~max) != 0)
		return false;
	*out = n;
	return true;
}

/* value, copied into the owned string at field. */
static enum parse_result set_string(const char *value, char **field)
{
	char *copy = strdup(value);

	if (copy == NULL)
		return PARSE_NOMEM;
	free(*field);
	*field = copy;
	return PARSE_OK;
}

/* A group that exists, by name or number: a group that does not exist is
 * a mistake to show now, with its line, not when the first file is
 * created. */
static enum parse_result parse_group(const char *value, char **field)
{
	gid_t gid;

	if (fsutil_group_id(value, &gid) != 0)
		return PARSE_BAD;
	return set_string(value, field);
}

/* An absolute path, copied into the owned string at field. */
static enum parse_result parse_path(const char *value, char **field)
{
	if (value[0] != '/')
		return PARSE_BAD;
	return set_string(value, field);
}

static void site_clear(struct config_site *site)
{
	free(site->host);
	free(site->url);
	memset(site, 0, sizeof(*site));
}

/* A base URL: http:// or https://, a host, no spaces; a trailing '/' is
 * dropped, since request paths are appended to it. */
static bool url_ok(const char *url)
{
	const char *rest;

	if (strncmp(url, "http://", 7) == 0)
		rest = url + 7;
	else if (strncmp(url, "https://", 8) == 0)
		rest = url + 8;
	else
		return false;
	if (*rest == '\0' || *rest == '/')
		return false;
	for (const char *p = url; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == '"' || *p == '\\' || *p == 0x7f)
			return false;
	return true;
}

/* "HOST:PORT" or "HOST:PORT URL" into site; url_required for a peer. */
static enum parse_result parse_site(const char *value, bool url_required,
				    struct config_site *site)
{
	const char *space = strchr(value, ' '), *colon;
	size_t addr_len = space != NULL ? (size_t)(space - value) : strlen(value);
	const char *url = space != NULL ? space + strspn(space, " \t") : NULL;
	uint64_t port;
	char digits[8];
	size_t host_len;

	memset(site, 0, sizeof(*site));
	colon = memrchr(value, ':', addr_len);
	if (colon == NULL || colon == value)
		return PARSE_BAD;
	host_len = (size_t)(colon - value);
	if (addr_len - host_len - 1 == 0 || addr_len - host_len - 1 >= sizeof(digits))
		return PARSE_BAD;
	memcpy(digits, colon + 1, addr_len - host_len - 1);
	digits[addr_len - host_len - 1] = '\0';
	if (!parse_u32(digits, 1, 65535, &port))
		return PARSE_BAD;
	if ((url == NULL || *url == '\0') ? url_required : !url_ok(url))
		return PARSE_BAD;
	site->port = (uint32_t)port;
	site->host = strndup(value, host_len);
	if (url != NULL && *url != '\0') {
		size_t len = strlen(url);

		while (len > 0 && url[len - 1] == '/')
			len--;
		site->url = strndup(url, len);
	}
	if (site->host == NULL || (url != NULL && *url != '\0' && site->url == NULL)) {
		site_clear(site);
		return PARSE_NOMEM;
	}
	return PARSE_OK;
}

static enum parse_result set_site(const char *value, struct config_site *field)
{
	struct config_site site;
	enum parse_result r = parse_site(value, false, &site);

	if (r != PARSE_OK)
		return r;
	site_clear(field);
	*field = site;
	return PARSE_OK;
}

static enum parse_result add_peer(const char *value, struct config_peers *peers)
{
	struct config_site site, *grown;
	enum parse_result r = parse_site(value, true, &site);

	if (r != PARSE_OK)
		return r;
	grown = realloc(peers->v, (peers->n + 1) * sizeof(*grown));
	if (grown == NULL) {
		site_clear(&site);
		return PARSE_NOMEM;
	}
	peers->v = grown;
	peers->v[peers->n++] = site;
	return PARSE_OK;
}

/* Parses value as s says and stores it in cfg; nothing is stored when the
 * value is bad. */
static enum parse_result setting_parse(const struct config_setting *s, struct config *cfg,
				       const char *value)
{
	void *field = (char *)cfg + s->offset;
	uint32_t period_s;
	uint64_t n = 0;
	bool b;

	switch (s->type) {
	case CONFIG_PATH:
		return parse_path(value, field);
	case CONFIG_SIZE:
		if (!parse_size(value, s->min, s->max, &n))
			return PARSE_BAD;
		break;
	case CONFIG_U32:
		if (!parse_u32(value, s->min, s->max, &n))
			return PARSE_BAD;
		break;
	case CONFIG_BOOL:
		if (!parse_bool(value, &b))
			return PARSE_BAD;
		*(bool *)field = b;
		return PARSE_OK;
	case CONFIG_ENUM:
		if (!parse_choice(value, s->choices, &n))
			return PARSE_BAD;
		break;
	case CONFIG_MODE:
		if (!parse_mode(value, s->min, s->max, &n))
			return PARSE_BAD;
		break;
	case CONFIG_GROUP:
		return parse_group(value, field);
	case CONFIG_DURATION:
		if (!parse_duration(value, s->min, s->max, &n))
			return PARSE_BAD;
		break;
	case CONFIG_SITE:
		return set_site(value, field);
	case CONFIG_PEER:
		return add_peer(value, field);
	case CONFIG_RATE:
		/* The one rate setting: the period has a field of its own. */
		if (!parse_rate(value, s->min, s->max, &n, &period_s))
			return PARSE_BAD;
		cfg->rate_period_s = period_s;
		break;
	}
	store_uint(field, s->width, n);
	return PARSE_OK;
}

static const struct config_setting *setting_find(const char *name)
{
	for (size_t i = 0; i < config_n_settings; i++)
		if (strcmp(name, config_settings[i].name) == 0)
			return &config_settings[i];
	return NULL;
}

/* Every field zero, then each setting's default. The defaults are the
 * table's own text, so a default that does not parse is a bug the unit
 * test catches; here it can only be out of memory. */
static bool defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < config_n_settings; i++) {
		const struct config_setting *s = &config_settings[i];

		if (s->def != NULL && setting_parse(s, cfg, s->def) != PARSE_OK)
			return false;
	}
	return true;
}

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

static bool set_admin(struct config_token *t, char *value, const char **why)
{
	*why = "must be yes or no";
	return parse_bool(value, &t->admin);
}

/* In the order of config_token_settings. */
static const token_parse_fn token_parsers[] = { set_hash, set_read, set_write, set_admin };

const struct config_token_setting config_token_settings[] = {
	{ "hash", "sha256:HEX",
	  "The SHA-256 of the token as 64 hex digits (required): kvctl token NAME prints it." },
	{ "read", "grants",
	  "Keys the token may read: \"*\" or keypaths separated by commas; a grant covers "
	  "its key and every key under it (users covers users and users.john, not usersx)." },
	{ "write", "grants",
	  "Keys the token may write (PUT, DELETE, commit mutations); a write grant implies read." },
	{ "admin", "yes|no",
	  "yes: the token may take and load backups of the whole store (GET /kv/?backup=true, "
	  "POST /kv/?load=true). It grants no read or write on keys; no is the default." },
};

const size_t config_n_token_settings =
	sizeof(config_token_settings) / sizeof(config_token_settings[0]);

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

	for (size_t i = 0; i < config_n_token_settings; i++)
		if (strcmp(name, config_token_settings[i].name) == 0)
			return token_parsers[i](t, value, &why) ? NULL : why;
	return "unknown setting in a [token] section (only hash, read, write and admin)";
}



/* Where a line is, for its message. */
struct line_ctx {
	const char *path;
	unsigned lineno;
	struct error *err;
};

static bool bad_line(const struct line_ctx *at, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static bool bad_line(const struct line_ctx *at, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return error_operator(at->err, "%s:%u: %s", at->path, at->lineno, why);
}

static bool apply_setting(struct config *cfg, const char *name, const char *value,
			  const struct line_ctx *at)
{
	const struct config_setting *s = setting_find(name);
	char rule[128];

	if (s == NULL)
		return bad_line(at, "unknown setting");
	switch (setting_parse(s, cfg, value)) {
	case PARSE_OK:
		return true;
	case PARSE_NOMEM:
		return bad_line(at, "out of memory");
	case PARSE_BAD:
		break;
	}
	config_rule(s, rule, sizeof(rule));
	return bad_line(at, "must be %s", rule);
}

/* Applies one line. Lines after a [token NAME] line belong to that token. */
static bool apply_line(struct config *cfg, char *line, const struct line_ctx *at)
{
	char *eq, *name, *value;
	const char *why;

	line = trim(line);
	if (line[0] == '\0' || line[0] == '#')
		return true;
	if (line[0] == '[') {
		why = finish_token(cfg);
		if (why == NULL)
			why = open_section(cfg, line, at->lineno);
		return why == NULL || bad_line(at, "%s", why);
	}
	eq = strchr(line, '=');
	if (eq == NULL)
		return bad_line(at, "expected name = value");
	*eq = '\0';
	name = trim(line);
	value = trim(eq + 1);
	if (value[0] == '\0')
		return bad_line(at, "empty value");
	if (cfg->n_tokens > 0) {
		why = apply_token_line(&cfg->tokens[cfg->n_tokens - 1], name, value);
		return why == NULL || bad_line(at, "%s", why);
	}
	return apply_setting(cfg, name, value, at);
}

/* A replicated site needs its own address and at least one other site,
 * none of them twice. */
static const char *finish_replication(const struct config *cfg)
{
	if (!cfg->replication)
		return NULL;
	if (cfg->site.host == NULL)
		return "replication = on needs site = HOST:PORT";
	if (cfg->peers.n == 0)
		return "replication = on needs a peer line for each other site of the group";
	for (size_t i = 0; i < cfg->peers.n; i++) {
		const struct config_site *p = &cfg->peers.v[i];

		if (p->port == cfg->site.port && strcmp(p->host, cfg->site.host) == 0)
			return "a peer has this site's own address";
		for (size_t j = 0; j < i; j++)
			if (cfg->peers.v[j].port == p->port && strcmp(cfg->peers.v[j].host, p->host) == 0)
				return "two peer lines name the same address";
	}
	return NULL;
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
	return finish_replication(cfg);
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
	struct line_ctx at = { path, 0, err };
	char line[CONFIG_LINE_MAX];
	bool ok = false;
	FILE *f = NULL;

	if (!defaults(cfg)) {
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
		at.lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			bad_line(&at, "line too long");
			goto out;
		}
		if (!apply_line(cfg, line, &at))
			goto out;
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

const char *config_path(const char *given, bool *required)
{
	const char *path = given != NULL ? given : getenv("KV_CONF");

	*required = path != NULL;
	return path != NULL ? path : KV_DEFAULT_CONF;
}

bool config_locate(struct config *cfg, const char *given, struct error *err)
{
	bool required;
	const char *path = config_path(given, &required);
	const char *data = getenv("KV_DATA");

	if (!config_load(cfg, path, required, err))
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
	free(cfg->store_group);
	cfg->store_group = NULL;
	site_clear(&cfg->site);
	for (size_t i = 0; i < cfg->peers.n; i++)
		site_clear(&cfg->peers.v[i]);
	free(cfg->peers.v);
	memset(&cfg->peers, 0, sizeof(cfg->peers));
	for (size_t i = 0; i < cfg->n_tokens; i++) {
		free(cfg->tokens[i].name);
		free_grants(cfg->tokens[i].read, cfg->tokens[i].n_read);
		free_grants(cfg->tokens[i].write, cfg->tokens[i].n_write);
	}
	free(cfg->tokens);
	cfg->tokens = NULL;
	cfg->n_tokens = 0;
}
