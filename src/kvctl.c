/* kvctl.c: the administrative command of the store
 *
 * kvctl finds its configuration as the service does (KV_CONF, or the
 * compiled-in default, or -c FILE; KV_DATA overrides the store directory)
 * and joins the same Berkeley DB environment through store_admin.h, so it
 * runs while the web server's workers serve the store. Every failure is one
 * line on stderr and a non-zero exit: 2 for a bad command line, 1 for
 * anything else. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "auth.h"
#include "config.h"
#include "dumpline.h"
#include "jsonbuf.h"
#include "keypath.h"
#include "record.h"
#include "remote.h"
#include "store_admin.h"
#include "util.h"

#define EXIT_USAGE 2

/* Records per transaction of sweep and load: short enough that a web
 * worker's write waits a few milliseconds at most behind one. */
#define BATCH_RECORDS 100

/* load also ends a batch at this many bytes of values. */
#define BATCH_BYTES (1u << 20)

/* Random bytes in a token: 256 bits. */
#define TOKEN_BYTES 32

struct command {
	const char *name;
	const char *usage;	/* arguments after the name */
	const char *help;	/* what it does, a few lines */
	int min_args, max_args;
	bool needs_store;	/* joins the live environment */
	bool own_options;	/* reads options of its own among its arguments */
	int (*run)(struct config *cfg, struct store_admin *sa, char **args);
};

/* One line on stderr for every failure. */
static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	fputs("kvctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- stats ---- */

static int cmd_stats(struct config *cfg, struct store_admin *sa, char **args)
{
	struct store_admin_stats st;
	char vs[VERSIONSTAMP_LEN + 1], floor[VERSIONSTAMP_LEN + 1], when[32] = "none";
	struct error err;
	uint64_t lookups;

	if (store_admin_stats(sa, &st, &err) != STORE_OK) {
		fail("stats: %s", err.message);
		return EXIT_FAILURE;
	}
	record_format_vs(st.versionstamp, vs);
	record_format_vs(st.changes_floor, floor);
	if (st.last_checkpoint != 0)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&st.last_checkpoint));
	lookups = st.cache_hits + st.cache_misses;
	printf("keys_live: %" PRIu64 "\n", st.keys_live);
	printf("keys_expired: %" PRIu64 "\n", st.keys_expired);
	printf("value_bytes: %" PRIu64 "\n", st.value_bytes);
	printf("last_versionstamp: %s\n", vs);
	printf("changes_kept: %" PRIu64 "\n", st.changes);
	printf("changes_bytes: %" PRIu64 "\n", st.changes_bytes);
	printf("changes_complete_after: %s\n", floor);
	printf("database_bytes: %" PRIu64 "\n", st.db_bytes);
	printf("log_bytes: %" PRIu64 "\n", st.log_bytes);
	printf("log_files: %u\n", st.log_files);
	printf("last_checkpoint: %s\n", when);
	printf("cache_bytes: %" PRIu64 "\n", st.cache_bytes);
	printf("cache_hits: %" PRIu64 "\n", st.cache_hits);
	printf("cache_misses: %" PRIu64 "\n", st.cache_misses);
	if (lookups > 0)
		printf("cache_hit_rate: %.2f%%\n", 100.0 * (double)st.cache_hits / (double)lookups);
	else
		printf("cache_hit_rate: none\n");
	return EXIT_SUCCESS;
}

/* ---- sweep ---- */

static void sweep_progress(uint64_t done, void *arg)
{
	fprintf(stderr, "\rkvctl: swept %" PRIu64 " expired keys", done);
}

static int cmd_sweep(struct config *cfg, struct store_admin *sa, char **args)
{
	bool tty = isatty(STDERR_FILENO);
	enum store_status status;
	struct error err;
	uint64_t removed;

	status = store_admin_sweep(sa, BATCH_RECORDS, tty ? sweep_progress : NULL, NULL,
				   &removed, &err);
	if (tty)
		fputc('\n', stderr);
	if (status != STORE_OK) {
		fail("sweep: %s (%" PRIu64 " expired keys removed before)", err.message, removed);
		return EXIT_FAILURE;
	}
	printf("swept %" PRIu64 " expired keys\n", removed);
	return EXIT_SUCCESS;
}

