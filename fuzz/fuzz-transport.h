/* fuzz-transport.h: sockets whose bytes come from memory, for the socket fuzz targets
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <afxsock.h>

#include "c-async-socket-private.h"
#include "c-transport.h"

G_BEGIN_DECLS

/* Keeps the thread-default context's reactor for the whole run (once per process). */
void fuzz_transport_setup (void);

/* Gives @socket, which has no descriptor, a connected stream whose every byte comes from
 * @transport (taken), selecting @events. */
void fuzz_transport_connect (CAsyncSocket *socket, CTransport *transport, CSocketEvents events);

/* Aborts unless the context's reactor is back where each input starts: no socket
 * registered, no work queued. */
void fuzz_transport_check_idle (void);

G_END_DECLS
