/* c-async-socket-options.c: names, socket options, ioctl and accounting
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <string.h>
#include <sys/socket.h>

#include "c-async-socket-private.h"

typedef int (*NameFunc) (int fd, struct sockaddr *address, socklen_t *length);

static gboolean
query_name (CAsyncSocket *self, NameFunc func, const char *operation,
            struct sockaddr_storage *storage, socklen_t *length, GError **error)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  if (!c_async_socket_check_created (self, operation, error))
    return FALSE;
  *length = sizeof *storage;
  if (func (priv->fd, (struct sockaddr *) storage, length) < 0)
    {
      c_set_io_error (error, errno, "%s", operation);
      return FALSE;
    }
  return TRUE;
}

static gboolean
name_as_text (CAsyncSocket *self, NameFunc func, const char *operation, char **address, guint *port,
              GError **error)
{
  struct sockaddr_storage storage;
  socklen_t length;
  char *text;

  if (address != NULL)
    *address = NULL;
  if (port != NULL)
    *port = 0;
  if (!query_name (self, func, operation, &storage, &length, error))
    return FALSE;
  text = c_address_to_string ((struct sockaddr *) &storage, length, port);
  if (address != NULL)
    *address = text;
  else
    g_free (text);
  return TRUE;
}

/**
 * c_async_socket_get_peer_name:
 * @self: a connected socket
 * @address: (out) (optional) (transfer full): the peer's address as text
 * @port: (out) (optional): the peer's port
 * @error: return location for a #GError
 *
 * The address the socket is connected to (MFC's `GetPeerName`, IPv6 included).
 *
 * Returns: %TRUE on success
 */
gboolean
c_async_socket_get_peer_name (CAsyncSocket *self, char **address, guint *port, GError **error)
{
  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  return name_as_text (self, getpeername, "get_peer_name", address, port, error);
}

/**
 * c_async_socket_get_sock_name:
 * @self: a bound socket
 * @address: (out) (optional) (transfer full): the local address as text
 * @port: (out) (optional): the local port
 * @error: return location for a #GError
 *
 * The address the socket is bound to (MFC's `GetSockName`): after binding port 0, this is
 * where the port the system chose is found.
 *
 * Returns: %TRUE on success
 */
gboolean
c_async_socket_get_sock_name (CAsyncSocket *self, char **address, guint *port, GError **error)
{
  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  return name_as_text (self, getsockname, "get_sock_name", address, port, error);
}

static GSocketAddress *
name_as_object (CAsyncSocket *self, NameFunc func, const char *operation, GError **error)
{
  struct sockaddr_storage storage;
  socklen_t length;

  if (!query_name (self, func, operation, &storage, &length, error))
    return NULL;
  return g_socket_address_new_from_native (&storage, length);
}

/**
 * c_async_socket_get_peer_address:
 * @self: a connected socket
 * @error: return location for a #GError
 *
 * The address the socket is connected to, as a #GSocketAddress.
 *
 * Returns: (transfer full) (nullable): the peer's address, or %NULL on error
 */
GSocketAddress *
c_async_socket_get_peer_address (CAsyncSocket *self, GError **error)
{
  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), NULL);
  return name_as_object (self, getpeername, "get_peer_name", error);
}

/**
 * c_async_socket_get_sock_address:
 * @self: a bound socket
 * @error: return location for a #GError
 *
 * The address the socket is bound to, as a #GSocketAddress.
 *
 * Returns: (transfer full) (nullable): the local address, or %NULL on error
 */
GSocketAddress *
c_async_socket_get_sock_address (CAsyncSocket *self, GError **error)
{
  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), NULL);
  return name_as_object (self, getsockname, "get_sock_name", error);
}

