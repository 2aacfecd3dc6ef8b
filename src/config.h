/* config.h: the configuration file, read once at start-up and read-only after */
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
	unsigned line;			/* of the section header, for messages */
};

struct config {
	char *store;		/* Berkeley DB environment directory (owned) */
	size_t max_value;	/* bytes of a value's JSON text */
	size_t max_body;	/* bytes of a request body */
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
};

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

/* Replaces the store directory (from KV_DATA). Returns false when out of memory. */
bool config_set_store(struct config *cfg, const char *dir);

void config_free(struct config *cfg);

#endif
