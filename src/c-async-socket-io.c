/* c-async-socket-io.c: send, receive, send_to, receive_from, shut_down
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "c-transport.h"

/* The last type that passed c_async_socket_is_instance() (c-async-socket-private.h). */
gpointer c_async_socket_known_type;

static gboolean
check_data_socket (CAsyncSocket *self, const char *operation, GError **error)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  if (!c_async_socket_check_created (self, operation, error))
    return FALSE;
  if (priv->listening)
    {
      c_set_socket_error (error, C_SOCKET_ERROR_WRONG_STATE, "%s: the socket is listening",
                          operation);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_connected (CAsyncSocket *self, const char *operation, GError **error)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  if (!check_data_socket (self, operation, error))
    return FALSE;
  if (priv->type != C_SOCK_DGRAM && priv->type != C_SOCK_RAW && !priv->connected)
    {
      c_set_socket_error (error, C_SOCKET_ERROR_WRONG_STATE, "%s: the socket is not connected%s",
                          operation, priv->connecting ? " yet" : "");
      return FALSE;
    }
  return TRUE;
}

/**
 * c_async_socket_send:
 * @self: a connected socket
 * @buffer: (array length=size) (element-type guint8): the bytes to send
 * @size: how many
 * @flags: `MSG_*` flags (`MSG_OOB`, …); `MSG_NOSIGNAL` is always added
 * @error: return location for a #GError
 *
 * Sends what the kernel takes now (MFC's `Send`): possibly fewer bytes than asked. When
 * nothing can be sent the call fails with %G_IO_ERROR_WOULD_BLOCK and `on_send` comes once
 * there is room again. A peer that reset the connection never raises SIGPIPE.
 *
 * Returns: the number of bytes sent, or -1 on error
 */
