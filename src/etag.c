/* etag.c: If-Match / If-None-Match entity tags against a versionstamp */
#include <string.h>

#include "etag.h"

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

bool etag_matches(const char *header, enum etag_compare how, bool exists, const char *vs)
{
	size_t vs_len = strlen(vs);
	const char *p = skip_space(header);

	if (!exists)
		return false;
	if (*p == '*' && *skip_space(p + 1) == '\0')
		return true;
	while (*p != '\0') {
		const char *tag, *end;
		bool weak = strncmp(p, "W/", 2) == 0;

		if (weak)
			p += 2;
		if (*p != '"')
			return false;
		tag = p + 1;
		end = strchr(tag, '"');
		if (end == NULL)
			return false;
		if ((size_t)(end - tag) == vs_len && memcmp(tag, vs, vs_len) == 0 &&
		    (!weak || how == ETAG_WEAK))
			return true;
		p = skip_space(end + 1);
		if (*p == ',')
			p = skip_space(p + 1);
		else if (*p != '\0')
			return false;
	}
	return false;
}
