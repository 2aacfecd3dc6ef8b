/* fsutil.c: directory and file helpers for kvctl's backups and copies */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"

static bool is_dot(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

int fsutil_dir_prepare(const char *dir)
{
	DIR *d;
	struct dirent *e;
	int ret = 0;

	if (mkdir(dir, 0750) == 0)
		return 0;
	if (errno != EEXIST)
		return errno;
	if ((d = opendir(dir)) == NULL)
		return errno;
	while ((e = readdir(d)) != NULL) {
		if (!is_dot(e->d_name)) {
			ret = ENOTEMPTY;
			break;
		}
	}
	closedir(d);
	return ret;
}

void fsutil_dir_remove(const char *dir)
{
	char file[4096];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (is_dot(e->d_name))
				continue;
			snprintf(file, sizeof(file), "%s/%s", dir, e->d_name);
			unlink(file);
		}
		closedir(d);
	}
	rmdir(dir);
}

int fsutil_copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = -1, out = -1, ret = 0;
	ssize_t n;

	if ((in = open(from, O_RDONLY)) < 0 ||
	    (out = open(to, O_WRONLY | O_CREAT | O_EXCL, 0660)) < 0) {
		ret = errno;
		goto out;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(out, buf, (size_t)n) != n) {
			ret = errno != 0 ? errno : EIO;
			goto out;
		}
	}
	if (n < 0 || fsync(out) != 0)
		ret = errno;
out:
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) != 0 && ret == 0)
		ret = errno;
	return ret;
}