/* ---- dump ---- */

/* Where a dump goes: each record's line is written into line, then out. */
struct dump_out {
	FILE *out;
	struct jsonbuf line;
};

static bool dump_record(const struct store_admin_record *rec, void *arg)
{
	struct dump_out *d = arg;

	dumpline_write(&d->line, rec);
	if (d->line.failed)
		return false;
	return fwrite(d->line.data, 1, d->line.len, d->out) == d->line.len;
}

static int cmd_dump(struct config *cfg, struct store_admin *sa, char **args)
{
	const char *prefix = args[0] != NULL ? args[0] : "";
	size_t len = strlen(prefix);
	struct dump_out d = { .out = stdout };
	enum store_status status;
	struct error err;
	bool ok = false;

	if (len > 0 && !keypath_valid(prefix, len)) {
		fail("dump: '%s' is not a valid keypath", prefix);
		return EXIT_USAGE;
	}
	jsonbuf_init(&d.line, 256);
	status = store_admin_dump(sa, prefix, len, NULL, dump_record, &d, &err);
	if (d.line.failed)
		fail("dump: out of memory");
	else if (fflush(stdout) != 0 || ferror(stdout))
		fail("dump: cannot write the output");
	else if (status != STORE_OK)
		fail("dump: %s", err.message);
	else
		ok = true;
	jsonbuf_free(&d.line);
	return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* ---- load ---- */

/* A batch of parsed lines; the records point into the lines' texts and
 * their decoded strings. */
struct batch {
	struct store_admin_record recs[BATCH_RECORDS];
	struct dumpline lines[BATCH_RECORDS];
	char *texts[BATCH_RECORDS];
	size_t n, bytes;
};

static void batch_reset(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		dumpline_free(&b->lines[i]);
		free(b->texts[i]);
	}
	b->n = b->bytes = 0;
}

/* Parses one line into the next record of b, which takes the line. Returns
 * NULL, or what is wrong with the line. */
static const char *parse_line(struct batch *b, char *line, size_t len, const struct config *cfg)
{
	const char *problem;

	b->texts[b->n] = line;
	problem = dumpline_parse(line, len, cfg->max_value, &b->lines[b->n]);
	b->recs[b->n] = b->lines[b->n].rec;
	b->bytes += b->recs[b->n].value_len;
	b->n++;
	return problem;
}

struct load_totals {
	uint64_t loaded, skipped;
};

static enum store_status load_flush(struct store_admin *sa, struct batch *b, bool keep,
				    struct load_totals *t, struct error *err)
{
	enum store_status status = STORE_OK;
	uint64_t skipped = 0;

	if (b->n > 0)
		status = store_admin_load(sa, b->recs, b->n, keep, &skipped, NULL, err);
	if (status == STORE_OK) {
		t->loaded += b->n - skipped;
		t->skipped += skipped;
	}
	batch_reset(b);
	return status;
}

static int load_stream(FILE *in, const char *name, struct config *cfg,
		       struct store_admin *sa, bool keep, struct load_totals *t)
{
	struct batch *b = calloc(1, sizeof(*b));
	unsigned long lineno = 0;
	const char *problem;
	char *line = NULL;
	size_t cap = 0;
	struct error err;
	ssize_t len;
	int status = EXIT_FAILURE;

