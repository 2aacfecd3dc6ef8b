/* listener.c: kvd --replicate, the long-lived process of a replicated site */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "listener.h"
#include "util.h"
#include "wake.h"

/* How often the process looks at the store: whether a commit was applied
 * (a waiting feed hears of it within this), whether it must join again. */
#define LISTENER_TICK_MS 5

/* How long after a site joined or left the group, or this replica caught
 * up, the site's other processes are asked to join the store again: the
 * Replication Manager tells of a change before every process can see it
 * in the shared regions. */
#define LISTENER_RENEW_SETTLE_MS 500

/* A process that is only a subordinate (another process of the site took
 * the replication role first) leaves and joins again this often, so that
 * the role comes back to it once that process is gone. */
#define LISTENER_RETAKE_MS 2000

bool listener_wanted(int argc, char **argv)
{
	return argc == 2 && strcmp(argv[1], "--replicate") == 0 &&
	       getenv("GATEWAY_INTERFACE") == NULL && getenv("REQUEST_METHOD") == NULL;
}

static void tick_sleep(void)
{
	const struct timespec pause = { .tv_sec = 0, .tv_nsec = LISTENER_TICK_MS * 1000000L };

	nanosleep(&pause, NULL);
}

int listener_run(struct confwatch *cw)
{
	uint64_t seen = 0, vs;
	int64_t subordinate_since = 0;

	util_stop_on(SIGTERM, SIGINT);
	if (!cw->ok) {
		util_log("--replicate: %s", cw->err.message);
		return EXIT_FAILURE;
	}
	if (!cw->cfg.replication) {
		util_log("--replicate: the configuration does not say replication = on");
		return EXIT_FAILURE;
	}
	util_log("started: %s %s, replication process, store %s", PACKAGE_NAME, PACKAGE_VERSION,
		 cw->cfg.store);
	while (!util_stopping) {
		int64_t now = util_now_ms();

		/* Each call joins the store first when this process is out
		 * of it (a recovery, a site that has not joined its group). */
		if (store_versionstamp(cw->st, &vs) == STORE_OK && vs != seen) {
			if (seen != 0)
				wake_bump(store_wake(cw->st));
			seen = vs;
		}
		/* The site's other processes connect to the sites they knew
		 * when they joined, and read through handles they opened
		 * then: after a change of the group, or once this replica
		 * has caught up with its master, they join again. */
		if (store_renew_wanted(cw->st, LISTENER_RENEW_SETTLE_MS)) {
			util_log("replication: the group changed or this site caught up with its "
				 "master; the site's processes join the store again");
			store_renew(cw->st);
		}
		if (store_is_listener(cw->st)) {
			subordinate_since = 0;
		} else if (subordinate_since == 0) {
			subordinate_since = now;
		} else if (now - subordinate_since >= LISTENER_RETAKE_MS) {
			store_leave(cw->st);
			subordinate_since = 0;
		}
		store_end_request(cw->st);
		tick_sleep();
	}
	util_log("--replicate: stopping");
	return EXIT_SUCCESS;
}
