/* config_test.c: the configuration file (src/config.c) and its table */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "unit.h"

/* SHA-256 of "secret-alice". */
#define HASH_ALICE "sha256:959601334de4ce5a7661ece94755bc23b257c096cd7d29bd2ecaf8a7333e0aff"

static char path[] = "/tmp/kv-config-test.XXXXXX";

/* Writes text to the test's file; the file stays for the next load. */
static void write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(EXIT_FAILURE);
	}
}

/* Loads text; on failure err holds the message. cfg is freed by the caller. */
static bool load(struct config *cfg, const char *text, struct error *err)
{
	write_file(text);
	err->message[0] = '\0';
	return config_load(cfg, path, true, err);
}

/* True when text is refused with exactly "PATH:LINE: why". */
static bool refused(const char *text, unsigned line, const char *why)
{
	struct config cfg;
	struct error err;
	char want[sizeof(err.message)];
	bool ok = load(&cfg, text, &err);

	config_free(&cfg);
	snprintf(want, sizeof(want), "%s:%u: %s", path, line, why);
	if (ok || strcmp(err.message, want) != 0 || err.status != 0 || err.code != NULL) {
		fprintf(stderr, "for %s: got \"%s\", want \"%s\"\n", text, ok ? "(loaded)" : err.message,
			want);
		return false;
	}
	return true;
}

static const struct config_setting *setting(const char *name)
{
	for (size_t i = 0; i < config_n_settings; i++)
		if (strcmp(config_settings[i].name, name) == 0)
			return &config_settings[i];
	return NULL;
}

static void test_defaults(void)
{
	struct config cfg;
	struct error err;

	/* A missing optional file leaves every default. */
	CHECK(config_load(&cfg, "/nonexistent/kv.conf", false, &err));
	CHECK(strcmp(cfg.store, KV_DEFAULT_STORE) == 0);
	CHECK(cfg.max_value == 65536);
	CHECK(cfg.max_body == 1048576);
	CHECK(cfg.max_load == 15u << 20);
	CHECK(!cfg.sync);
	CHECK(cfg.open == CONFIG_OPEN_PER_PROCESS);
	CHECK(cfg.cache_size == 16ULL << 20);
	CHECK(cfg.auth);
	CHECK(!cfg.read_only);
	CHECK(cfg.rate == 0 && cfg.rate_period_s == 0 && cfg.burst == 0);
	CHECK(cfg.n_tokens == 0 && cfg.tokens == NULL);
	config_free(&cfg);

	/* A required one must exist. */
	CHECK(!config_load(&cfg, "/nonexistent/kv.conf", true, &err));
	CHECK(strncmp(err.message, "/nonexistent/kv.conf: cannot read: ", 35) == 0);
	config_free(&cfg);

	/* An empty file and a file of comments are the defaults too. */
	CHECK(load(&cfg, "", &err));
	CHECK(cfg.max_value == 65536 && cfg.auth);
	config_free(&cfg);
	CHECK(load(&cfg, "# a comment\n\n   \t\n  # another\n", &err));
	CHECK(cfg.cache_size == 16ULL << 20);
	config_free(&cfg);
}

/* Every row: its default is a value its own parser takes, and its
 * bounds hold at both ends. */
