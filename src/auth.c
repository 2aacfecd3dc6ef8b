/* auth.c: bearer tokens and the key prefixes they grant */
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth.h"
#include "util.h"

/* Tokens longer than this are not ours (kvctl mints 43 characters); the
 * bound keeps a huge header from costing a long hash. */
#define TOKEN_MAX 1024

/* RFC 6750's b64token: the characters a bearer token may hold. */
static bool b64token_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=';
}

/* The token of "Bearer <token>" (the scheme in any case, spaces around),
 * or false when header is not that. */
static bool bearer_token(const char *header, const char **token, size_t *len)
{
	const char *p = header;
	size_t n = 0;

	if (strncasecmp(p, "Bearer", 6) != 0 || (p[6] != ' ' && p[6] != '\t'))
		return false;
	p += 6;
	while (*p == ' ' || *p == '\t')
		p++;
	while (b64token_char((unsigned char)p[n]))
		n++;
	*token = p;
	*len = n;
	for (p += n; *p == ' ' || *p == '\t'; p++)
		;
	return n > 0 && n <= TOKEN_MAX && *p == '\0';
}

static bool token_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

bool auth_token_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > CONFIG_TOKEN_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!token_name_char((unsigned char)name[i]))
			return false;
	return true;
}

static bool sha256(const char *data, size_t len, unsigned char out[CONFIG_HASH_LEN])
{
	unsigned int out_len = 0;

	return EVP_Digest(data, len, out, &out_len, EVP_sha256(), NULL) == 1 &&
	       out_len == CONFIG_HASH_LEN;
}

enum auth_result auth_identify(const struct config *cfg, const char *header,
			       struct auth_client *client)
{
	unsigned char hash[CONFIG_HASH_LEN];
	const char *token;
	size_t len;

	client->anyone = !cfg->auth;
	client->token = NULL;
	if (header == NULL || *header == '\0')
		return AUTH_MISSING;
	if (!bearer_token(header, &token, &len))
		return AUTH_UNKNOWN;
	if (!sha256(token, len, hash)) {
		util_log("cannot compute SHA-256 with libcrypto");
		return AUTH_ERROR;
	}
	/* No early exit: every hash is compared whatever matched before. */
	for (size_t i = 0; i < cfg->n_tokens; i++) {
		bool same = CRYPTO_memcmp(hash, cfg->tokens[i].hash, CONFIG_HASH_LEN) == 0;

		if (same)
			client->token = &cfg->tokens[i];
	}
	OPENSSL_cleanse(hash, sizeof(hash));
	return client->token != NULL ? AUTH_OK : AUTH_UNKNOWN;
}

/* Segment-aware: grant "a.b" covers "a.b" and "a.b.c", not "a.bc" or "a". */
static bool grant_covers(const char *grant, const char *key, size_t key_len)
{
	size_t len = strlen(grant);

	if (strcmp(grant, "*") == 0)
		return true;
	return key_len >= len && memcmp(key, grant, len) == 0 &&
	       (key_len == len || key[len] == '.');
}

static bool any_covers(char *const *grants, size_t n, const char *key, size_t key_len)
{
	for (size_t i = 0; i < n; i++)
		if (grant_covers(grants[i], key, key_len))
			return true;
	return false;
}

bool auth_permits(const struct auth_client *client, const char *key, size_t key_len,
		  enum auth_need need)
{
	const struct config_token *t = client->token;

	if (client->anyone)
		return true;
	if (t == NULL)
		return false;
	if (any_covers(t->write, t->n_write, key, key_len))
		return true;
	return need == AUTH_READ && any_covers(t->read, t->n_read, key, key_len);
}

bool auth_has_grant(const struct auth_client *client)
{
	const struct config_token *t = client->token;

	if (client->anyone)
		return true;
	return t != NULL && (t->n_read > 0 || t->n_write > 0);
}