	if (b == NULL) {
		fail("load: out of memory");
		return EXIT_FAILURE;
	}
	while ((len = getline(&line, &cap, in)) >= 0) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		problem = parse_line(b, line, (size_t)len, cfg);
		line = NULL;	/* the batch owns it now */
		cap = 0;
		if (problem != NULL) {
			fail("load: %s line %lu: %s", name, lineno, problem);
			goto out;
		}
		if (b->n == BATCH_RECORDS || b->bytes >= BATCH_BYTES) {
			if (load_flush(sa, b, keep, t, &err) != STORE_OK) {
				fail("load: %s (before line %lu)", err.message, lineno);
				goto out;
			}
		}
	}
	if (ferror(in)) {
		fail("load: cannot read %s: %s", name, strerror(errno));
		goto out;
	}
	if (load_flush(sa, b, keep, t, &err) != STORE_OK) {
		fail("load: %s", err.message);
		goto out;
	}
	status = EXIT_SUCCESS;
out:
	batch_reset(b);
	free(b);
	free(line);
	return status;
}

static int cmd_load(struct config *cfg, struct store_admin *sa, char **args)
{
	const char *name = args[0] != NULL && strcmp(args[0], "-") != 0 ? args[0] : NULL;
	struct load_totals t = { 0, 0 };
	FILE *in = stdin;
	struct error err;
	bool fresh;
	int status;

	if (name != NULL && (in = fopen(name, "r")) == NULL) {
		fail("load: cannot open %s: %s", name, strerror(errno));
		return EXIT_FAILURE;
	}
	/* Into a store that never took a write, records keep their
	 * versionstamps, so the entity tags clients hold stay valid; into one
	 * that did, each takes a new one, so none ever repeats. */
	if (store_admin_fresh(sa, &fresh, &err) != STORE_OK) {
		fail("load: %s", err.message);
		status = EXIT_FAILURE;
		goto out;
	}
	status = load_stream(in, name != NULL ? name : "stdin", cfg, sa, fresh, &t);
	if (status == EXIT_SUCCESS)
		printf("loaded %" PRIu64 " keys%s; %" PRIu64 " already expired, left out\n",
		       t.loaded, fresh ? " with their versionstamps" : " with new versionstamps",
		       t.skipped);
	else if (t.loaded > 0)
		fprintf(stderr, "kvctl: %" PRIu64 " keys were loaded before that\n", t.loaded);
out:
	if (in != stdin)
		fclose(in);
	return status;
}

/* ---- backup, restore, verify ---- */

static int cmd_backup(struct config *cfg, struct store_admin *sa, char **args)
{
	struct error err;

	if (store_admin_backup(sa, args[0], &err) != STORE_OK) {
		fail("backup into %s: %s", args[0], err.message);
		return EXIT_FAILURE;
	}
	printf("backed up the store into %s\n", args[0]);
	return EXIT_SUCCESS;
}

static int cmd_restore(struct config *cfg, struct store_admin *sa, char **args)
{
	struct error err;
	uint64_t keys;

	switch (store_admin_restore(cfg, args[0], &keys, &err)) {
	case STORE_OK:
		break;
	case STORE_NOTFOUND:		/* no backup there */
	case STORE_PRECONDITION:	/* the store directory is not empty */
		fail("restore: %s", err.message);
		return EXIT_FAILURE;
	default:
		fail("restore from %s: %s", args[0], err.message);
		return EXIT_FAILURE;
	}
	printf("restored %" PRIu64 " keys into %s\n", keys, cfg->store);
	return EXIT_SUCCESS;
}

static int cmd_verify(struct config *cfg, struct store_admin *sa, char **args)
{
	struct error err;

	if (store_admin_verify(sa, &err) != STORE_OK) {
		fail("verify: %s", err.message);
		return EXIT_FAILURE;
	}
	printf("the databases and the expiry index are sound\n");
	return EXIT_SUCCESS;
}

/* ---- upgrade ---- */

static int cmd_upgrade(struct config *cfg, struct store_admin *sa, char **args)
{
	struct store_admin_format f;
	struct error err;

	if (store_admin_upgrade(cfg, &f, &err) != STORE_OK) {
		fail("upgrade of %s: %s", cfg->store, err.message);
		return EXIT_FAILURE;
	}
	printf("the store in %s is at format %u, the current one: nothing to convert "
	       "(%" PRIu64 " records checked)\n", cfg->store, f.format, f.records);
	return EXIT_SUCCESS;
}