/**
 * c_async_socket_get_sock_opt: (skip)
 * @self: a socket
 * @option: the option (`SO_RCVBUF`, `TCP_NODELAY`, …)
 * @value: (out caller-allocates): where to put the value
 * @size: (inout): room in @value; on return, the value's size
 * @level: the level (`SOL_SOCKET`, `IPPROTO_TCP`, …)
 * @error: return location for a #GError
 *
 * Reads a socket option (MFC's `GetSockOpt`, with the same argument order).
 *
 * Returns: %TRUE on success
 */
gboolean
c_async_socket_get_sock_opt (CAsyncSocket *self, int option, void *value, guint *size, int level,
                             GError **error)
{
  socklen_t length;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  g_return_val_if_fail (value != NULL && size != NULL, FALSE);
  if (!c_async_socket_check_created (self, "get_sock_opt", error))
    return FALSE;
  length = *size;
  if (getsockopt (c_async_socket_get_private (self)->fd, level, option, value, &length) < 0)
    {
      c_set_io_error (error, errno, "get_sock_opt (level %d, option %d)", level, option);
      return FALSE;
    }
  *size = length;
  return TRUE;
}

/**
 * c_async_socket_set_sock_opt: (skip)
 * @self: a socket
 * @option: the option
 * @value: (array length=size) (element-type guint8): the value
 * @size: its size
 * @level: the level (`SOL_SOCKET`, …)
 * @error: return location for a #GError
 *
 * Sets a socket option (MFC's `SetSockOpt`).
 *
 * Returns: %TRUE on success
 */
gboolean
c_async_socket_set_sock_opt (CAsyncSocket *self, int option, const void *value, guint size,
                             int level, GError **error)
{
  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  g_return_val_if_fail (value != NULL || size == 0, FALSE);
  if (!c_async_socket_check_created (self, "set_sock_opt", error))
    return FALSE;
  if (setsockopt (c_async_socket_get_private (self)->fd, level, option, value, size) < 0)
    {
      c_set_io_error (error, errno, "set_sock_opt (level %d, option %d)", level, option);
      return FALSE;
    }
  return TRUE;
}

/**
 * c_async_socket_get_sock_opt_int:
 * @self: a socket
 * @level: the level
 * @option: the option
 * @value: (out): the option's integer value
 * @error: return location for a #GError
 *
 * Reads an integer option; convenient from bindings.
 *
 * Returns: %TRUE on success
 */
gboolean
c_async_socket_get_sock_opt_int (CAsyncSocket *self, int level, int option, int *value,
                                 GError **error)
{
  guint size = sizeof *value;

  *value = 0;
  return c_async_socket_get_sock_opt (self, option, value, &size, level, error);
}

/**
 * c_async_socket_set_sock_opt_int:
 * @self: a socket
 * @level: the level
 * @option: the option
 * @value: the option's integer value
 * @error: return location for a #GError
 *
 * Sets an integer option; convenient from bindings.
 *
 * Returns: %TRUE on success
 */
gboolean
c_async_socket_set_sock_opt_int (CAsyncSocket *self, int level, int option, int value,
                                 GError **error)
{
  return c_async_socket_set_sock_opt (self, option, &value, sizeof value, level, error);
}

/* The options a connect by name carries over to the descriptors of its other attempts
 * (c-async-socket-eyeballs.c): those an application sets before connecting. */
static const struct
{
  int level, option;
} carried_options[] = {
  { SOL_SOCKET, SO_KEEPALIVE },
  { SOL_SOCKET, SO_OOBINLINE },
  { SOL_SOCKET, SO_PRIORITY },
  { SOL_SOCKET, SO_MARK },
  { SOL_SOCKET, SO_RCVBUF },
  { SOL_SOCKET, SO_SNDBUF },
  { SOL_SOCKET, SO_RCVLOWAT },
  { SOL_SOCKET, SO_REUSEADDR },
  { SOL_SOCKET, SO_REUSEPORT },
  { SOL_SOCKET, SO_BROADCAST },
  { IPPROTO_TCP, TCP_NODELAY },
  { IPPROTO_TCP, TCP_CORK },
  { IPPROTO_TCP, TCP_KEEPIDLE },
  { IPPROTO_TCP, TCP_KEEPINTVL },
  { IPPROTO_TCP, TCP_KEEPCNT },
  { IPPROTO_TCP, TCP_USER_TIMEOUT },
  { IPPROTO_TCP, TCP_MAXSEG },
  { IPPROTO_TCP, TCP_NOTSENT_LOWAT },
  { IPPROTO_TCP, TCP_SYNCNT },
  { IPPROTO_TCP, TCP_WINDOW_CLAMP },
  { IPPROTO_IP, IP_TOS },
  { IPPROTO_IP, IP_TTL },
  { IPPROTO_IPV6, IPV6_V6ONLY },
  { IPPROTO_IPV6, IPV6_TCLASS },
  { IPPROTO_IPV6, IPV6_UNICAST_HOPS },
};

