/* fsutil.h: file helpers: backups and copies, owners and modes
 *
 * Plain POSIX file work, nothing of the store's: each returns 0 or the
 * errno value that stopped it. Names of users and groups come from
 * /etc/passwd and /etc/group read directly, never through NSS, so that a
 * statically linked kvd needs no shared library to find them. */
#ifndef KV_FSUTIL_H
#define KV_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* 0 when dir is missing (it is created with mode, less the umask) or an
 * empty directory; ENOTEMPTY when it holds anything. */
int fsutil_dir_prepare(const char *dir, mode_t mode);

/* Removes the files in dir, then dir; a directory of plain files only
 * (a private copy of the store), and quietly as far as it gets. */
void fsutil_dir_remove(const char *dir);

/* Copies the file from into a new file to (which must not exist), created
 * with mode less the umask, and syncs it to disk. */
int fsutil_copy_file(const char *from, const char *to, mode_t mode);

/* The mode of a directory that holds files of mode: searchable wherever
 * the files are readable. */
mode_t fsutil_dir_mode(mode_t mode);

/* The mode of a new file of the store: store_mode when it is set (not 0),
 * else 0660 when store_group is, so that the group may use the file; else
 * own, the file's usual mode, less the umask. */
mode_t fsutil_store_mode(unsigned store_mode, bool grouped, mode_t own);

/* Makes new files in dir belong to gid: sets the directory's group and its
 * set-group-ID bit when the process owns it. 0 when new files will belong
 * to gid (so too when the process's own group is gid), else EPERM. */
int fsutil_dir_group(const char *dir, gid_t gid);

/* Gives a file the process owns the group gid (unless gid is -1) and the
 * mode, when it has others: files made before store_group or store_mode
 * were set. Quietly: what cannot be changed shows in fsutil_can_use(). */
void fsutil_file_adjust(const char *path, gid_t gid, mode_t mode);

/* The group a name or a number names: 0 and *gid set, or ENOENT. */
int fsutil_group_id(const char *name, gid_t *gid);

/* "name" of a user or group id, or the number where /etc/passwd or
 * /etc/group does not name it. */
void fsutil_user_name(uid_t uid, char *out, size_t size);
void fsutil_group_name(gid_t gid, char *out, size_t size);

/* Whether the process's effective user may read and write path (and
 * search it, for a directory): 0, or the errno value that says why not
 * (ENOTDIR or EISDIR when it is not the kind of file asked for). */
int fsutil_can_use(const char *path, bool dir);

/* How to fix what fsutil_explain() says, for the same log line. */
#define FSUTIL_PERM_FIX "give that user read and write on it (chown, or chgrp and chmod g+rw), " \
	"or set store_group (and store_mode) in the configuration to a group it shares " \
	"with the store's other users"

/* One sentence on why the process may not use path: the file, its owner,
 * group and mode, and the user and group the process runs as, e.g.
 * "/srv/kv/kv.db (owner alice, group alice, mode 0640) is not readable and
 * writable by www-data (group www-data)". */
void fsutil_explain(const char *path, char *out, size_t size);

#endif