/* ---- token ---- */

/* Base64url without padding: the token travels in an Authorization
 * header and in shell commands, where +, / and = get in the way. */
static void base64url(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint32_t bits = 0;
	int have = 0;

	for (size_t i = 0; i < len; i++) {
		bits = bits << 8 | in[i];
		have += 8;
		while (have >= 6) {
			have -= 6;
			*out++ = digits[(bits >> have) & 63];
		}
	}
	if (have > 0)
		*out++ = digits[(bits << (6 - have)) & 63];
	*out = '\0';
}

/* The grants a token is minted with. Without --read, --write or --admin a
 * token gets read and write on the whole store: the store's owner's own
 * token, with which every example of the kit works; a narrower one is
 * asked for in so many words. */
struct token_grants {
	const char *read;	/* comma-separated grants, or NULL for none */
	const char *write;
	bool admin;
};

/* PREFIXES of --read or --write: "*" or keypaths separated by commas, as
 * a [token] section's read and write take them. A grant may not begin or
 * end with a blank: the configuration would read it trimmed, as another
 * key. */
static bool grants_valid(const char *list)
{
	const char *p = list;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);

		if (len > 0 && (isblank((unsigned char)p[0]) || isblank((unsigned char)p[len - 1])))
			return false;
		if (!(len == 1 && *p == '*') && !keypath_valid(p, len))
			return false;
		if (comma == NULL)
			return true;
		p = comma + 1;
	}
}

/* NAME and the options in any order; false with the reason said. */
static bool token_args(char **args, const char **name, struct token_grants *g)
{
	*name = NULL;
	memset(g, 0, sizeof(*g));
	for (size_t i = 0; args[i] != NULL; i++) {
		const char **list = strcmp(args[i], "--read") == 0 ? &g->read :
				    strcmp(args[i], "--write") == 0 ? &g->write : NULL;

		if (list != NULL) {
			if (args[i + 1] == NULL || *list != NULL) {
				fail("token: %s wants one list of prefixes", args[i]);
				return false;
			}
			*list = args[++i];
			if (!grants_valid(*list)) {
				fail("token: %s %s: a grant is \"*\" or a keypath, separated by commas",
				     args[i - 1], *list);
				return false;
			}
		} else if (strcmp(args[i], "--admin") == 0) {
			g->admin = true;
		} else if (args[i][0] == '-' || *name != NULL) {
			fail("token: unexpected %s (kvctl token --help)", args[i]);
			return false;
		} else {
			*name = args[i];
		}
	}
	if (*name == NULL) {
		fail("token: expects a NAME (kvctl token --help)");
		return false;
	}
	if (g->read == NULL && g->write == NULL && !g->admin)
		g->read = g->write = "*";
	return true;
}

/* The token, then the section to paste, its lines counted. */
static void token_print(const char *token, const char *name, const char *hex,
			const struct token_grants *g)
{
	int lines = 2 + (g->read != NULL) + (g->write != NULL) + g->admin;

	printf("%s\n\n", token);
	printf("# Give the token above to its user: it is shown once and stored nowhere.\n"
	       "# Paste the %d lines below at the end of kv.conf.\n", lines);
	printf("[token %s]\nhash = sha256:%s\n", name, hex);
	if (g->read != NULL)
		printf("read = %s\n", g->read);
	if (g->write != NULL)
		printf("write = %s\n", g->write);
	if (g->admin)
		printf("admin = yes\n");
}

