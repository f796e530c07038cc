/* resolver-util.h: names for connect tests without DNS, and what the kernel shows of a race
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * TestResolver answers from a table the test fills: per name, its IPv6 (AAAA) and IPv4 (A)
 * addresses, each family after a delay of its own or never. It is installed with
 * g_resolver_set_default() (never /etc/hosts, never a DNS server). The plain variant has no
 * per-family lookup, as older or third-party resolvers do, and answers both families at
 * once.
 */
#pragma once

#include "test-util.h"

G_BEGIN_DECLS

typedef struct _TestResolver TestResolver;

/* A delay meaning "never answers" (until the lookup is cancelled). */
#define TEST_RESOLVER_NEVER (-1)

/* A resolver installed as the default until test_resolver_uninstall(); @plain: without
 * lookup_by_name_with_flags_async. */
TestResolver *test_resolver_install (gboolean plain);
void test_resolver_uninstall (TestResolver *resolver);
/* @family's answer for @name: @addresses (comma-separated; NULL or "" for "no such
 * address", G_RESOLVER_ERROR_NOT_FOUND) after @delay_ms (0: at once; TEST_RESOLVER_NEVER). */
void test_resolver_set (TestResolver *resolver, const char *name, GSocketFamily family,
                        const char *addresses, int delay_ms);
/* Lookups asked for, and those cancelled before they answered. */
guint test_resolver_lookups (TestResolver *resolver);
guint test_resolver_cancelled (TestResolver *resolver);

/* ---- What the kernel shows (/proc/thread-self/net/tcp, tcp6: this thread's namespace) ---- */

/* TCP sockets of this network namespace in SYN_SENT towards @port (either family). */
guint syn_sent_towards (guint port);
/* Whether the listener on @port (@ipv6: in tcp6) has a full accept queue: more
 * connections wait than its backlog, so the kernel drops new SYNs. */
gboolean accept_queue_full (guint port, gboolean ipv6);
/* Descriptors open in this process. */
guint open_descriptors (void);

/* Runs the thread-default context, looking at @func again every millisecond (for what no
 * event announces: the kernel's tables), until it holds or @deadline_ms pass. */
gboolean run_until_polled (gboolean (*func) (gpointer data), gpointer data, guint deadline_ms);
/* Until @n sockets are in SYN_SENT towards @port; FALSE if the deadline passed first. */
gboolean run_until_syn_sent (guint port, guint n);

/* A listener on @address:@port (0: any port; the port is returned) whose accept queue is
 * full: connections to it hang in SYN_SENT, as to a host whose packets are dropped. The
 * connections that fill it are added to @fillers. */
TestSocket *make_full_listener (const char *address, guint *port, GPtrArray *fillers);
/* A listener on @address:@port (0: any; the port is returned). */
TestSocket *make_listener_on (const char *address, guint *port);

G_END_DECLS
