/* bench-service.h: afxsock's echo servers on a CSocketService
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <afxsock.h>

/* Serves connections of @connection_type on 127.0.0.1:@port (0: any) with a CSocketService
 * on @threads threads (docs/service.md): each listener gets the record mode when @records
 * and @tls when not NULL (the connections inherit both), each connection TCP_NODELAY.
 * Announces the port (bench-util.h) and runs the main loop for good; returns 1 after
 * printing why it could not start. @name prefixes the message. */
int bench_serve (GType connection_type, const char *name, int port, guint threads, gboolean records,
                 CTlsSettings *tls);