static int cmd_token(struct config *cfg, struct store_admin *sa, char **args)
{
	unsigned char random[TOKEN_BYTES], digest[EVP_MAX_MD_SIZE];
	char token[(TOKEN_BYTES * 4 + 2) / 3 + 1], hex[2 * EVP_MAX_MD_SIZE + 1];
	unsigned int digest_len = 0;
	struct token_grants grants;
	const char *name;

	if (!token_args(args, &name, &grants))
		return EXIT_USAGE;
	if (!auth_token_name_valid(name)) {
		fail("token: a name is " AUTH_TOKEN_NAME_RULE);
		return EXIT_USAGE;
	}
	if (RAND_bytes(random, sizeof(random)) != 1) {
		fail("token: the system gave no random bytes");
		return EXIT_FAILURE;
	}
	base64url(random, sizeof(random), token);
	if (EVP_Digest(token, strlen(token), digest, &digest_len, EVP_sha256(), NULL) != 1) {
		fail("token: cannot hash the token");
		return EXIT_FAILURE;
	}
	util_hex_encode(digest, digest_len, hex);
	hex[2 * digest_len] = '\0';
	token_print(token, name, hex, &grants);
	return EXIT_SUCCESS;
}

/* ---- dump and load over HTTP (--url) ---- */

/* The bearer token for --url: the first line of --token-file FILE, else
 * $KV_TOKEN, else none. Written into buf (size bytes); false when the file
 * cannot be read or holds no token. */
static bool remote_token(const char *file, char *buf, size_t size, const char **token)
{
	const char *env = getenv("KV_TOKEN");
	FILE *f;
	bool ok;

	*token = NULL;
	if (file == NULL) {
		if (env != NULL && *env != '\0')
			*token = env;
		return true;
	}
	if ((f = fopen(file, "r")) == NULL) {
		fail("cannot open the token file %s: %s", file, strerror(errno));
		return false;
	}
	ok = fgets(buf, (int)size, f) != NULL;
	fclose(f);
	buf[ok ? strcspn(buf, " \t\r\n") : 0] = '\0';
	if (buf[0] == '\0') {
		fail("the token file %s holds no token on its first line", file);
		return false;
	}
	*token = buf;
	return true;
}

static int remote_run(const struct command *c, const char *url, const char *token_file,
		      char **args)
{
	struct remote r = { .url = url };
	struct remote_loaded done;
	const char *name = args[0] != NULL && strcmp(args[0], "-") != 0 ? args[0] : NULL;
	char token[512];
	struct error err;
	FILE *in = stdin;
	int status = EXIT_FAILURE;

	if (!remote_token(token_file, token, sizeof(token), &r.token))
		return EXIT_FAILURE;
	if (strcmp(c->name, "dump") == 0) {
		if (remote_dump(&r, stdout, &err))
			status = EXIT_SUCCESS;
		else
			fail("dump from %s: %s", url, err.message);
		goto out;
	}
	if (name != NULL && (in = fopen(name, "r")) == NULL) {
		fail("load: cannot open %s: %s", name, strerror(errno));
		goto out;
	}
	if (remote_load(&r, in, &done, &err)) {
		printf("loaded %" PRIu64 " keys; %" PRIu64 " already expired, left out; "
		       "versionstamp %s\n", done.loaded, done.skipped, done.versionstamp);
		status = EXIT_SUCCESS;
	} else {
		fail("load into %s: %s", url, err.message);
	}
	if (in != stdin)
		fclose(in);
out:
	explicit_bzero(token, sizeof(token));
	return status;
}

/* ---- replication ---- */

