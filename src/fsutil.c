/* fsutil.c: file helpers: backups and copies, owners and modes */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"

static bool is_dot(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

int fsutil_dir_prepare(const char *dir, mode_t mode)
{
	DIR *d;
	struct dirent *e;
	int ret = 0;

	if (mkdir(dir, mode) == 0)
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

int fsutil_copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	int in = -1, out = -1, ret = 0;
	ssize_t n;

	if ((in = open(from, O_RDONLY)) < 0 ||
	    (out = open(to, O_WRONLY | O_CREAT | O_EXCL, mode)) < 0) {
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

mode_t fsutil_dir_mode(mode_t mode)
{
	return mode | (mode & 0444) >> 2;
}

mode_t fsutil_store_mode(unsigned store_mode, bool grouped, mode_t own)
{
	if (store_mode != 0)
		return (mode_t)store_mode;
	return grouped ? 0660 : own;
}

int fsutil_dir_group(const char *dir, gid_t gid)
{
	struct stat st;

	if (stat(dir, &st) != 0)
		return errno;
	if (st.st_gid == gid && (st.st_mode & S_ISGID))
		return 0;
	if (st.st_uid == geteuid()) {
		if (st.st_gid != gid && chown(dir, (uid_t)-1, gid) != 0)
			return errno == EPERM ? EPERM : errno;
		if (chmod(dir, (st.st_mode & 07777) | S_ISGID) != 0)
			return errno;
		return 0;
	}
	/* Not setgid: new files take the creator's group. */
	return !(st.st_mode & S_ISGID) && getegid() == gid ? 0 : EPERM;
}

void fsutil_file_adjust(const char *path, gid_t gid, mode_t mode)
{
	struct stat st;

	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid())
		return;
	if (gid != (gid_t)-1 && st.st_gid != gid && chown(path, (uid_t)-1, gid) != 0)
		return;
	if ((st.st_mode & 07777) != mode)
		(void)chmod(path, mode);
}

/* The entry of id in an /etc/passwd or /etc/group file: its name. */
static bool name_in(const char *file, bool group, unsigned id, char *out, size_t size)
{
	FILE *f = fopen(file, "re");
	bool found = false;

	if (f == NULL)
		return false;
	while (!found) {
		struct passwd *pw = NULL;
		struct group *gr = NULL;

		if (group ? (gr = fgetgrent(f)) == NULL : (pw = fgetpwent(f)) == NULL)
			break;
		if (group ? gr->gr_gid == id : pw->pw_uid == id) {
			snprintf(out, size, "%s", group ? gr->gr_name : pw->pw_name);
			found = true;
		}
	}
	fclose(f);
	return found;
}

void fsutil_user_name(uid_t uid, char *out, size_t size)
{
	if (!name_in("/etc/passwd", false, uid, out, size))
		snprintf(out, size, "uid %u", (unsigned)uid);
}

void fsutil_group_name(gid_t gid, char *out, size_t size)
{
	if (!name_in("/etc/group", true, gid, out, size))
		snprintf(out, size, "gid %u", (unsigned)gid);
}

int fsutil_group_id(const char *name, gid_t *gid)
{
	struct group *gr;
	unsigned long n;
	char *end;
	FILE *f;
	int ret = ENOENT;

	errno = 0;
	n = strtoul(name, &end, 10);
	if (*name >= '0' && *name <= '9' && *end == '\0' && errno == 0 && n < (gid_t)-1) {
		*gid = (gid_t)n;
		return 0;
	}
	if ((f = fopen("/etc/group", "re")) == NULL)
		return ENOENT;
	while ((gr = fgetgrent(f)) != NULL) {
		if (strcmp(gr->gr_name, name) == 0) {
			*gid = gr->gr_gid;
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

int fsutil_can_use(const char *path, bool dir)
{
	int want = R_OK | W_OK | (dir ? X_OK : 0);
	struct stat st;

	/* What is not the kind of file asked for is no question of permission. */
	if (stat(path, &st) != 0)
		return errno;
	if (dir != S_ISDIR(st.st_mode))
		return dir ? ENOTDIR : EISDIR;
	return faccessat(AT_FDCWD, path, want, AT_EACCESS) == 0 ? 0 : errno;
}

void fsutil_explain(const char *path, char *out, size_t size)
{
	char owner[64], group[64], user[64], own_group[64];
	struct stat st;

	fsutil_user_name(geteuid(), user, sizeof(user));
	fsutil_group_name(getegid(), own_group, sizeof(own_group));
	if (stat(path, &st) != 0) {
		snprintf(out, size, "%s cannot be reached by %s (group %s): %s", path, user,
			 own_group, strerror(errno));
		return;
	}
	fsutil_user_name(st.st_uid, owner, sizeof(owner));
	fsutil_group_name(st.st_gid, group, sizeof(group));
	snprintf(out, size, "%s (owner %s, group %s, mode %04o) is not %s by %s (group %s)",
		 path, owner, group, (unsigned)(st.st_mode & 07777),
		 S_ISDIR(st.st_mode) ? "readable, writable and searchable" : "readable and writable",
		 user, own_group);
}