static void test_table(void)
{
	char text[256], bound[32];
	struct config cfg;
	struct error err;

	for (size_t i = 0; i < config_n_settings; i++) {
		const struct config_setting *s = &config_settings[i];

		CHECK(s->help != NULL && strchr(s->help, '\n') == NULL);
		CHECK(s->def != NULL || s->def_text != NULL);
		if (s->def != NULL && s->type != CONFIG_PATH) {
			snprintf(text, sizeof(text), "%s = %s\n", s->name, s->def);
			CHECK(load(&cfg, text, &err));
			config_free(&cfg);
		}
		if (s->example != NULL) {
			snprintf(text, sizeof(text), "%s = %s\n%s", s->name, s->example,
				 strcmp(s->name, "burst") == 0 ? "rate = 1/s\n" : "");
			CHECK(load(&cfg, text, &err));
			config_free(&cfg);
		}
		if (s->type != CONFIG_SIZE && s->type != CONFIG_U32)
			continue;
		/* The bounds, written as the reference writes them. */
		config_format_size(s->min, bound, sizeof(bound));
		snprintf(text, sizeof(text), "%s = %s\nrate = 1/s\n", s->name,
			 s->type == CONFIG_SIZE ? bound : "1");
		CHECK(load(&cfg, text, &err));
		config_free(&cfg);
		snprintf(text, sizeof(text), "%s = %llu\nrate = 1/s\n", s->name,
			 (unsigned long long)s->max);
		CHECK(load(&cfg, text, &err));
		config_free(&cfg);
		snprintf(text, sizeof(text), "%s = %llu\n", s->name, (unsigned long long)s->max + 1);
		CHECK(!load(&cfg, text, &err) && strstr(err.message, ":1: must be ") != NULL);
		config_free(&cfg);
		snprintf(text, sizeof(text), "%s = %llu\n", s->name, (unsigned long long)s->min - 1);
		CHECK(!load(&cfg, text, &err) && strstr(err.message, ":1: must be ") != NULL);
		config_free(&cfg);
	}
	CHECK(setting("store") != NULL && setting("auth") != NULL && setting("nope") == NULL);
}

static void test_sizes(void)
{
	struct config cfg;
	struct error err;
	char out[32];

	CHECK(load(&cfg, "max_value = 64K\nmax_body = 2m\ncache_size = 1G\n", &err));
	CHECK(cfg.max_value == 65536);
	CHECK(cfg.max_body == 2u << 20);
	CHECK(cfg.cache_size == 1ULL << 30);
	config_free(&cfg);
	CHECK(load(&cfg, "max_value = 16\nmax_body = 256M\ncache_size = 64g\n", &err));
	CHECK(cfg.max_value == 16 && cfg.max_body == 256u << 20 && cfg.cache_size == 64ULL << 30);
	config_free(&cfg);
	CHECK(load(&cfg, "cache_size = 262144\n", &err) && cfg.cache_size == 256u << 10);
	config_free(&cfg);

	CHECK(refused("max_value = 15\n", 1, "must be a byte count from 16 to 64M"));
	CHECK(refused("max_value = 65M\n", 1, "must be a byte count from 16 to 64M"));
	CHECK(refused("max_value = 1T\n", 1, "must be a byte count from 16 to 64M"));
	CHECK(refused("max_value = K\n", 1, "must be a byte count from 16 to 64M"));
	CHECK(refused("max_value = -1\n", 1, "must be a byte count from 16 to 64M"));
	CHECK(refused("max_value = 1.5M\n", 1, "must be a byte count from 16 to 64M"));
	CHECK(refused("max_value = 99999999999999999999G\n", 1, "must be a byte count from 16 to 64M"));
	CHECK(refused("max_body = 63\n", 1, "must be a byte count from 64 to 256M"));
	CHECK(refused("cache_size = 255K\n", 1, "must be a byte count from 256K to 64G"));
	CHECK(refused("cache_size = 17179869184K\n", 1, "must be a byte count from 256K to 64G"));

	config_format_size(16, out, sizeof(out));
	CHECK(strcmp(out, "16") == 0);
	config_format_size(64u << 20, out, sizeof(out));
	CHECK(strcmp(out, "64M") == 0);
	config_format_size(256u << 10, out, sizeof(out));
	CHECK(strcmp(out, "256K") == 0);
	config_format_size(64ULL << 30, out, sizeof(out));
	CHECK(strcmp(out, "64G") == 0);
	config_format_size(1536, out, sizeof(out));
	CHECK(strcmp(out, "1536") == 0);
	config_format_size(0, out, sizeof(out));
	CHECK(strcmp(out, "0") == 0);
}

