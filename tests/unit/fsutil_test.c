/* fsutil_test.c: preparing, copying into and removing directories */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "unit.h"

static bool write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return false;
	fputs(text, f);
	return fclose(f) == 0;
}

static bool file_holds(const char *path, const char *text)
{
	char buf[64] = "";
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	return n == strlen(text) && memcmp(buf, text, n) == 0;
}

int main(void)
{
	char dir[] = "/tmp/kv-fsutil-test.XXXXXX";
	char sub[64], from[64], to[64];
	struct stat info;

	if (mkdtemp(dir) == NULL)
		return EXIT_FAILURE;
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	snprintf(from, sizeof(from), "%s/from", dir);
	snprintf(to, sizeof(to), "%s/sub/to", dir);

	/* Missing: created; empty: fine; holding a file: ENOTEMPTY. */
	CHECK(fsutil_dir_prepare(sub) == 0);
	CHECK(stat(sub, &info) == 0 && S_ISDIR(info.st_mode) && (info.st_mode & 0027) == 0);
	CHECK(fsutil_dir_prepare(sub) == 0);

	CHECK(write_file(from, "{\"a\":1}\n"));
	CHECK(fsutil_copy_file(from, to) == 0);
	CHECK(file_holds(to, "{\"a\":1}\n"));
	CHECK(fsutil_copy_file(from, to) == EEXIST);	/* never overwrites */
	CHECK(fsutil_copy_file("/nonexistent/from", from) == ENOENT);
	CHECK(fsutil_dir_prepare(sub) == ENOTEMPTY);
	CHECK(fsutil_dir_prepare(from) == ENOTDIR);

	fsutil_dir_remove(sub);
	CHECK(stat(sub, &info) != 0 && errno == ENOENT);
	fsutil_dir_remove(dir);
	CHECK(stat(dir, &info) != 0 && errno == ENOENT);
	return UNIT_DONE();
}
