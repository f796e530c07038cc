/* c-socket-private.h: CSocket's blocking-call engine, for the files of CSocket's calls
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * c-socket.c runs a blocking call (c_socket_run_blocking: try, and while the attempt would
 * block, run the context until the reactor reports what it waits for); c-socket.c and
 * c-socket-datagram.c define the calls as attempts.
 */
#pragma once

#include "c-async-socket-private.h"
#include <afxsock/c-socket.h>

G_BEGIN_DECLS

typedef struct
{
  guint timeout_ms;
  GCancellable *cancellable;
  gboolean blocking;
  gboolean cancel_requested;
} CSocketPrivate;

/* One call under way, on the caller's stack. */
typedef struct
{
  CSocket *self;
  CAsyncSocketPrivate *async;
  CSocketPrivate *priv;
  const char *operation;
  CReactor *reactor;
  gpointer previous_except;
  gint64 deadline; /* monotonic, 0 for none */
  GSource *deadline_source;
  GSource *cancel_source;
} BlockingCall;

/* One try of the operation: its result, or -1 with @error (G_IO_ERROR_WOULD_BLOCK: wait). */
typedef gssize (*CSocketAttempt) (BlockingCall *call, gpointer data, GError **error);

/* Tries @attempt and, while it would block, waits for @wanted (CReactorEvents): the blocking
 * call @operation (named in errors), with the socket's timeout and cancellation. */
gssize c_socket_run_blocking (CSocket *self, const char *operation, CSocketAttempt attempt,
                              guint32 wanted, gpointer data, GError **error);

G_END_DECLS