/* Gives descriptor @to (new, unconnected) the options set on @from that differ from a new
 * descriptor's: defaults stay defaults (a buffer size copied as a number would turn off
 * the kernel's automatic sizing). Options that do not apply to the pair fail quietly. */
void
c_async_socket_copy_options (int from, int to)
{
  struct linger linger;
  char text[64];
  socklen_t length;

  for (gsize i = 0; i < G_N_ELEMENTS (carried_options); i++)
    {
      int level = carried_options[i].level, option = carried_options[i].option;
      int wanted = 0, current = 0;
      socklen_t wanted_length = sizeof wanted, current_length = sizeof current;

      if (getsockopt (from, level, option, &wanted, &wanted_length) < 0
          || getsockopt (to, level, option, &current, &current_length) < 0 || wanted == current)
        continue;
      /* Linux reports twice the buffer sizes it was given. */
      if (level == SOL_SOCKET && (option == SO_RCVBUF || option == SO_SNDBUF))
        wanted /= 2;
      setsockopt (to, level, option, &wanted, sizeof wanted);
    }
  length = sizeof linger;
  if (getsockopt (from, SOL_SOCKET, SO_LINGER, &linger, &length) == 0 && linger.l_onoff)
    setsockopt (to, SOL_SOCKET, SO_LINGER, &linger, sizeof linger);
  length = sizeof text;
  if (getsockopt (from, SOL_SOCKET, SO_BINDTODEVICE, text, &length) == 0 && length > 0
      && text[0] != '\0')
    setsockopt (to, SOL_SOCKET, SO_BINDTODEVICE, text, length);
  length = sizeof text;
  if (getsockopt (from, IPPROTO_TCP, TCP_CONGESTION, text, &length) == 0 && length > 0)
    {
      char current[64];
      socklen_t current_length = sizeof current;

      if (getsockopt (to, IPPROTO_TCP, TCP_CONGESTION, current, &current_length) < 0
          || strncmp (text, current, sizeof current) != 0)
        setsockopt (to, IPPROTO_TCP, TCP_CONGESTION, text, (socklen_t) strnlen (text, length));
    }
}

static gboolean
set_nonblocking (CAsyncSocket *self, gboolean nonblocking, GError **error)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  int flags;

  /* Winsock refuses to make a socket blocking while notifications are selected, and so do
   * we: a blocking call would freeze the main loop that delivers them. */
  if (!nonblocking && priv->events != C_FD_NONE)
    {
      c_set_socket_error (error, C_SOCKET_ERROR_WRONG_STATE,
                          "ioctl (FIONBIO): cannot make the socket blocking while notifications "
                          "are selected; call async_select (0) first");
      return FALSE;
    }
  flags = fcntl (priv->fd, F_GETFL);
  flags = nonblocking ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
  if (fcntl (priv->fd, F_SETFL, flags) < 0)
    {
      c_set_io_error (error, errno, "ioctl (FIONBIO)");
      return FALSE;
    }
  return TRUE;
}

