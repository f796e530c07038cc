/* netns-util.h: two hosts in network namespaces the test makes for itself
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A "client" and a "server" namespace joined by a veth pair, made with the ip command
 * (iproute2), named after the test and its process so that runs do not meet, and deleted
 * at the end (and, if a run was killed, by the next run). The test's own thread moves
 * between them with setns(): a socket lives in the namespace its thread was in when it was
 * made, so a test makes its listeners in the server, then runs its clients in the client,
 * all on one main context. Where namespaces cannot be made (not root, no ip, no kernel
 * support) the test is skipped with the reason.
 */
#pragma once

#include "test-util.h"

G_BEGIN_DECLS

typedef struct
{
  char client[40], server[40];           /* namespace names */
  char client_link[16], server_link[16]; /* the two ends of the veth pair */
  guint subnet;                          /* N: 10.N.0.0/24 and fd00:N::/64 */
  int original;                          /* the thread's namespace before */
} TwoHosts;

/* Makes both namespaces and the link, up, with 10.N.0.1/24 and fd00:N::1/64 on the client's
 * end and 10.N.0.2/24 and fd00:N::2/64 on the server's (no duplicate address detection).
 * Skips the test when namespaces cannot be made here. */
void two_hosts_make (TwoHosts *hosts, const char *tag);
/* Deletes the namespaces and returns the thread to its own. */
void two_hosts_destroy (TwoHosts *hosts);

/* "ip -n NAMESPACE ARGS…" (NULL-terminated); the test fails with ip's message if it fails. */
void two_hosts_ip (TwoHosts *hosts, const char *namespace_name, ...) G_GNUC_NULL_TERMINATED;
/* "10.N.0.@host" and "fd00:N::@host" (free with g_free). */
char *two_hosts_ipv4 (TwoHosts *hosts, guint host);
char *two_hosts_ipv6 (TwoHosts *hosts, guint host);
/* Adds 10.N.0.@host/24 and fd00:N::@host/64 to the server's end of the link. */
void two_hosts_add_server_address (TwoHosts *hosts, guint host);
/* Packets from the client to @address vanish on the way: the client's neighbour entry for
 * it says a link-layer address nobody has, so the server's end drops the frames and no
 * error ever comes back (a dropped route, as on a broken IPv6 path). */
void two_hosts_drop (TwoHosts *hosts, const char *address);

/* The calling thread's network namespace from now on. */
void two_hosts_enter (TwoHosts *hosts, const char *namespace_name);
void two_hosts_leave (TwoHosts *hosts);

G_END_DECLS
