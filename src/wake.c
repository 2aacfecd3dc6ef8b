/* wake.c: telling waiting feeds that something committed, across processes */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "wake.h"

/* The most slots a site may have: watch_max's bound. */
#define SLOTS_MAX 65536

/* How often writers and waiters make sure they use the store's file. */
#define RECHECK_US 1000000

struct wake {
	char *path;		/* WAKE_FILE */
	char *slots_path;	/* WAKE_SLOTS_FILE */
	mode_t mode;
	int writer;		/* open for wake_bump, or -1 */
	int64_t writer_checked;
	int notify;		/* the inotify instance, or -1 */
	int watch;		/* its watch on path, or -1 */
	dev_t watched_dev;	/* the file it watches */
	ino_t watched_ino;
	int64_t notify_checked;
	bool notify_failed;	/* no instance to be had: fall back for good */
	int slots;		/* WAKE_SLOTS_FILE, or -1 */
	unsigned char *held;	/* a bit per slot this process holds */
	bool slots_logged;
};

struct wake *wake_new(const char *dir, mode_t mode)
{
	struct wake *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	w->path = util_path_join(dir, WAKE_FILE);
	w->slots_path = util_path_join(dir, WAKE_SLOTS_FILE);
	w->mode = mode;
	w->writer = w->notify = w->watch = w->slots = -1;
	if (w->path == NULL || w->slots_path == NULL) {
		wake_free(w);
		return NULL;
	}
	return w;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void wake_free(struct wake *w)
{
	if (w == NULL)
		return;
	close_fd(&w->writer);
	close_fd(&w->notify);
	close_fd(&w->slots);
	free(w->held);
	free(w->path);
	free(w->slots_path);
	free(w);
}

/* Whether fd is still the file at path (not removed, not replaced). */
static bool same_file(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* Made with the mode of the store's files: less the umask, unless
 * store_mode or store_group is set, when kvdb.c clears the umask and
 * adjusts the files that exist when a process joins. */
static int open_file(const char *path, int flags, mode_t mode)
{
	return open(path, flags | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode);
}

void wake_bump(struct wake *w)
{
	int64_t now = util_monotonic_us();

	if (w->writer >= 0 && now - w->writer_checked >= RECHECK_US) {
		w->writer_checked = now;
		if (!same_file(w->writer, w->path))
			close_fd(&w->writer);
	}
	if (w->writer < 0) {
		w->writer = open_file(w->path, O_WRONLY, w->mode);
		w->writer_checked = now;
	}
	if (w->writer >= 0)
		(void)!pwrite(w->writer, "", 1, 0);
}

/* Watches the file at path afresh: made when missing, so that a waiter
 * that comes before any write still has something to watch. */
static void notify_watch(struct wake *w)
{
	struct stat st;
	int fd;

	w->notify_checked = util_monotonic_us();
	if ((fd = open_file(w->path, O_WRONLY, w->mode)) < 0)
		return;
	if (fstat(fd, &st) != 0 ||
	    (w->watch >= 0 && st.st_dev == w->watched_dev && st.st_ino == w->watched_ino)) {
		close(fd);
		return;		/* still the file watched */
	}
	close(fd);
	/* Removing a watch queues an IN_IGNORED for it, which drains as
	 * any other event of an old watch: ignored. */
	if (w->watch >= 0)
		inotify_rm_watch(w->notify, w->watch);
	w->watch = inotify_add_watch(w->notify, w->path,
				     IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF);
	w->watched_dev = st.st_dev;
	w->watched_ino = st.st_ino;
}

int wake_fd(struct wake *w)
{
	if (w->notify < 0 && !w->notify_failed) {
		w->notify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		w->notify_failed = w->notify < 0;
		if (w->notify >= 0)
			notify_watch(w);
	}
	return w->watch >= 0 ? w->notify : -1;
}

void wake_drain(struct wake *w)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool moved = false;
	ssize_t n;

	if (w->notify < 0)
		return;
	while ((n = read(w->notify, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			/* The file watched was removed or replaced (a link
			 * count or a name changed): look for the new one. */
			if (ev->wd == w->watch &&
			    (ev->mask & (IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)))
				moved = true;
			p += sizeof(*ev) + ev->len;
		}
	}
	if (moved || w->watch < 0 ||
	    util_monotonic_us() - w->notify_checked >= RECHECK_US)
		notify_watch(w);
}

int wake_timeout_ms(struct wake *w)
{
	return wake_fd(w) >= 0 ? (int)(RECHECK_US / 1000) : WAKE_FALLBACK_MS;
}

static bool slots_open(struct wake *w)
{
	if (w->slots >= 0 && w->held != NULL)
		return true;
	if (w->held == NULL && (w->held = calloc(SLOTS_MAX / 8, 1)) == NULL)
		return false;
	if (w->slots < 0)
		w->slots = open_file(w->slots_path, O_RDWR, w->mode);
	if (w->slots < 0 && !w->slots_logged) {
		util_log("waiting feeds: cannot open %s: %s", WAKE_SLOTS_FILE, strerror(errno));
		w->slots_logged = true;
	}
	return w->slots >= 0;
}

static bool slot_lock(struct wake *w, unsigned slot, short type)
{
	struct flock fl = {
		.l_type = type, .l_whence = SEEK_SET, .l_start = (off_t)slot, .l_len = 1,
	};

	return fcntl(w->slots, F_OFD_SETLK, &fl) == 0;
}

bool wake_claim(struct wake *w, unsigned max, unsigned *slot)
{
	unsigned start;

	if (max > SLOTS_MAX)
		max = SLOTS_MAX;
	if (max == 0 || !slots_open(w))
		return false;
	/* Processes start their search at different slots, so that they
	 * seldom try the same ones. */
	start = (unsigned)getpid() % max;
	for (unsigned i = 0; i < max; i++) {
		unsigned s = (start + i) % max;

		if (w->held[s / 8] & (1u << (s % 8)))
			continue;
		if (slot_lock(w, s, F_WRLCK)) {
			w->held[s / 8] |= (unsigned char)(1u << (s % 8));
			*slot = s;
			return true;
		}
	}
	return false;
}

void wake_release(struct wake *w, unsigned slot)
{
	if (w->slots < 0 || w->held == NULL || slot >= SLOTS_MAX)
		return;
	(void)slot_lock(w, slot, F_UNLCK);
	w->held[slot / 8] &= (unsigned char)~(1u << (slot % 8));
}