/* One site's line: its address, its URL, and what its health check says. */
static void replication_line(const struct config_site *site, bool self, const char *token,
			     const char *master_vs)
{
	struct remote r = { .url = site->url, .token = token };
	struct remote_health h;
	struct error err;
	char address[300];
	uint64_t mine, master;

	snprintf(address, sizeof(address), "%s:%u%s", site->host, (unsigned)site->port,
		 self ? " (this)" : "");
	if (site->url == NULL) {
		printf("%-28s %-32s %s\n", address, "-", "no URL configured");
		return;
	}
	if (!remote_health(&r, &h, &err)) {
		printf("%-28s %-32s down: %s\n", address, site->url, err.message);
		return;
	}
	printf("%-28s %-32s %-8s %-20s", address, site->url, h.role[0] != '\0' ? h.role : "single",
	       h.versionstamp[0] != '\0' ? h.versionstamp : "-");
	if (master_vs != NULL &&
	    record_parse_vs(h.versionstamp, strlen(h.versionstamp), &mine) == RECORD_VS_OK &&
	    record_parse_vs(master_vs, strlen(master_vs), &master) == RECORD_VS_OK)
		printf(" %" PRIu64, master > mine ? master - mine : 0);
	else
		printf(" -");
	printf("  %s\n", h.master_url[0] != '\0' ? h.master_url : "(no master known)");
}

/* kvctl replication remove HOST:PORT */
static int replication_remove(struct config *cfg, char **args)
{
	struct store_admin *sa = NULL;
	const char *colon;
	struct error err;
	char host[256];
	unsigned long port;
	char *end;
	int status = EXIT_FAILURE;

	colon = args[0] != NULL ? strrchr(args[0], ':') : NULL;
	if (colon == NULL || args[1] != NULL || colon == args[0] ||
	    (size_t)(colon - args[0]) >= sizeof(host) ||
	    (port = strtoul(colon + 1, &end, 10)) == 0 || port > 65535 || *end != '\0') {
		fail("replication remove: expects HOST:PORT, the site's address as its peer "
		     "lines name it");
		return EXIT_USAGE;
	}
	memcpy(host, args[0], (size_t)(colon - args[0]));
	host[colon - args[0]] = '\0';
	if (store_admin_open(cfg, &sa, &err) != STORE_OK) {
		fail("cannot open the store in %s: %s", cfg->store, err.message);
		goto out;
	}
	if (store_admin_remove_site(sa, host, (unsigned)port, &err) != STORE_OK) {
		fail("replication remove %s: %s", args[0], err.message);
		goto out;
	}
	printf("removed %s from the group\n", args[0]);
	status = EXIT_SUCCESS;
out:
	store_admin_close(sa);
	return status;
}

/* The master's versionstamp, from the first site that answers as master. */
static bool master_versionstamp(const struct config *cfg, const char *token, char *out,
				size_t size)
{
	for (size_t i = 0; i <= cfg->peers.n; i++) {
		const struct config_site *site = i == 0 ? &cfg->site : &cfg->peers.v[i - 1];
		struct remote r = { .url = site->url, .token = token };
		struct remote_health h;
		struct error err;

		if (site->url != NULL && remote_health(&r, &h, &err) &&
		    strcmp(h.role, "master") == 0) {
			snprintf(out, size, "%s", h.versionstamp);
			return true;
		}
	}
	return false;
}

