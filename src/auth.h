/* auth.h: bearer tokens and the key prefixes they grant
 *
 * A token is known by the SHA-256 of its text only; the configuration
 * lists the hashes (config_token). Nothing here logs or keeps a token. */
#ifndef KV_AUTH_H
#define KV_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define AUTH_STR_(x) #x
#define AUTH_STR(x) AUTH_STR_(x)

/* What a token's name may be, for messages: the configuration's
 * [token NAME] and kvctl token NAME take the same names. */
#define AUTH_TOKEN_NAME_RULE \
	"1 to " AUTH_STR(CONFIG_TOKEN_NAME_MAX) " letters, digits, '_', '.' or '-'"

/* True when name follows AUTH_TOKEN_NAME_RULE. */
bool auth_token_name_valid(const char *name);

/* Who sent a request, as far as the service knows. */
struct auth_client {
	bool anyone;				/* auth = off: every grant */
	const struct config_token *token;	/* the token that matched, or NULL */
};

enum auth_result {
	AUTH_OK,		/* a configured token matched */
	AUTH_MISSING,		/* no Authorization header */
	AUTH_UNKNOWN,		/* a header that is not a bearer token we know */
	AUTH_ERROR,		/* hashing failed (out of memory); logged */
};

enum auth_need { AUTH_READ, AUTH_WRITE };

/* Finds the configured token whose hash is the SHA-256 of the bearer token
 * in header (the raw Authorization value, or NULL). Every configured hash
 * is compared, in constant time, so the timing tells nothing about which
 * one matched or how much of it. Sets client->token on AUTH_OK. */
enum auth_result auth_identify(const struct config *cfg, const char *header,
			       struct auth_client *client);

/* True when client may read (or write) the dotted key (len bytes; "" for
 * the root, which only a "*" grant covers). A grant covers its own key and
 * every key under it: "users" covers "users" and "users.x", not "usersx".
 * A write grant implies read. */
bool auth_permits(const struct auth_client *client, const char *key, size_t key_len,
		  enum auth_need need);

/* True when client holds at least one grant, read or write, on any key.
 * The atomic commit needs one even when it names no key: it answers the
 * store's versionstamp, which tells how busy the store is. */
bool auth_has_grant(const struct auth_client *client);

#endif
