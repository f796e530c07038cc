/* c-socket-datagram.c: CSocket's datagram calls, send_to and receive_from
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each is an attempt run by c_socket_run_blocking (c-socket.c): it blocks while the socket's
 * buffer is full, or until a datagram arrives.
 */
#include "config.h"

#include "c-socket-private.h"

typedef struct
{
  const void *buffer;
  gsize size;
  guint port;
  const char *host;
  int flags;
} SendToJob;

static gssize
attempt_send_to (BlockingCall *call, gpointer data, GError **error)
{
  SendToJob *job = data;
  return c_async_socket_send_to (C_ASYNC_SOCKET (call->self), job->buffer, job->size, job->port,
                                 job->host, job->flags, error);
}

/**
 * c_socket_send_to:
 * @self: a socket
 * @buffer: (array length=size) (element-type guint8): the datagram
 * @size: its size
 * @port: the destination port
 * @host: (nullable): the destination address; %NULL broadcasts
 * @flags: `MSG_*` flags
 * @error: return location for a #GError
 *
 * Sends a datagram, blocking while the socket's buffer is full (MFC's `CSocket::SendTo`).
 *
 * Returns: the number of bytes sent, or -1 on error
 */
gssize
c_socket_send_to (CSocket *self, const void *buffer, gsize size, guint port, const char *host,
                  int flags, GError **error)
{
  SendToJob job = { buffer, size, port, host, flags };

  g_return_val_if_fail (C_IS_SOCKET (self), -1);
  return c_socket_run_blocking (self, "send_to", attempt_send_to, C_REACTOR_WRITABLE, &job, error);
}

typedef struct
{
  void *buffer;
  gsize size;
  int flags;
  char **host;
  guint *port;
} ReceiveFromJob;

static gssize
attempt_receive_from (BlockingCall *call, gpointer data, GError **error)
{
  ReceiveFromJob *job = data;
  return c_async_socket_receive_from (C_ASYNC_SOCKET (call->self), job->buffer, job->size,
                                      job->host, job->port, job->flags, error);
}

/**
 * c_socket_receive_from: (skip)
 * @self: a socket
 * @buffer: (out caller-allocates) (array length=size) (element-type guint8): where to put
 *   the datagram
 * @size: room in @buffer
 * @host: (out) (optional) (transfer full): the sender's address
 * @port: (out) (optional): the sender's port
 * @flags: `MSG_*` flags
 * @error: return location for a #GError
 *
 * Waits for a datagram and receives it (MFC's `CSocket::ReceiveFrom`). Bindings:
 * c_socket_receive_from_bytes().
 *
 * Returns: the number of bytes received, or -1 on error
 */
gssize
c_socket_receive_from (CSocket *self, void *buffer, gsize size, char **host, guint *port, int flags,
                       GError **error)
{
  ReceiveFromJob job = { buffer, size, flags, host, port };

  g_return_val_if_fail (C_IS_SOCKET (self), -1);
  return c_socket_run_blocking (self, "receive_from", attempt_receive_from, C_REACTOR_READABLE,
                                &job, error);
}
