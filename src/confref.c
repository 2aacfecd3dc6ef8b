/* confref.c: the configuration reference, written from config.c's table
 *
 *   confref man    the settings of kvd.8's CONFIGURATION section (roff)
 *   confref conf   the settings of the sample conf/kv.conf
 *   confref md     a Markdown reference (docs/configuration.md)
 *
 * A program of its own that is never installed, rather than an option of
 * kvd: kvd takes no arguments, and under CGI a query string without '='
 * reaches a program as its arguments. make runs it to write man/kvd.8, and
 * tests/confref.test checks conf/kv.conf against it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "config.h"

/* The sample file's comments end before this column. */
#define CONF_WIDTH 76

enum format { FORMAT_MAN, FORMAT_CONF, FORMAT_MD };

/* How the reference names a setting's value after its name. */
static const char *value_name(const struct config_setting *s)
{
	switch (s->type) {
	case CONFIG_PATH:
		return "path";
	case CONFIG_SIZE:
		return "size";
	case CONFIG_U32:
		return "number";
	case CONFIG_BOOL:
		return "on|off";
	case CONFIG_ENUM:
		return NULL;	/* the choices themselves */
	case CONFIG_RATE:
		return "N/s|N/m|N/h";
	case CONFIG_MODE:
		return "mode";
	case CONFIG_GROUP:
		return "group";
	case CONFIG_DURATION:
		return "duration";
	case CONFIG_SITE:
		return "HOST:PORT [URL]";
	case CONFIG_PEER:
		return "HOST:PORT URL";
	}
	return NULL;
}

