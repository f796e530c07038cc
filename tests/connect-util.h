/* connect-util.h: a connect test's fixture, listeners on both loopbacks, and the checks
 * of a connect's outcome (test-eyeballs.c, test-connect-deadline.c)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A "dead" address is a listener on loopback whose accept queue is full: the kernel drops
 * the SYNs of further connections, which hang in SYN_SENT as towards a host whose packets
 * are lost. Both families share a port number: a listener on [::1]:P and one on
 * 127.0.0.1:P.
 */
#pragma once

#include "resolver-util.h"

G_BEGIN_DECLS

#define NAME "dual.test"

typedef struct
{
  TestResolver *resolver;
  GPtrArray *sockets; /* listeners and fillers, closed at the end */
} Fixture;

/* Installs a TestResolver (@plain: without per-family lookups). */
void fixture_open (Fixture *f, gboolean plain);
void fixture_close (Fixture *f);
/* Listeners on [::1]:P and 127.0.0.1:P, each alive or dead (a full accept queue); P. */
guint listen_both (Fixture *f, gboolean ipv6_alive, gboolean ipv4_alive);
/* A stream socket created on @address (NULL: dual-stack). */
TestSocket *new_client (const char *address);
/* Connects; on_connect must not come from inside the call. */
void start_connect (TestSocket *client, const char *name, guint port);
/* Runs until on_connect; the milliseconds since @start. */
double wait_connect (TestSocket *client, gint64 start);
char *peer_of (TestSocket *client);
/* on_connect said 0 and the peer is @address. */
void assert_connected_to (TestSocket *client, const char *address);
/* on_connect came once (and on_send after it on success, never after a failure). */
void assert_one_on_connect (TestSocket *client);
/* Bytes go both ways over the connection, accepted from @listener. */
void assert_round_trip (TestSocket *client, TestSocket *listener);
/* Runs the loop for @ms (for what must *not* happen within them). */
void run_for (guint ms);

G_END_DECLS