static void test_durations(void)
{
	struct config cfg;
	struct error err;
	char out[32];

	CHECK(load(&cfg, "", &err));
	CHECK(cfg.changes_keep_ms == 3600000 && cfg.watch_wait_max_ms == 60000);
	CHECK(cfg.changes_max == 256u << 20 && cfg.watch_max == 1000);
	config_free(&cfg);
	CHECK(load(&cfg, "changes_keep = 90m\nwatch_wait_max = 1500ms\n", &err));
	CHECK(cfg.changes_keep_ms == 5400000 && cfg.watch_wait_max_ms == 1500);
	config_free(&cfg);
	CHECK(load(&cfg, "changes_keep = 720h\nwatch_wait_max = 1s\n", &err));
	CHECK(cfg.changes_keep_ms == 720u * 3600000 && cfg.watch_wait_max_ms == 1000);
	config_free(&cfg);

	CHECK(refused("changes_keep = 999ms\n", 1,
		      "must be a duration (ms, s, m or h) from 1s to 720h"));
	CHECK(refused("changes_keep = 721h\n", 1,
		      "must be a duration (ms, s, m or h) from 1s to 720h"));
	CHECK(refused("watch_wait_max = 60\n", 1,
		      "must be a duration (ms, s, m or h) from 1s to 1h"));
	CHECK(refused("watch_wait_max = s\n", 1,
		      "must be a duration (ms, s, m or h) from 1s to 1h"));
	CHECK(refused("watch_wait_max = 1.5s\n", 1,
		      "must be a duration (ms, s, m or h) from 1s to 1h"));
	CHECK(refused("watch_wait_max = 99999999999999999999h\n", 1,
		      "must be a duration (ms, s, m or h) from 1s to 1h"));
	CHECK(refused("watch_max = 0\n", 1, "must be a whole number from 1 to 65536"));

	config_format_duration(3600000, out, sizeof(out));
	CHECK(strcmp(out, "1h") == 0);
	config_format_duration(90000, out, sizeof(out));
	CHECK(strcmp(out, "90s") == 0);
	config_format_duration(120000, out, sizeof(out));
	CHECK(strcmp(out, "2m") == 0);
	config_format_duration(1500, out, sizeof(out));
	CHECK(strcmp(out, "1500ms") == 0);
}

static void test_switches_and_choices(void)
{
	struct config cfg;
	struct error err;
	char rule[128];

	CHECK(load(&cfg, "sync = on\nauth = off\nread_only = yes\nopen = per_request\n", &err));
	CHECK(cfg.sync && !cfg.auth && cfg.read_only && cfg.open == CONFIG_OPEN_PER_REQUEST);
	config_free(&cfg);
	CHECK(load(&cfg, "sync = true\nauth = no\nread_only = false\nopen = per_process\n", &err));
	CHECK(cfg.sync && !cfg.auth && !cfg.read_only && cfg.open == CONFIG_OPEN_PER_PROCESS);
	config_free(&cfg);
	/* The later line wins. */
	CHECK(load(&cfg, "sync = on\nsync = off\n", &err) && !cfg.sync);
	config_free(&cfg);

	CHECK(refused("sync = On\n", 1, "must be on or off"));
	CHECK(refused("auth = 1\n", 1, "must be on or off"));
	CHECK(refused("read_only = maybe\n", 1, "must be on or off"));
	CHECK(refused("open = per_thread\n", 1, "must be per_process or per_request"));
	config_rule(setting("open"), rule, sizeof(rule));
	CHECK(strcmp(rule, "per_process or per_request") == 0);
}

static void test_rate_and_burst(void)
{
	struct config cfg;
	struct error err;

	CHECK(load(&cfg, "rate = 50/s\n", &err));
	CHECK(cfg.rate == 50 && cfg.rate_period_s == 1 && cfg.burst == 50);
	config_free(&cfg);
	CHECK(load(&cfg, "rate = 600/m\nburst = 7\n", &err));
	CHECK(cfg.rate == 600 && cfg.rate_period_s == 60 && cfg.burst == 7);
	config_free(&cfg);
	CHECK(load(&cfg, "burst = 1000000\nrate = 1000000/h\n", &err));
	CHECK(cfg.rate == 1000000 && cfg.rate_period_s == 3600 && cfg.burst == 1000000);
	config_free(&cfg);

	CHECK(refused("rate = 50\n", 1, "must be N/s, N/m or N/h with N from 1 to 1000000"));
	CHECK(refused("rate = 0/s\n", 1, "must be N/s, N/m or N/h with N from 1 to 1000000"));
	CHECK(refused("rate = 1000001/s\n", 1, "must be N/s, N/m or N/h with N from 1 to 1000000"));
	CHECK(refused("rate = 5/d\n", 1, "must be N/s, N/m or N/h with N from 1 to 1000000"));
	CHECK(refused("rate = /s\n", 1, "must be N/s, N/m or N/h with N from 1 to 1000000"));
	CHECK(refused("burst = 0\n", 1, "must be a whole number from 1 to 1000000"));
	CHECK(refused("burst = 5x\n", 1, "must be a whole number from 1 to 1000000"));

	/* What only the whole file tells has no line. */
	CHECK(!load(&cfg, "burst = 5\n", &err));
	CHECK(strcmp(err.message + strlen(path), ": burst is set without rate") == 0);
	config_free(&cfg);
}

