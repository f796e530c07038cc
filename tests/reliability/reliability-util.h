/* reliability-util.h: helpers shared by the reliability tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "../test-util.h"

G_BEGIN_DECLS

/* Runs the thread-default context for @ms milliseconds of wall time (a timer ends the wait:
 * the loop sleeps in poll meanwhile, it does not spin). */
void run_for_ms (guint ms);

/* Descriptors open in this process, from /proc/self/fd. */
int count_open_descriptors (void);

/* The open descriptors and what they are, for messages. */
char *describe_open_descriptors (void);

/* Process CPU time (user + system) in microseconds, from getrusage. */
gint64 process_cpu_time_us (void);

/* A deterministic payload: @size bytes derived from @id and @seed. */
void fill_payload (guint8 *buffer, gsize size, guint32 id, guint32 seed);

/* The size of record @id's payload: mostly small, some tens of KiB, a few hundreds. */
gsize payload_size_for (guint32 id, guint32 seed);

/* A record for the integrity checks: id (4 bytes, big-endian), payload, and the SHA-256
 * of id and payload (32 bytes). */
GBytes *make_checked_record (guint32 id, guint32 seed);

/* Checks a record made by make_checked_record(): its digest, and that its payload is the
 * one expected for its id. Returns the id, or -1 with a reason in @why. */
gint64 verify_checked_record (GBytes *record, guint32 seed, char **why);

/* The same with payload sizes of the caller's (payload_size_for is the default). */
typedef gsize (*PayloadSizeFunc) (guint32 id, guint32 seed);
GBytes *make_checked_record_sized (guint32 id, guint32 seed, PayloadSizeFunc size_for);
gint64 verify_checked_record_sized (GBytes *record, guint32 seed, PayloadSizeFunc size_for,
                                    char **why);

/* Sets SO_LINGER to zero so that closing sends a reset. */
void set_linger_zero (CAsyncSocket *socket);

G_END_DECLS