/* The choices of an enum as "a|b". */
static void choices_bar(const struct config_setting *s, char *out, size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; s->choices[i] != NULL && used < size; i++) {
		int n = snprintf(out + used, size - used, "%s%s", i == 0 ? "" : "|", s->choices[i]);

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

static const char *default_text(const struct config_setting *s)
{
	return s->def_text != NULL ? s->def_text : s->def;
}

/* ---- roff ---- */

/* One paragraph of text as roff input: backslashes escaped, and a leading
 * '.' or '\'' kept from being read as a request. */
static void man_text(const char *text)
{
	if (text[0] == '.' || text[0] == '\'')
		fputs("\\&", stdout);
	for (const char *p = text; *p != '\0'; p++) {
		if (*p == '\\')
			fputs("\\e", stdout);
		else
			putchar(*p);
	}
	putchar('\n');
}

static void man_setting(const struct config_setting *s)
{
	char rule[128], choices[128], line[256];
	const char *def = default_text(s);

	printf(".TP\n");
	if (s->type == CONFIG_ENUM) {
		choices_bar(s, choices, sizeof(choices));
		printf(".BR %s \" %s\"\n", s->name, choices);
	} else if (s->type == CONFIG_BOOL) {
		printf(".BR %s \" %s\"\n", s->name, value_name(s));
	} else {
		printf(".BI %s \" %s\"\n", s->name, value_name(s));
	}
	man_text(s->help);
	if (s->about != NULL)
		man_text(s->about);
	config_rule(s, rule, sizeof(rule));
	snprintf(line, sizeof(line), "Value: %s.", rule);
	man_text(line);
	if (def != NULL) {
		snprintf(line, sizeof(line), "Default: %s.", def);
		man_text(line);
	}
}

static void write_man(void)
{
	for (size_t i = 0; i < config_n_settings; i++)
		man_setting(&config_settings[i]);
	printf(".PP\n"
	       "Tokens come after every other setting, one section each: a line\n"
	       ".BI [token \" NAME\" ]\n"
	       "and the lines below it, up to the next section.\n"
	       ".I NAME\n");
	man_text("is " AUTH_TOKEN_NAME_RULE ", and names the token's rate-limit bucket.");
	for (size_t i = 0; i < config_n_token_settings; i++) {
		const struct config_token_setting *t = &config_token_settings[i];

		printf(".TP\n.BI %s \" %s\"\n", t->name, t->value);
		man_text(t->help);
	}
}

/* ---- the sample configuration file ---- */

/* Writes text as "# " comment lines of at most CONF_WIDTH columns, the
 * first starting with lead. */
static void conf_comment(const char *lead, const char *text)
{
	int col = printf("#%s%s", *lead != '\0' ? " " : "", lead);

	while (*text != '\0') {
		int word = (int)strcspn(text, " ");

		if (col > 1 && col + 1 + word > CONF_WIDTH) {
			printf("\n#");
			col = 1;
		}
		col += printf(" %.*s", word, text);
		text += word;
		while (*text == ' ')
			text++;
	}
	putchar('\n');
}

static void conf_setting(const struct config_setting *s)
{
	char rule[128], line[512], lead[64];
	const char *def = default_text(s);

	snprintf(lead, sizeof(lead), "%s:", s->name);
	if (s->about != NULL)
		snprintf(line, sizeof(line), "%s %s", s->help, s->about);
	else
		snprintf(line, sizeof(line), "%s", s->help);
	conf_comment(lead, line);
	config_rule(s, rule, sizeof(rule));
	if (def != NULL)
		snprintf(line, sizeof(line), "Value: %s. Default: %s.", rule, def);
	else
		snprintf(line, sizeof(line), "Value: %s.", rule);
	conf_comment("", line);
	if (s->example != NULL && s->def == NULL)
		printf("#%s = %s\n", s->name, s->example);
	else
		printf("%s = %s\n", s->name, s->example != NULL ? s->example : s->def);
}

static void write_conf(void)
{
	char line[512];

	for (size_t i = 0; i < config_n_settings; i++) {
		if (i > 0)
			putchar('\n');
		conf_setting(&config_settings[i]);
	}
	putchar('\n');
	conf_comment("Tokens:", "one [token NAME] section each, after every other setting "
		     "(the lines after a section header belong to it). NAME is "
		     AUTH_TOKEN_NAME_RULE " and names the token's rate-limit bucket.");
	for (size_t i = 0; i < config_n_token_settings; i++) {
		const struct config_token_setting *t = &config_token_settings[i];

		snprintf(line, sizeof(line), "%s (%s):", t->name, t->value);
		conf_comment(line, t->help);
	}
}

/* ---- Markdown ---- */

static void md_setting(const struct config_setting *s)
{
	char rule[128];
	const char *def = default_text(s);

	config_rule(s, rule, sizeof(rule));
	printf("\n### `%s`\n\n%s", s->name, s->help);
	if (s->about != NULL)
		printf(" %s", s->about);
	printf("\n\nValue: %s.", rule);
	if (s->def != NULL)
		printf(" Default: `%s`.", def);
	else if (def != NULL)
		printf(" Default: %s.", def);
	printf("\n");
}

static void write_md(void)
{
	printf("# Configuration reference\n\n"
	       "<!-- Written by src/confref md from the table in src/config.c"
	       " (make docs/configuration.md): edit the table, not this file. -->\n\n"
	       "kvd and kvctl read one file of `name = value` lines (see kvd(8) for where\n"
	       "it is found). A line whose first non-blank character is `#` is a comment;\n"
	       "sizes take a K, M or G suffix (powers of 1024). An unknown name or a bad\n"
	       "value is logged with the file, the line and the reason, and kvd answers\n"
	       "every request `500 configuration` naming the line until it is fixed; a\n"
	       "change to the file takes effect within 2 seconds in every process.\n\n"
	       "| Setting | Value | Default | |\n|---|---|---|---|\n");
	for (size_t i = 0; i < config_n_settings; i++) {
		const struct config_setting *s = &config_settings[i];
		char rule[128];

		config_rule(s, rule, sizeof(rule));
		printf("| `%s` | %s | %s | %s |\n", s->name, rule,
		       default_text(s) != NULL ? default_text(s) : "", s->help);
	}
	printf("\n## Settings\n");
	for (size_t i = 0; i < config_n_settings; i++)
		md_setting(&config_settings[i]);
	printf("\n## `[token NAME]` sections\n\n"
	       "Tokens come after every other setting, one section each: a line\n"
	       "`[token NAME]` and the lines below it, up to the next section. NAME is\n"
	       AUTH_TOKEN_NAME_RULE ", and names the token's rate-limit bucket.\n\n"
	       "| Setting | Value | |\n|---|---|---|\n");
	for (size_t i = 0; i < config_n_token_settings; i++) {
		const struct config_token_setting *t = &config_token_settings[i];

		printf("| `%s` | %s | %s |\n", t->name, t->value, t->help);
	}
}

int main(int argc, char **argv)
{
	static const struct { const char *name; void (*write)(void); } formats[] = {
		{ "man", write_man }, { "conf", write_conf }, { "md", write_md },
	};

	for (size_t i = 0; argc == 2 && i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (strcmp(argv[1], formats[i].name) == 0) {
			formats[i].write();
			return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
		}
	}
	fprintf(stderr, "usage: confref man|conf|md\n");
	return 2;
}