/* store_mode: octal, the owner reads and writes, no execute bit;
 * store_group: a group that exists. Neither set by default. */
static void test_store_permissions(void)
{
	static const char mode_rule[] = "must be an octal mode from 0600 to 0666 that lets the "
					"owner read and write, with no execute bit";
	static const char group_rule[] = "must be the name or number of a group of /etc/group";
	struct config cfg;
	struct error err;

	CHECK(load(&cfg, "", &err));
	CHECK(cfg.store_mode == 0 && cfg.store_group == NULL);
	config_free(&cfg);
	CHECK(load(&cfg, "store_mode = 0660\nstore_group = root\n", &err));
	CHECK(cfg.store_mode == 0660 && cfg.store_group != NULL &&
	      strcmp(cfg.store_group, "root") == 0);
	config_free(&cfg);
	CHECK(load(&cfg, "store_mode = 600\nstore_group = 0\n", &err));
	CHECK(cfg.store_mode == 0600 && strcmp(cfg.store_group, "0") == 0);
	config_free(&cfg);
	CHECK(load(&cfg, "store_mode = 0666\n", &err) && cfg.store_mode == 0666);
	config_free(&cfg);
	CHECK(refused("store_mode = 0777\n", 1, mode_rule));
	CHECK(refused("store_mode = 0460\n", 1, mode_rule));
	CHECK(refused("store_mode = 0680\n", 1, mode_rule));
	CHECK(refused("store_mode = 66\n", 1, mode_rule));
	CHECK(refused("store_mode = 00660\n", 1, mode_rule));
	CHECK(refused("store_mode = 4660\n", 1, mode_rule));
	CHECK(refused("store_mode = rw-rw----\n", 1, mode_rule));
	CHECK(refused("\nstore_group = no-such-group-kv\n", 2, group_rule));
	CHECK(refused("store_group = root\nstore_group = nope:x\n", 2, group_rule));
}

static void test_bad_lines(void)
{
	char long_line[5000];
	struct config cfg;
	struct error err;

	CHECK(refused("# fine\nsync = off\nfrobnicate = 1\n", 3, "unknown setting"));
	CHECK(refused("\n\nsync\n", 3, "expected name = value"));
	CHECK(refused("sync =   \n", 1, "empty value"));
	CHECK(refused("store = relative/dir\n", 1, "must be an absolute path"));
	CHECK(refused("[tokens a]\n", 1, "expected [token NAME]"));
	CHECK(refused("[token a b]\n", 1,
		      "a token name is 1 to 64 letters, digits, '_', '.' or '-'"));
	memset(long_line, 'x', sizeof(long_line));
	memcpy(long_line, "# ", 2);
	long_line[sizeof(long_line) - 1] = '\0';
	CHECK(refused(long_line, 1, "line too long"));

	/* Blanks around names and values, CRLF and a '#' inside a value. */
	CHECK(load(&cfg, "  store\t=  /srv/kv#1 \r\n", &err));
	CHECK(strcmp(cfg.store, "/srv/kv#1") == 0);
	config_free(&cfg);
}

/* True when text is refused with "PATH: why", a rule of the whole file. */
static bool refused_file(const char *text, const char *why)
{
	struct config cfg;
	struct error err;
	char want[sizeof(err.message)];
	bool ok = load(&cfg, text, &err);

	config_free(&cfg);
	snprintf(want, sizeof(want), "%s: %s", path, why);
	if (ok || strcmp(err.message, want) != 0) {
		fprintf(stderr, "for %s: got \"%s\", want \"%s\"\n", text, ok ? "(loaded)" : err.message,
			want);
		return false;
	}
	return true;
}

