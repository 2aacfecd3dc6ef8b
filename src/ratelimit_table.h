/* ratelimit_table.h: the layout of the rate-limit file (RL_FILE)
 *
 * Private to ratelimit.c, and to the test programs that reach into the
 * file the way a foreign or broken process would (holding its lock,
 * truncating it, scribbling over it). Any change of this layout changes
 * RL_VERSION and the number in RL_FILE's name, so that processes of two
 * builds never share one file. */
#ifndef KV_RATELIMIT_TABLE_H
#define KV_RATELIMIT_TABLE_H

#include <pthread.h>
#include <stdint.h>

/* "kvrl" */
#define RL_MAGIC UINT32_C(0x6b76726c)
#define RL_VERSION 2
/* Written on each side of the mutex: a write over the mutex that runs past
 * it is seen before the mutex is used. */
#define RL_GUARD UINT64_C(0x6b762d726c6f636b)
/* Enough for every client of one host several times over; 384 KiB. */
#define RL_SLOTS 4096
/* "t:" and a token name (64), or "a:" and an address (an IPv6 /64: 24). */
#define RL_KEY_MAX 80

struct rl_slot {
	int64_t tat;		/* monotonic ns at which the bucket is full; 0: unused */
	uint8_t len;		/* of key; 0: never used */
	char key[RL_KEY_MAX];
};

/* Every field is written before the file gets its name, so a process that
 * opens RL_FILE finds either a whole table or a damaged file. */
struct rl_header {
	uint32_t magic;		/* RL_MAGIC */
	uint32_t version;	/* RL_VERSION */
	uint64_t size;		/* sizeof(struct rl_table) */
	uint64_t guard_before;	/* RL_GUARD */
	pthread_mutex_t mutex;	/* process-shared, robust */
	uint64_t guard_after;	/* RL_GUARD */
};

struct rl_table {
	struct rl_header h;
	struct rl_slot slots[RL_SLOTS];
};

#endif