gssize
c_async_socket_send (CAsyncSocket *self, const void *buffer, gsize size, int flags, GError **error)
{
  CAsyncSocketPrivate *priv;
  gssize n;

  g_return_val_if_fail (c_async_socket_is_instance (self), -1);
  g_return_val_if_fail (buffer != NULL || size == 0, -1);
  priv = c_async_socket_get_private (self);
  if (!check_connected (self, "send", error))
    return -1;

  if (priv->type == C_SOCK_STREAM)
    {
      struct iovec iov = { (void *) buffer, size };
      n = c_transport_write (priv, &iov, 1, flags);
    }
  else
    do
      n = send (priv->fd, buffer, size, flags | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
  if (n < 0)
    {
      int error_code = errno;
      c_async_socket_send_failed (self, error_code);
      c_set_io_error (error, error_code, "send of %zu bytes", size);
      return -1;
    }
  c_async_socket_note_sent (priv, (gsize) n);
  return n;
}

static void
note_received (CAsyncSocketPrivate *priv, gssize n)
{
  priv->stats.bytes_received += (guint64) n;
  priv->stats.receive_calls++;
}

/**
 * c_async_socket_receive: (skip)
 * @self: a socket
 * @buffer: (out caller-allocates) (array length=size) (element-type guint8): where to put
 *   the bytes
 * @size: room in @buffer
 * @flags: `MSG_*` flags (`MSG_PEEK`, `MSG_OOB`, …)
 * @error: return location for a #GError
 *
 * Receives what is available, up to @size bytes (MFC's `Receive`). A datagram larger than
 * @size is truncated and reported with `EMSGSIZE`. Every call re-arms `on_receive` (with
 * `MSG_OOB`: `on_out_of_band_data`), even a failing one; if data remains, `on_receive`
 * comes again from the main loop. Bindings: c_async_socket_receive_bytes().
 *
 * Returns: the number of bytes received, 0 when the peer closed gracefully, -1 on error
 *   (%G_IO_ERROR_WOULD_BLOCK when nothing is there)
 */
gssize
c_async_socket_receive (CAsyncSocket *self, void *buffer, gsize size, int flags, GError **error)
{
  CAsyncSocketPrivate *priv;
  gssize n;
  int error_code = 0, remaining = -1;

  g_return_val_if_fail (c_async_socket_is_instance (self), -1);
  g_return_val_if_fail (buffer != NULL || size == 0, -1);
  priv = c_async_socket_get_private (self);
  if (!check_data_socket (self, "receive", error))
    return -1;
  if (priv->record_mode)
    {
      c_set_socket_error (error, C_SOCKET_ERROR_WRONG_STATE,
                          "receive: the socket is in record mode; records arrive through "
                          "on_record");
      return -1;
    }

  if (priv->type == C_SOCK_STREAM)
    n = c_transport_read (priv, buffer, size, flags, &remaining);
  else
    do
      n = recv (priv->fd, buffer, size, flags | MSG_TRUNC);
    while (n < 0 && errno == EINTR);
  if (n < 0)
    error_code = errno;
  c_async_socket_received (self, flags, n, size, error_code, remaining);
  if (n < 0)
    {
      c_set_io_error (error, error_code, "receive");
      return -1;
    }
  if (priv->type != C_SOCK_STREAM && (gsize) n > size)
    {
      note_received (priv, (gssize) size);
      c_set_io_error (error, EMSGSIZE, "receive of a %zd-byte datagram into %zu bytes", n, size);
      return -1;
    }
  note_received (priv, n);
  return n;
}

/**
 * c_async_socket_send_bytes:
 * @self: a connected socket
 * @bytes: the bytes to send
 * @flags: `MSG_*` flags
 * @error: return location for a #GError
 *
 * c_async_socket_send() for a #GBytes; convenient from bindings.
 *
 * Returns: the number of bytes sent, or -1 on error
 */
gssize
c_async_socket_send_bytes (CAsyncSocket *self, GBytes *bytes, int flags, GError **error)
{
  gsize size;
  const void *data;

  g_return_val_if_fail (bytes != NULL, -1);
  data = g_bytes_get_data (bytes, &size);
  return c_async_socket_send (self, data != NULL ? data : "", size, flags, error);
}

/* Resolves the destination of send_to: a numeric address, a Unix path, or the IPv4
 * broadcast address when @host is NULL. */
static gboolean
destination (CAsyncSocket *self, guint port, const char *host, struct sockaddr_storage *storage,
             socklen_t *length, GError **error)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  gboolean broadcast = host == NULL;
  int on = 1;

  if (host == NULL)
    {
      if (priv->family == G_SOCKET_FAMILY_UNIX)
        {
          c_set_socket_error (error, C_SOCKET_ERROR_WRONG_STATE,
                              "send_to: a Unix socket has no broadcast address");
          return FALSE;
        }
      host = "255.255.255.255";
    }
  /* Raw sockets have no ports; any other destination needs one. */
  if (!c_address_is_unix_path (host) && priv->type != C_SOCK_RAW
      && !c_check_port (port, FALSE, "send_to", error))
    return FALSE;
  if (!c_address_parse (host, port, priv->family, storage, length, error))
    return FALSE;
  /* MFC: a NULL address broadcasts. The application need not set SO_BROADCAST first; it is
   * turned on only once the rest of the call is known to be valid. */
  if (broadcast)
    setsockopt (priv->fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof on);
  return TRUE;
}

static gssize
send_to_native (CAsyncSocket *self, const void *buffer, gsize size, const struct sockaddr *address,
                socklen_t length, int flags, GError **error)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  gssize n;

  do
    n = sendto (priv->fd, buffer, size, flags | MSG_NOSIGNAL, address, length);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    {
      int error_code = errno;
      g_autofree char *target = c_address_describe (address, length);
      c_async_socket_send_failed (self, error_code);
      c_set_io_error (error, error_code, "send_to %s", target);
      return -1;
    }
  c_async_socket_note_sent (priv, (gsize) n);
  return n;
}

/**
 * c_async_socket_send_to:
 * @self: a socket, usually a datagram socket
 * @buffer: (array length=size) (element-type guint8): the bytes to send
 * @size: how many
 * @port: the destination port
 * @host: (nullable): a numeric IPv4 or IPv6 address or a Unix path; %NULL broadcasts to
 *   255.255.255.255 (`SO_BROADCAST` is turned on for you)
 * @flags: `MSG_*` flags
 * @error: return location for a #GError
 *
 * Sends a datagram to the given destination (MFC's `SendTo`).
 *
 * Returns: the number of bytes sent, or -1 on error
 */