static void test_replication(void)
{
	static const char site_rule[] =
		"must be HOST:PORT, optionally followed by the site's http:// or https:// base URL";
	static const char peer_rule[] =
		"must be HOST:PORT followed by the site's http:// or https:// base URL";
	struct config cfg;
	struct error err;

	CHECK(load(&cfg, "", &err));
	CHECK(!cfg.replication && cfg.site.host == NULL && cfg.peers.n == 0);
	CHECK(cfg.ack == CONFIG_ACK_QUORUM && cfg.ack_timeout_ms == 2000 && cfg.priority == 100);
	CHECK(!cfg.group_creator);
	config_free(&cfg);

	CHECK(load(&cfg, "replication = on\nsite = a.example.org:7001 https://a.example.org/kv/\n"
			 "peer = b.example.org:7001 https://b.example.org/kv\n"
			 "peer = [::1]:7003   http://[::1]:8080/kv\nack = all\nack_timeout = 500ms\n"
			 "priority = 0\ngroup_creator = on\n", &err));
	CHECK(cfg.replication && cfg.group_creator && cfg.ack == CONFIG_ACK_ALL);
	CHECK(cfg.ack_timeout_ms == 500 && cfg.priority == 0);
	CHECK(strcmp(cfg.site.host, "a.example.org") == 0 && cfg.site.port == 7001);
	/* The trailing '/' goes: paths are appended to it. */
	CHECK(strcmp(cfg.site.url, "https://a.example.org/kv") == 0);
	CHECK(cfg.peers.n == 2 && strcmp(cfg.peers.v[0].host, "b.example.org") == 0);
	CHECK(strcmp(cfg.peers.v[1].host, "[::1]") == 0 && cfg.peers.v[1].port == 7003);
	CHECK(strcmp(cfg.peers.v[1].url, "http://[::1]:8080/kv") == 0);
	config_free(&cfg);
	/* Without replication = on the lines are kept but not required. */
	CHECK(load(&cfg, "site = h:1\n", &err) && cfg.site.url == NULL);
	config_free(&cfg);

	CHECK(refused("site = example.org\n", 1, site_rule));
	CHECK(refused("site = :7001\n", 1, site_rule));
	CHECK(refused("site = h:0\n", 1, site_rule));
	CHECK(refused("site = h:65536\n", 1, site_rule));
	CHECK(refused("site = h:70x\n", 1, site_rule));
	CHECK(refused("site = h:7001 ftp://h/kv\n", 1, site_rule));
	CHECK(refused("site = h:7001 http://\n", 1, site_rule));
	CHECK(refused("\npeer = h:7002\n", 2, peer_rule));
	CHECK(refused("peer = h:7002 http://h/k\"v\n", 1, peer_rule));
	CHECK(refused("ack = majority\n", 1, "must be quorum, all or one"));
	CHECK(refused("priority = 1001\n", 1, "must be a whole number from 0 to 1000"));
	CHECK(refused("ack_timeout = 5ms\n", 1,
		      "must be a duration (ms, s, m or h) from 10ms to 1m"));
	CHECK(refused_file("replication = on\npeer = b:1 http://b/kv\n",
			   "replication = on needs site = HOST:PORT"));
	CHECK(refused_file("replication = on\nsite = a:1\n",
			   "replication = on needs a peer line for each other site of the group"));
	CHECK(refused_file("replication = on\nsite = a:1\npeer = a:1 http://a/kv\n",
			   "a peer has this site's own address"));
	CHECK(refused_file("replication = on\nsite = a:1\npeer = b:1 http://b/kv\n"
			   "peer = b:1 http://c/kv\n", "two peer lines name the same address"));
}

