/* config.h: the configuration file, read at start-up and again when it changes */
#ifndef KV_CONFIG_H
#define KV_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* The configuration file read when neither kvctl -c nor KV_CONF names one. */
#ifndef KV_DEFAULT_CONF
#define KV_DEFAULT_CONF "/etc/kv.conf"
#endif

enum config_open {
	CONFIG_OPEN_PER_PROCESS,	/* handles opened on a process's first request, kept */
	CONFIG_OPEN_PER_REQUEST,	/* opened at the start of each request, closed at its end */
};

/* SHA-256 digests of tokens: the configuration never holds a token. */
#define CONFIG_HASH_LEN 32
/* A token's name is its rate-limit bucket and appears in the log. */
#define CONFIG_TOKEN_NAME_MAX 64

/* One [token NAME] section. A grant is "*" or a keypath: it covers that key
 * and every key under it. */
struct config_token {
	char *name;			/* owned */
	unsigned char hash[CONFIG_HASH_LEN];
	bool has_hash;
	char **read;			/* owned grants; write grants imply read */
	size_t n_read;
	char **write;
	size_t n_write;
	bool admin;			/* may take and load backups of the whole store */
	unsigned line;			/* of the section header, for messages */
};

/* One site of a replicated group: its replication address and the base
 * URL of its HTTP service (the mount, "http://host:8081/kv"). */
struct config_site {
	char *host;		/* owned; NULL: not set */
	uint32_t port;
	char *url;		/* owned; NULL: not given */
};

/* The other sites of the group, one peer line each. */
struct config_peers {
	struct config_site *v;	/* owned */
	size_t n;
};

/* What a write's 200 waits for: the acknowledgement policy of a group. */
enum config_ack { CONFIG_ACK_QUORUM, CONFIG_ACK_ALL, CONFIG_ACK_ONE };

struct config {
	char *store;		/* Berkeley DB environment directory (owned) */
	size_t max_value;	/* bytes of a value's JSON text */
	size_t max_body;	/* bytes of a request body */
	size_t max_load;	/* bytes of a backup's body, POST /kv/?load=true */
	uint32_t max_recursive_delete;	/* keys under one DELETE ?recurse=true */
	bool sync;		/* fsync the log at every commit */
	enum config_open open;
	uint64_t cache_size;	/* bytes of Berkeley DB cache */
	bool auth;		/* on unless the file says off */
	struct config_token *tokens;	/* owned */
	size_t n_tokens;
	uint32_t rate;		/* requests per rate_period_s; 0: no rate limit */
	uint32_t rate_period_s;
	uint32_t burst;		/* bucket size; the rate's count when not set */
	bool read_only;		/* maintenance: writes answer 503 */
	uint32_t store_mode;	/* the mode of the store's new files; 0: not set */
	char *store_group;	/* the group of the store's files (owned); NULL: not set */
	uint32_t changes_keep_ms;	/* how long the change log keeps a change */
	uint64_t changes_max;	/* bytes the change log may hold */
	uint32_t watch_wait_max_ms;	/* the longest a feed waits or streams */
	uint32_t watch_max;	/* waiting feeds per site */
	bool replication;	/* this site belongs to a replicated group */
	struct config_site site;	/* this site's replication address */
	struct config_peers peers;	/* the group's other sites */
	enum config_ack ack;
	uint32_t ack_timeout_ms;	/* the wait for a write's acknowledgements */
	uint32_t priority;	/* in elections; 0: never master */
	bool group_creator;	/* the site that creates a new group */
};

/* The settings outside [token] sections: one row each, from which the
 * parser, its messages, the defaults and the reference (src/confref.c)
 * all come. */
enum config_type {
	CONFIG_PATH,	/* an absolute path; the field is an owned char * */
	CONFIG_SIZE,	/* bytes, with an optional K, M or G suffix (powers of 1024) */
	CONFIG_U32,	/* a whole number */
	CONFIG_BOOL,	/* on/off, true/false, yes/no */
	CONFIG_ENUM,	/* one of choices, stored as its index */
	CONFIG_RATE,	/* N/s, N/m or N/h: N in the field, the period in rate_period_s */
	CONFIG_MODE,	/* an octal file mode within min and max, in a uint32_t */
	CONFIG_GROUP,	/* a group's name or number that exists; the field is an owned char * */
	CONFIG_DURATION,	/* N with ms, s, m or h; stored in milliseconds, a uint32_t */
	CONFIG_SITE,	/* HOST:PORT and an optional base URL; a struct config_site */
	CONFIG_PEER,	/* HOST:PORT URL, once per line; appended to a struct config_peers */
};

struct config_setting {
	const char *name;
	enum config_type type;
	size_t offset;			/* of the field in struct config */
	size_t width;			/* sizeof the field */
	uint64_t min, max;		/* SIZE, U32 and the N of RATE */
	const char *const *choices;	/* ENUM: the names, in the enum's order, NULL-ended */
	const char *def;		/* the default as a file would say it; NULL: none */
	const char *def_text;		/* the reference's words for the default, when not def */
	const char *example;		/* what the sample configuration sets, when not def */
	const char *help;		/* one line */
	const char *about;		/* more for the reference, or NULL */
};

extern const struct config_setting config_settings[];
extern const size_t config_n_settings;

/* The settings of a [token NAME] section, for the reference. */
struct config_token_setting {
	const char *name;
	const char *value;		/* what the value is, in a few words */
	const char *help;
};

extern const struct config_token_setting config_token_settings[];
extern const size_t config_n_token_settings;

/* What a setting's value may be, as its error message and the reference
 * say it ("a byte count from 16 to 64M"). */
void config_rule(const struct config_setting *s, char *out, size_t size);

/* A byte count as a file would write it: the largest of K, M or G that
 * divides it exactly ("64M", "16"). */
void config_format_size(uint64_t n, char *out, size_t size);

/* A duration in milliseconds as a file would write it: the largest of h,
 * m, s or ms that divides it exactly ("1h", "1500ms"). */
void config_format_duration(uint64_t ms, char *out, size_t size);

/* Fills cfg with the defaults, then reads path (which must exist when
 * required is true; a missing optional file leaves the defaults). Returns
 * false with an operator's error naming the file and line on a bad line or
 * an unreadable file. cfg owns its strings until config_free(). */
bool config_load(struct config *cfg, const char *path, bool required, struct error *err);

/* The configuration of kvd and kvctl alike: the file given (kvctl -c), else
 * $KV_CONF, each of which must exist, else KV_DEFAULT_CONF, which may be
 * missing; then $KV_DATA, when set and not empty, replaces the store
 * directory. */
bool config_locate(struct config *cfg, const char *given, struct error *err);

/* The file config_locate() reads for given, and whether it must exist. */
const char *config_path(const char *given, bool *required);

/* Replaces the store directory (from KV_DATA). Returns false when out of memory. */
bool config_set_store(struct config *cfg, const char *dir);

void config_free(struct config *cfg);

#endif
