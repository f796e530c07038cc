/* c-receive-bytes.c: the receive calls that return a new GBytes, for bindings
 *
 * c_async_socket_receive(), c_socket_receive() and their _from variants fill the caller's
 * buffer, which introspection cannot express for a language that has no such buffers
 * (PyGObject hands back the count and loses the bytes). These variants allocate the buffer,
 * receive into it with the buffer-filling call, and hand over what arrived; the
 * buffer-filling calls are hidden from introspection and name these in their docs.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <afxsock/c-async-socket.h>
#include <afxsock/c-socket.h>

/* A buffer of @max_size for one receive, given back as a #GBytes of the @n bytes that
 * came (its memory shrunk to them), or freed when the call failed. */
static GBytes *
take_received (guint8 *buffer, gssize n)
{
  if (n < 0)
    {
      g_free (buffer);
      return NULL;
    }
  return g_bytes_new_take (g_realloc (buffer, MAX ((gsize) n, 1)), (gsize) n);
}

/**
 * c_async_socket_receive_bytes:
 * @self: a socket
 * @max_size: the most bytes to receive
 * @flags: `MSG_*` flags
 * @error: return location for a #GError
 *
 * c_async_socket_receive() into a new #GBytes, for bindings (Python's `receive`). Re-arms
 * `on_receive` exactly as c_async_socket_receive() does.
 *
 * Returns: (transfer full) (nullable): the bytes received, empty when the peer closed
 *   gracefully, %NULL on error
 */
GBytes *
c_async_socket_receive_bytes (CAsyncSocket *self, gsize max_size, int flags, GError **error)
{
  guint8 *buffer = g_malloc (MAX (max_size, 1));
  return take_received (buffer, c_async_socket_receive (self, buffer, max_size, flags, error));
}

/**
 * c_async_socket_receive_from_bytes:
 * @self: a socket, usually a datagram socket
 * @max_size: the largest datagram to receive whole
 * @host: (out) (optional) (transfer full): the sender's address as text
 * @port: (out) (optional): the sender's port
 * @flags: `MSG_*` flags
 * @error: return location for a #GError
 *
 * c_async_socket_receive_from() into a new #GBytes, for bindings (Python's
 * `receive_from`). A datagram larger than @max_size fails with `EMSGSIZE`, as there.
 *
 * Returns: (transfer full) (nullable): the datagram, %NULL on error
 */
GBytes *
c_async_socket_receive_from_bytes (CAsyncSocket *self, gsize max_size, char **host, guint *port,
                                   int flags, GError **error)
{
  guint8 *buffer = g_malloc (MAX (max_size, 1));
  return take_received (
      buffer, c_async_socket_receive_from (self, buffer, max_size, host, port, flags, error));
}

/**
 * c_async_socket_receive_from_address_bytes:
 * @self: a socket
 * @max_size: the largest datagram to receive whole
 * @address: (out) (optional) (transfer full) (nullable): the sender's address
 * @flags: `MSG_*` flags
 * @error: return location for a #GError
 *
 * c_async_socket_receive_from_address() into a new #GBytes, for bindings.
 *
 * Returns: (transfer full) (nullable): the datagram, %NULL on error
 */
GBytes *
c_async_socket_receive_from_address_bytes (CAsyncSocket *self, gsize max_size,
                                           GSocketAddress **address, int flags, GError **error)
{
  guint8 *buffer = g_malloc (MAX (max_size, 1));
  return take_received (
      buffer, c_async_socket_receive_from_address (self, buffer, max_size, address, flags, error));
}

/**
 * c_socket_receive_bytes:
 * @self: a socket
 * @max_size: the most bytes to receive
 * @flags: `MSG_*` flags
 * @error: return location for a #GError
 *
 * c_socket_receive() into a new #GBytes, for bindings (Python's `receive` on a
 * `Socket`): waits, with the main loop running, until data arrives.
 *
 * Returns: (transfer full) (nullable): the bytes received, empty when the peer closed,
 *   %NULL on error
 */
GBytes *
c_socket_receive_bytes (CSocket *self, gsize max_size, int flags, GError **error)
{
  guint8 *buffer = g_malloc (MAX (max_size, 1));
  return take_received (buffer, c_socket_receive (self, buffer, max_size, flags, error));
}

/**
 * c_socket_receive_from_bytes:
 * @self: a socket
 * @max_size: the largest datagram to receive whole
 * @host: (out) (optional) (transfer full): the sender's address as text
 * @port: (out) (optional): the sender's port
 * @flags: `MSG_*` flags
 * @error: return location for a #GError
 *
 * c_socket_receive_from() into a new #GBytes, for bindings: waits for a datagram.
 *
 * Returns: (transfer full) (nullable): the datagram, %NULL on error
 */
GBytes *
c_socket_receive_from_bytes (CSocket *self, gsize max_size, char **host, guint *port, int flags,
                             GError **error)
{
  guint8 *buffer = g_malloc (MAX (max_size, 1));
  return take_received (buffer,
                        c_socket_receive_from (self, buffer, max_size, host, port, flags, error));
}