static int cmd_replication(struct config *cfg, struct store_admin *sa, char **args)
{
	char buf[512], master_vs[32];
	const char *token, *file = NULL;
	bool have_master;

	if (args[0] != NULL && strcmp(args[0], "remove") == 0)
		return replication_remove(cfg, args + 1);
	if (args[0] != NULL) {
		if (strcmp(args[0], "--token-file") != 0 || args[1] == NULL) {
			fail("replication: expects [--token-file FILE] (kvctl replication --help)");
			return EXIT_USAGE;
		}
		file = args[1];
	}
	if (!cfg->replication) {
		fail("replication: the configuration does not say replication = on");
		return EXIT_FAILURE;
	}
	if (!remote_token(file, buf, sizeof(buf), &token))
		return EXIT_FAILURE;
	have_master = master_versionstamp(cfg, token, master_vs, sizeof(master_vs));
	printf("%-28s %-32s %-8s %-20s %s  %s\n", "site", "url", "role", "versionstamp", "behind",
	       "master it names");
	replication_line(&cfg->site, true, token, have_master ? master_vs : NULL);
	for (size_t i = 0; i < cfg->peers.n; i++)
		replication_line(&cfg->peers.v[i], false, token, have_master ? master_vs : NULL);
	explicit_bzero(buf, sizeof(buf));
	return have_master ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* ---- command line ---- */

static const struct command commands[] = {
	{ "stats", "", "Counts live keys and expired keys not yet removed, bytes of values,\n"
	  "the size of the databases and logs, the last checkpoint and the cache hit rate.",
	  0, 0, true, false, cmd_stats },
	{ "sweep", "", "Removes every expired key through the expiry index, 100 per transaction,\n"
	  "so that the web workers never wait long. Safe to run from cron while the\n"
	  "service serves; shows its progress when stderr is a terminal.",
	  0, 0, true, false, cmd_sweep },
	{ "dump", "[PREFIX]", "Writes every live key (strictly under PREFIX, segment-wise, when given)\n"
	  "as JSON lines {\"key\", \"value\", \"expiresAt\", \"versionstamp\"} to stdout,\n"
	  "from one consistent snapshot of the store: a hot-backup copy made inside the\n"
	  "store directory for the dump and removed after it.",
	  0, 1, true, false, cmd_dump },
	{ "load", "[FILE]", "Reads the lines of a dump from FILE or stdin and writes them, values and\n"
	  "expiresAt intact, 100 per transaction. Into a store that never took a write\n"
	  "the keys keep their versionstamps; otherwise each gets a new one. Either way\n"
	  "later writes get versionstamps above every loaded one.",
	  0, 1, true, false, cmd_load },
	{ "backup", "DIR", "Makes a hot backup of the live store into DIR (missing or empty):\n"
	  "Berkeley DB's own copy of the databases and logs, recovered so that DIR\n"
	  "holds a consistent store.",
	  1, 1, true, false, cmd_backup },
	{ "restore", "DIR", "Copies the backup in DIR into the store directory, which must be missing\n"
	  "or empty, and recovers it. Stop the service first, restore into a new\n"
	  "directory (KV_DATA or -c), point the configuration at it, start the service.",
	  1, 1, false, false, cmd_restore },
	{ "verify", "", "Checks the structure of both databases, and that the expiry index holds\n"
	  "exactly one entry for each key with an expiry, on a hot-backup copy of the\n"
	  "store made for the check. Exits 1 on a problem.",
	  0, 0, true, false, cmd_verify },
	{ "upgrade", "", "Brings the store to the format this kvctl writes, converting the records\n"
	  "of older formats; run it after installing a new kv, with the service\n"
	  "stopped and a backup taken. It refuses a store that other processes are\n"
	  "using. It joins the store (recovering it when needed) and checks every\n"
	  "record; today's format, 1, is the first, so there is nothing to convert.",
	  0, 0, false, false, cmd_upgrade },
	{ "replication", "[--token-file FILE] | remove HOST:PORT",
	  "Shows the replicated group of the configuration: for this site and each\n"
	  "peer, its role, the versionstamp it has applied, how many versionstamps it\n"
	  "is behind the master, and the master it names, from each site's health\n"
	  "check (with the token of FILE's first line, else of $KV_TOKEN, when auth\n"
	  "is on). Exits 1 when no site answers as master. With remove: takes the\n"
	  "stopped site at HOST:PORT out of the group for good, so that it no longer\n"
	  "counts towards a majority.",
	  0, 2, false, true, cmd_replication },
	{ "token", "NAME [--read PREFIXES] [--write PREFIXES] [--admin]",
	  "Mints a random bearer token and prints it once, then the lines of its\n"
	  "[token NAME] section to paste into kv.conf: its SHA-256 hash and its grants.\n"
	  "PREFIXES are \"*\" or keypaths separated by commas; --admin adds admin = yes\n"
	  "(backups over HTTP). Without any of the three: read = * and write = *.",
	  1, 6, false, true, cmd_token },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: kvctl [-c FILE] COMMAND [ARGS]\n"
		"       kvctl --url URL [--token-file FILE] dump | load [FILE]\n\n"
		"Administers the kv store. The configuration is -c FILE, else $KV_CONF, else\n"
		"%s; $KV_DATA overrides its store directory.\n"
		"With --url, dump and load go through the service at URL (its mount point,\n"
		"https://host/kv) with the token of FILE's first line, else of $KV_TOKEN:\n"
		"a token with admin = yes.\n\ncommands:\n", KV_DEFAULT_CONF);
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].usage);
	fprintf(out, "\n`kvctl COMMAND --help` says what each does.\n");
}