gssize
c_async_socket_send_to (CAsyncSocket *self, const void *buffer, gsize size, guint port,
                        const char *host, int flags, GError **error)
{
  struct sockaddr_storage storage;
  socklen_t length;

  g_return_val_if_fail (c_async_socket_is_instance (self), -1);
  g_return_val_if_fail (buffer != NULL || size == 0, -1);
  if (!check_data_socket (self, "send_to", error)
      || !destination (self, port, host, &storage, &length, error))
    return -1;
  return send_to_native (self, buffer, size, (struct sockaddr *) &storage, length, flags, error);
}

/**
 * c_async_socket_send_to_address:
 * @self: a socket
 * @buffer: (array length=size) (element-type guint8): the bytes to send
 * @size: how many
 * @address: the destination
 * @flags: `MSG_*` flags
 * @error: return location for a #GError
 *
 * Like c_async_socket_send_to(), with a #GSocketAddress.
 *
 * Returns: the number of bytes sent, or -1 on error
 */
gssize
c_async_socket_send_to_address (CAsyncSocket *self, const void *buffer, gsize size,
                                GSocketAddress *address, int flags, GError **error)
{
  struct sockaddr_storage storage;
  socklen_t length;

  g_return_val_if_fail (c_async_socket_is_instance (self), -1);
  g_return_val_if_fail (G_IS_SOCKET_ADDRESS (address), -1);
  if (!check_data_socket (self, "send_to", error)
      || !c_address_from_gobject (address, c_async_socket_get_private (self)->family, &storage,
                                  &length, error))
    return -1;
  return send_to_native (self, buffer, size, (struct sockaddr *) &storage, length, flags, error);
}

static gssize
receive_from_native (CAsyncSocket *self, void *buffer, gsize size, struct sockaddr_storage *storage,
                     socklen_t *length, int flags, GError **error)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  gssize n;
  int error_code = 0;

  /* MSG_TRUNC reports a datagram's real size; on a stream it would discard data. */
  if (priv->type != C_SOCK_STREAM)
    flags |= MSG_TRUNC;
  *length = sizeof *storage;
  do
    n = recvfrom (priv->fd, buffer, size, flags, (struct sockaddr *) storage, length);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    error_code = errno;
  c_async_socket_received (self, flags, n, size, error_code, -1);
  if (n < 0)
    {
      c_set_io_error (error, error_code, "receive_from");
      return -1;
    }
  if (priv->type != C_SOCK_STREAM && (gsize) n > size)
    {
      note_received (priv, (gssize) size);
      c_set_io_error (error, EMSGSIZE, "receive_from of a %zd-byte datagram into %zu bytes", n,
                      size);
      return -1;
    }
  note_received (priv, n);
  return n;
}

/**
 * c_async_socket_receive_from: (skip)
 * @self: a socket, usually a datagram socket
 * @buffer: (out caller-allocates) (array length=size) (element-type guint8): where to put
 *   the bytes
 * @size: room in @buffer
 * @host: (out) (optional) (transfer full): the sender's address as text (IPv4-mapped
 *   addresses in IPv4 form)
 * @port: (out) (optional): the sender's port
 * @flags: `MSG_*` flags
 * @error: return location for a #GError
 *
 * Receives a datagram and says who sent it (MFC's `ReceiveFrom`). Re-arms `on_receive` as
 * c_async_socket_receive() does. Bindings: c_async_socket_receive_from_bytes().
 *
 * Returns: the number of bytes received, or -1 on error
 */
gssize
c_async_socket_receive_from (CAsyncSocket *self, void *buffer, gsize size, char **host, guint *port,
                             int flags, GError **error)
{
  struct sockaddr_storage storage;
  socklen_t length;
  gssize n;

  g_return_val_if_fail (c_async_socket_is_instance (self), -1);
  g_return_val_if_fail (buffer != NULL || size == 0, -1);
  if (host != NULL)
    *host = NULL;
  if (port != NULL)
    *port = 0;
  if (!check_data_socket (self, "receive_from", error))
    return -1;
  n = receive_from_native (self, buffer, size, &storage, &length, flags, error);
  if (n >= 0 && length > 0)
    {
      char *text = c_address_to_string ((struct sockaddr *) &storage, length, port);
      if (host != NULL)
        *host = text;
      else
        g_free (text);
    }
  return n;
}

