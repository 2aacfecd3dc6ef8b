/* fsutil_test.c: preparing, copying into and removing directories; owners and modes */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
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

/* The modes and groups of store_mode and store_group, and what a
 * permission problem's log line says. */
static void owners_and_modes(const char *dir)
{
	char path[128], text[512], name[64];
	struct stat info;
	gid_t gid = 1;
	mode_t old;

	CHECK(fsutil_store_mode(0, false, 0600) == 0600);
	CHECK(fsutil_store_mode(0, true, 0600) == 0660);
	CHECK(fsutil_store_mode(0640, true, 0600) == 0640);
	CHECK(fsutil_dir_mode(0660) == 0770);
	CHECK(fsutil_dir_mode(0640) == 0750);
	CHECK(fsutil_dir_mode(0600) == 0700);

	CHECK(fsutil_group_id("root", &gid) == 0 && gid == 0);
	CHECK(fsutil_group_id("4242", &gid) == 0 && gid == 4242);
	CHECK(fsutil_group_id("no-such-group-kv", &gid) == ENOENT);
	fsutil_user_name(0, name, sizeof(name));
	CHECK(strcmp(name, "root") == 0);
	fsutil_group_name(4242424, name, sizeof(name));
	CHECK(strcmp(name, "gid 4242424") == 0);

	/* A copy gets exactly the mode asked for once the umask is 0. */
	snprintf(path, sizeof(path), "%s/moded", dir);
	old = umask(0);
	CHECK(fsutil_copy_file("/etc/hostname", path, 0664) == 0 ||
	      fsutil_copy_file("/etc/passwd", path, 0664) == 0);
	umask(old);
	CHECK(stat(path, &info) == 0 && (info.st_mode & 07777) == 0664);
	fsutil_file_adjust(path, (gid_t)-1, 0600);
	CHECK(stat(path, &info) == 0 && (info.st_mode & 07777) == 0600);
	CHECK(fsutil_can_use(path, false) == 0);

	/* The owner of a directory gives it the group and the set-group-ID bit. */
	CHECK(fsutil_dir_group(dir, getegid()) == 0);
	CHECK(stat(dir, &info) == 0 && (info.st_mode & S_ISGID) && info.st_gid == getegid());

	fsutil_explain(path, text, sizeof(text));
	fsutil_user_name(geteuid(), name, sizeof(name));
	CHECK(strstr(text, path) == text);
	CHECK(strstr(text, "mode 0600) is not readable and writable by ") != NULL);
	CHECK(strstr(text, name) != NULL);
	fsutil_explain(dir, text, sizeof(text));
	CHECK(strstr(text, "is not readable, writable and searchable by ") != NULL);
	CHECK(unlink(path) == 0);
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
	CHECK(fsutil_dir_prepare(sub, 0750) == 0);
	CHECK(stat(sub, &info) == 0 && S_ISDIR(info.st_mode) && (info.st_mode & 0027) == 0);
	CHECK(fsutil_dir_prepare(sub, 0750) == 0);

	CHECK(write_file(from, "{\"a\":1}\n"));
	CHECK(fsutil_copy_file(from, to, 0660) == 0);
	CHECK(file_holds(to, "{\"a\":1}\n"));
	CHECK(fsutil_copy_file(from, to, 0660) == EEXIST);	/* never overwrites */
	CHECK(fsutil_copy_file("/nonexistent/from", from, 0660) == ENOENT);
	CHECK(fsutil_dir_prepare(sub, 0750) == ENOTEMPTY);
	CHECK(fsutil_dir_prepare(from, 0750) == ENOTDIR);
	owners_and_modes(dir);

	fsutil_dir_remove(sub);
	CHECK(stat(sub, &info) != 0 && errno == ENOENT);
	fsutil_dir_remove(dir);
	CHECK(stat(dir, &info) != 0 && errno == ENOENT);
	return UNIT_DONE();
}
