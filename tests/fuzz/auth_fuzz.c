/* auth_fuzz.c: the Authorization header (src/auth.c), and the grants of
 * the token it names. The input is the header's value, then a newline and
 * the dotted key to check against the grants. */
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"
#include "fuzz.h"
#include "keypath.h"

/* Two tokens: "abc" reads users and config and writes users.alice;
 * "root" reads and writes everything. */
static const char conf_text[] =
	"auth = on\n"
	"[token alice]\n"
	"hash = sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n"
	"read = users, config\n"
	"write = users.alice\n"
	"[token root]\n"
	"hash = sha256:4813494d137e1631bba301d5acab6e7bb7aa74ce1185d456565ef51d737677b2\n"
	"read = *\n"
	"write = *\n";

/* The configuration, loaded once for every input: read-only after. */
static struct config cfg;
static bool loaded;

static void load(void)
{
	char path[] = "/tmp/kv-auth-fuzz-XXXXXX";
	struct error err;
	int fd = mkstemp(path);

	FUZZ_REQUIRE(fd >= 0);
	FUZZ_REQUIRE(write(fd, conf_text, sizeof(conf_text) - 1) == (ssize_t)(sizeof(conf_text) - 1));
	close(fd);
	if (!config_load(&cfg, path, true, &err)) {
		fprintf(stderr, "auth_fuzz: %s\n", err.message);
		abort();
	}
	unlink(path);
	FUZZ_REQUIRE(cfg.n_tokens == 2);
	loaded = true;
	/* The fuzzer must be able to reach the grants: the seeds' token works. */
	struct auth_client c = { 0 };
	FUZZ_REQUIRE(auth_identify(&cfg, "Bearer abc", &c) == AUTH_OK && c.token != NULL);
	FUZZ_REQUIRE(auth_permits(&c, "users.alice.x", 13, AUTH_WRITE));
	FUZZ_REQUIRE(!auth_permits(&c, "usersx", 6, AUTH_READ));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t header_len = nl != NULL ? (size_t)(nl - data) : size;
	char *header = malloc(header_len + 1);
	const char *key = nl != NULL ? (const char *)nl + 1 : "";
	size_t key_len = nl != NULL ? size - header_len - 1 : 0;
	struct auth_client client = { 0 };
	enum auth_result result;

	if (!loaded)
		load();
	if (header == NULL)
		return 0;
	/* A header reaches the program as a C string: a NUL ends it. */
	memcpy(header, data, header_len);
	header[header_len] = '\0';
	result = auth_identify(&cfg, header, &client);
	FUZZ_REQUIRE((result == AUTH_OK) == (client.token != NULL));
	if (result == AUTH_OK && keypath_valid(key, key_len)) {
		bool r = auth_permits(&client, key, key_len, AUTH_READ);
		bool w = auth_permits(&client, key, key_len, AUTH_WRITE);

		FUZZ_REQUIRE(!w || r);	/* a write grant implies read */
	}
	free(header);
	return 0;
}