static void test_tokens(void)
{
	struct config cfg;
	struct error err;

	CHECK(load(&cfg, "auth = on\n[token alice]\nhash = " HASH_ALICE "\n"
		   "read = users, config\nwrite = users.alice\n[token lb]\nhash = sha256:"
		   "0000000000000000000000000000000000000000000000000000000000000000\n", &err));
	CHECK(cfg.n_tokens == 2);
	CHECK(strcmp(cfg.tokens[0].name, "alice") == 0 && cfg.tokens[0].line == 2);
	CHECK(cfg.tokens[0].has_hash && cfg.tokens[0].hash[0] == 0x95);
	CHECK(cfg.tokens[0].n_read == 2 && strcmp(cfg.tokens[0].read[1], "config") == 0);
	CHECK(cfg.tokens[0].n_write == 1 && strcmp(cfg.tokens[0].write[0], "users.alice") == 0);
	CHECK(strcmp(cfg.tokens[1].name, "lb") == 0 && cfg.tokens[1].n_read == 0);
	CHECK(!cfg.tokens[0].admin && !cfg.tokens[1].admin);
	config_free(&cfg);

	/* admin = yes is a grant of its own. */
	CHECK(load(&cfg, "[token ops]\nhash = " HASH_ALICE "\nadmin = yes\n", &err));
	CHECK(cfg.n_tokens == 1 && cfg.tokens[0].admin && cfg.tokens[0].n_read == 0 &&
	      cfg.tokens[0].n_write == 0);
	config_free(&cfg);
	CHECK(refused("[token a]\nhash = " HASH_ALICE "\nadmin = maybe\n", 3, "must be yes or no"));

	/* A setting after a section belongs to the token, which has no such line. */
	CHECK(refused("[token a]\nhash = " HASH_ALICE "\nsync = on\n", 3,
		      "unknown setting in a [token] section (only hash, read, write and admin)"));
	CHECK(refused("[token a]\nread = users\n", 1, "this [token] section has no hash"));
	CHECK(refused("[token a]\nhash = sha256:abc\n", 2,
		      "must be sha256: and 64 hex digits (kvctl token NAME prints it)"));
	CHECK(refused("[token a]\nhash = " HASH_ALICE "\nhash = " HASH_ALICE "\n", 3,
		      "given twice in this section"));
	CHECK(refused("[token a]\nhash = " HASH_ALICE "\nread = users..x\n", 3,
		      "must be \"*\" or keypaths separated by commas"));
	CHECK(refused("[token a]\nhash = " HASH_ALICE "\n[token a]\n", 3,
		      "a token of this name exists already"));
	CHECK(refused("[token a]\nhash = " HASH_ALICE "\n[token b]\nhash = " HASH_ALICE "\n", 3,
		      "this [token] section has the same hash as another"));
	CHECK(config_n_token_settings == 4);
}

static void test_locate(void)
{
	struct config cfg;
	struct error err;

	write_file("max_value = 100\n");
	setenv("KV_CONF", path, 1);
	setenv("KV_DATA", "/data/from/env", 1);
	CHECK(config_locate(&cfg, NULL, &err));
	CHECK(cfg.max_value == 100 && strcmp(cfg.store, "/data/from/env") == 0);
	config_free(&cfg);
	/* kvctl -c comes before KV_CONF, and must exist too. */
	CHECK(!config_locate(&cfg, "/nonexistent/kv.conf", &err));
	config_free(&cfg);
	unsetenv("KV_DATA");
	setenv("KV_DATA", "", 1);
	CHECK(config_locate(&cfg, path, &err) && strcmp(cfg.store, KV_DEFAULT_STORE) == 0);
	config_free(&cfg);
	setenv("KV_CONF", "/nonexistent/kv.conf", 1);
	CHECK(!config_locate(&cfg, NULL, &err));
	CHECK(strstr(err.message, "/nonexistent/kv.conf: cannot read") == err.message);
	config_free(&cfg);
	unsetenv("KV_CONF");
	unsetenv("KV_DATA");
}

int main(void)
{
	int fd = mkstemp(path);

	if (fd < 0)
		return EXIT_FAILURE;
	close(fd);
	test_defaults();
	test_table();
	test_sizes();
	test_durations();
	test_switches_and_choices();
	test_rate_and_burst();
	test_store_permissions();
	test_bad_lines();
	test_tokens();
	test_replication();
	test_locate();
	unlink(path);
	return UNIT_DONE();
}