static void command_help(const struct command *c)
{
	printf("usage: kvctl [-c FILE] %s%s%s\n\n%s\n", c->name, *c->usage != '\0' ? " " : "",
	       c->usage, c->help);
}

static const struct command *command_find(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int run(const struct command *c, const char *conf_arg, char **args)
{
	struct config cfg = { 0 };
	struct store_admin *sa = NULL;
	struct error err;
	int status = EXIT_FAILURE;

	if (!config_locate(&cfg, conf_arg, &err)) {
		fail("configuration: %s", err.message);
		goto out;
	}
	if (c->needs_store && store_admin_open(&cfg, &sa, &err) != STORE_OK) {
		fail("cannot open the store in %s: %s", cfg.store, err.message);
		goto out;
	}
	status = c->run(&cfg, sa, args);
out:
	store_admin_close(sa);
	config_free(&cfg);
	return status;
}

int main(int argc, char **argv)
{
	static const struct option global[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "url", required_argument, NULL, 'U' },
		{ "token-file", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf_arg = NULL, *url = NULL, *token_file = NULL;
	const struct command *c;
	int opt, nargs;

	/* A reader that goes away (kvctl dump | head) is a write error that
	 * ends the command cleanly, not a signal that kills it inside the store. */
	signal(SIGPIPE, SIG_IGN);
	/* A recovery kvctl runs itself says so under its own name. */
	util_log_as("kvctl");
	/* "+": options end at the command's name. */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+c:h", global, NULL)) != -1) {
		switch (opt) {
		case 'c':
			conf_arg = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case 'U':
			url = optarg;
			break;
		case 'T':
			token_file = optarg;
			break;
		default:
			fail("unknown option or missing argument: %s (kvctl --help)", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fail("no command given (kvctl --help lists them)");
		return EXIT_USAGE;
	}
	if ((c = command_find(argv[optind])) == NULL) {
		fail("unknown command: %s (kvctl --help lists them)", argv[optind]);
		return EXIT_USAGE;
	}
	argv += optind + 1;
	argc -= optind + 1;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {	/* a key that starts with '-' follows */
			memmove(&argv[i], &argv[i + 1], (size_t)(argc - i) * sizeof(*argv));
			argc--;
			break;
		}
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			command_help(c);
			return EXIT_SUCCESS;
		}
		if (argv[i][0] == '-' && argv[i][1] != '\0' && !c->own_options) {
			fail("%s: unknown option %s (kvctl %s --help)", c->name, argv[i], c->name);
			return EXIT_USAGE;
		}
	}
	nargs = argc;
	if (nargs < c->min_args || nargs > c->max_args) {
		fail("%s: expects %s%s (kvctl %s --help)", c->name,
		     c->max_args == 0 ? "no arguments" : "arguments: ",
		     c->max_args == 0 ? "" : c->usage, c->name);
		return EXIT_USAGE;
	}
	if (url == NULL && token_file == NULL)
		return run(c, conf_arg, argv);
	if (url == NULL) {
		fail("--token-file goes with --url (kvctl --help)");
		return EXIT_USAGE;
	}
	if (strcmp(c->name, "load") != 0 && (strcmp(c->name, "dump") != 0 || nargs > 0)) {
		fail("--url works with dump (of the whole store) and load only (kvctl --help)");
		return EXIT_USAGE;
	}
	return remote_run(c, url, token_file, argv);
}
