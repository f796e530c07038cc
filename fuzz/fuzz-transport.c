/* fuzz-transport.c: sockets whose bytes come from memory, for the socket fuzz targets
 *
 * The record and socket-file targets used to write each input into a Unix socket pair, a
 * chunk per turn of the main loop: 1,300 executions per second at best. Now the socket
 * reads through the in-memory transport (src/c-transport-memory.c), which hands out the
 * input in chunks of the sizes the input names and then the end of the stream, and no byte
 * crosses the kernel.
 *
 * The socket still needs a descriptor that the reactor registers, so that readiness
 * reports, probes and on_close go through the code they go through in production. It is
 * one end of a Unix socket pair made for each input, whose other end is closed at once:
 * the kernel then reports an end of stream, as a real peer's descriptor would once
 * everything the transport holds has arrived. The socket takes it the way
 * c_async_socket_accept() takes an accepted descriptor (c_async_socket_take_fd, then
 * connected), which skips the queries of c_async_socket_attach() about what the
 * descriptor is: they are known here.
 *
 * The context's reactor (its epoll instance and GSource) would otherwise be made and
 * destroyed with each input's socket; it is kept for the whole run, as in a server whose
 * connections come and go, and checked to be idle after each input: no socket registered
 * and no work queued, so nothing carries over from one input to the next.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz-transport.h"

#include "c-reactor-internal.h"

static CReactor *reactor;

G_GNUC_NORETURN static void
fail (const char *what, const char *detail)
{
  fprintf (stderr, "fuzz-transport: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  abort ();
}

void
fuzz_transport_setup (void)
{
  GMainContext *context;

  if (reactor != NULL)
    return;
  context = g_main_context_ref_thread_default ();
  reactor = c_reactor_get_for_context (context);
  if (reactor == NULL)
    fail ("no reactor", g_strerror (errno));
  g_main_context_unref (context);
}

void
fuzz_transport_connect (CAsyncSocket *socket, CTransport *transport, CSocketEvents events)
{
  g_autoptr (GError) error = NULL;
  int fds[2];

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0)
    fail ("socketpair", g_strerror (errno));
  close (fds[1]);
  if (!c_async_socket_take_fd (socket, fds[0], G_SOCKET_FAMILY_UNIX, C_SOCK_STREAM, 0, &error))
    fail ("registering the descriptor", error->message);
  c_async_socket_mark_connected (socket);
  c_transport_set (c_async_socket_get_private (socket), transport);
  if (!c_async_socket_async_select (socket, events, &error))
    fail ("selecting events", error->message);
}

void
fuzz_transport_check_idle (void)
{
  if (reactor->users != 1)
    fail ("a socket is still registered after the input", NULL);
  if (reactor->deferred.length > 0 || reactor->n_waiting > 0 || reactor->hold_depth > 0)
    fail ("work is still queued after the input", NULL);
}