/**
 * c_async_socket_ioctl:
 * @self: a socket
 * @command: `FIONBIO`, `FIONREAD` or `SIOCATMARK`
 * @argument: (inout): for `FIONBIO`, non-zero for non-blocking; for `FIONREAD`, receives the
 *   bytes queued (stream) or the size of the first datagram; for `SIOCATMARK`, receives
 *   non-zero when the read position is at the urgent-data mark (POSIX `sockatmark()`;
 *   Winsock's inverted "no urgent data pending" reading cannot be had from Linux exactly)
 * @error: return location for a #GError
 *
 * Controls the socket's mode (MFC's `IOCtl`).
 *
 * Returns: %TRUE on success
 */
gboolean
c_async_socket_ioctl (CAsyncSocket *self, gulong command, guint32 *argument, GError **error)
{
  int value = 0;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  g_return_val_if_fail (argument != NULL, FALSE);
  if (!c_async_socket_check_created (self, "ioctl", error))
    return FALSE;
  switch (command)
    {
      case FIONBIO:
        return set_nonblocking (self, *argument != 0, error);
      case FIONREAD:
      case SIOCATMARK:
        if (ioctl (c_async_socket_get_private (self)->fd, command, &value) < 0)
          {
            c_set_io_error (error, errno, "ioctl (%s)",
                            command == FIONREAD ? "FIONREAD" : "SIOCATMARK");
            return FALSE;
          }
        *argument = (guint32) value;
        return TRUE;
      default:
        c_set_socket_error (error, C_SOCKET_ERROR_WRONG_STATE,
                            "ioctl: command 0x%lx is not FIONBIO, FIONREAD or SIOCATMARK", command);
        return FALSE;
    }
}

/**
 * c_async_socket_get_stats:
 * @self: a socket
 * @stats: (out caller-allocates): where to put the accounting
 *
 * Copies the connection's accounting: bytes and calls each way, records each way (record
 * path), and when the socket was made and connected.
 */
void
c_async_socket_get_stats (CAsyncSocket *self, CSocketStats *stats)
{
  g_return_if_fail (C_IS_ASYNC_SOCKET (self));
  g_return_if_fail (stats != NULL);
  *stats = c_async_socket_get_private (self)->stats;
}

/**
 * c_async_socket_get_family:
 * @self: a socket
 *
 * The socket's address family.
 *
 * Returns: the address family, %G_SOCKET_FAMILY_INVALID without a descriptor
 */
GSocketFamily
c_async_socket_get_family (CAsyncSocket *self)
{
  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), G_SOCKET_FAMILY_INVALID);
  if (c_async_socket_get_private (self)->fd < 0)
    return G_SOCKET_FAMILY_INVALID;
  return c_async_socket_get_private (self)->family;
}

/**
 * c_async_socket_get_socket_type:
 * @self: a socket
 *
 * The socket's type: stream, datagram, raw or sequenced packets.
 *
 * Returns: the socket's type
 */
CSocketType
c_async_socket_get_socket_type (CAsyncSocket *self)
{
  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), C_SOCK_STREAM);
  return c_async_socket_get_private (self)->type;
}

/**
 * c_async_socket_get_context:
 * @self: a socket
 *
 * The main context whose loop delivers the socket's notifications.
 *
 * Returns: (transfer none): the main context that delivers the socket's notifications
 */
GMainContext *
c_async_socket_get_context (CAsyncSocket *self)
{
  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), NULL);
  return c_async_socket_get_private (self)->context;
}

/**
 * c_async_socket_is_listening:
 * @self: a socket
 *
 * Tells whether the socket listens for connections.
 *
 * Returns: whether the socket listens for connections
 */
gboolean
c_async_socket_is_listening (CAsyncSocket *self)
{
  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  return c_async_socket_get_private (self)->listening;
}

/**
 * c_async_socket_is_connected:
 * @self: a socket
 *
 * Tells whether the socket is connected.
 *
 * Returns: whether the socket is connected (for datagram sockets: has a default peer)
 */
gboolean
c_async_socket_is_connected (CAsyncSocket *self)
{
  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  return c_async_socket_get_private (self)->connected;
}
