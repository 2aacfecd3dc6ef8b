/* fsutil.h: directory and file helpers for kvctl's backups and copies
 *
 * Plain POSIX file work, nothing of the store's: each returns 0 or the
 * errno value that stopped it. */
#ifndef KV_FSUTIL_H
#define KV_FSUTIL_H

/* 0 when dir is missing (it is created, mode 0750) or an empty directory;
 * ENOTEMPTY when it holds anything. */
int fsutil_dir_prepare(const char *dir);

/* Removes the files in dir, then dir; a directory of plain files only
 * (a private copy of the store), and quietly as far as it gets. */
void fsutil_dir_remove(const char *dir);

/* Copies the file from into a new file to (which must not exist) and
 * syncs it to disk. */
int fsutil_copy_file(const char *from, const char *to);

#endif