/**
 * c_async_socket_receive_from_address: (skip)
 * @self: a socket
 * @buffer: (out caller-allocates) (array length=size) (element-type guint8): where to put
 *   the bytes
 * @size: room in @buffer
 * @address: (out) (optional) (transfer full) (nullable): the sender's address
 * @flags: `MSG_*` flags
 * @error: return location for a #GError
 *
 * Like c_async_socket_receive_from(), with a #GSocketAddress. Bindings:
 * c_async_socket_receive_from_address_bytes().
 *
 * Returns: the number of bytes received, or -1 on error
 */
gssize
c_async_socket_receive_from_address (CAsyncSocket *self, void *buffer, gsize size,
                                     GSocketAddress **address, int flags, GError **error)
{
  struct sockaddr_storage storage;
  socklen_t length;
  gssize n;

  g_return_val_if_fail (c_async_socket_is_instance (self), -1);
  g_return_val_if_fail (buffer != NULL || size == 0, -1);
  if (address != NULL)
    *address = NULL;
  if (!check_data_socket (self, "receive_from", error))
    return -1;
  n = receive_from_native (self, buffer, size, &storage, &length, flags, error);
  if (n >= 0 && length > 0 && address != NULL)
    *address = g_socket_address_new_from_native (&storage, length);
  return n;
}

/**
 * c_async_socket_shut_down:
 * @self: a connected socket
 * @how: what to disable; MFC's default is %C_SHUTDOWN_SENDS
 * @error: return location for a #GError
 *
 * Disables receives, sends or both (MFC's `ShutDown`). Shutting down sends is the graceful
 * half-close: the peer reads to the end and sees end of stream, and this socket can still
 * receive what the peer sends. After shutting down receives, no `on_receive` and no
 * graceful `on_close` is delivered; a reset is still reported (`on_close` with
 * `ECONNRESET`), since it means data sent may have been lost. On a stream socket that is
 * not connected the call fails without touching the socket (Linux would otherwise record the
 * shutdown and break the connection made later).
 *
 * In record mode, shutting down sends waits for the write queue: the end of stream follows
 * the last record that c_async_socket_send_record() accepted.
 *
 * Returns: %TRUE on success
 */
gboolean
c_async_socket_shut_down (CAsyncSocket *self, CShutdownHow how, GError **error)
{
  CAsyncSocketPrivate *priv;
  static const int modes[] = { SHUT_RD, SHUT_WR, SHUT_RDWR };

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  priv = c_async_socket_get_private (self);
  if (!c_async_socket_check_created (self, "shut_down", error))
    return FALSE;
  if ((guint) how > C_SHUTDOWN_BOTH)
    {
      c_set_socket_error (error, C_SOCKET_ERROR_WRONG_STATE, "shut_down: unknown mode %d", how);
      return FALSE;
    }
  /* Linux records the shutdown even when it answers ENOTCONN, which would break the
   * connection made later: refuse before asking the kernel. */
  if ((priv->type == C_SOCK_STREAM || priv->type == C_SOCK_SEQPACKET) && !priv->connected)
    {
      c_set_socket_error (error, C_SOCKET_ERROR_WRONG_STATE,
                          "shut_down: the socket is not connected");
      return FALSE;
    }
  /* Records still in the write queue go first: the end of stream must follow them. What
   * the kernel does not take now leaves from on_send's turn, and the half-close after it. */
  if (how != C_SHUTDOWN_RECEIVES)
    {
      c_async_socket_records_flush_now (self);
      if (how == C_SHUTDOWN_SENDS && c_async_socket_records_shut_down_after_queue (self))
        return TRUE;
    }
  if ((priv->type == C_SOCK_STREAM ? c_transport_shutdown (priv, modes[how])
                                   : shutdown (priv->fd, modes[how]))
      < 0)
    {
      c_set_io_error (error, errno, "shut_down");
      return FALSE;
    }
  if (how != C_SHUTDOWN_SENDS)
    c_async_socket_receives_ended (priv);
  return TRUE;
}
