/* c-async-socket-connect.c: bind, listen, accept, connect and name resolution
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "c-async-socket-private.h"
#include "c-tls-private.h"
#include "c-transport.h"

gboolean
c_async_socket_bind_address_native (CAsyncSocket *self, const struct sockaddr *address,
                                    socklen_t length, GError **error)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  if (bind (priv->fd, address, length) < 0)
    {
      int error_code = errno;
      g_autofree char *target = c_address_describe (address, length);
      c_set_io_error (error, error_code, "bind to %s", target);
      return FALSE;
    }
  /* A port the application chose: Happy Eyeballs' other attempts must bind it too. */
  priv->bound_port_fixed
      = (address->sa_family == AF_INET && ((const struct sockaddr_in *) address)->sin_port != 0)
        || (address->sa_family == AF_INET6
            && ((const struct sockaddr_in6 *) address)->sin6_port != 0);
  return TRUE;
}

/**
 * c_async_socket_bind:
 * @self: a created socket
 * @port: the port, 0 for any
 * @address: (nullable): a numeric IPv4 or IPv6 address or a Unix path; %NULL for the
 *   wildcard address
 * @error: return location for a #GError
 *
 * Binds the socket (MFC's `Bind`). An IPv4 address given to an IPv6 socket is mapped.
 *
 * Returns: %TRUE on success
 */
gboolean
c_async_socket_bind (CAsyncSocket *self, guint port, const char *address, GError **error)
{
  CAsyncSocketPrivate *priv;
  struct sockaddr_storage storage;
  socklen_t length;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  priv = c_async_socket_get_private (self);
  if (!c_async_socket_check_created (self, "bind", error)
      || !c_check_port (port, TRUE, "bind", error)
      || !c_address_parse (address, port, priv->family, &storage, &length, error))
    return FALSE;
  return c_async_socket_bind_address_native (self, (struct sockaddr *) &storage, length, error);
}

/**
 * c_async_socket_bind_address:
 * @self: a created socket
 * @address: the address to bind
 * @error: return location for a #GError
 *
 * Binds the socket to a #GSocketAddress (MFC's `Bind` with a `SOCKADDR`).
 *
 * Returns: %TRUE on success
 */
gboolean
c_async_socket_bind_address (CAsyncSocket *self, GSocketAddress *address, GError **error)
{
  struct sockaddr_storage storage;
  socklen_t length;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  g_return_val_if_fail (G_IS_SOCKET_ADDRESS (address), FALSE);
  if (!c_async_socket_check_created (self, "bind", error)
      || !c_address_from_gobject (address, c_async_socket_get_private (self)->family, &storage,
                                  &length, error))
    return FALSE;
  return c_async_socket_bind_address_native (self, (struct sockaddr *) &storage, length, error);
}

/**
 * c_async_socket_listen:
 * @self: a bound stream socket
 * @backlog: the length of the queue of pending connections; 0 or less for the system's
 *   maximum (MFC's default is 5)
 * @error: return location for a #GError
 *
 * Listens for connections (MFC's `Listen`); `on_accept` says when one is waiting.
 *
 * Returns: %TRUE on success
 */
gboolean
c_async_socket_listen (CAsyncSocket *self, int backlog, GError **error)
{
  CAsyncSocketPrivate *priv;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  priv = c_async_socket_get_private (self);
  if (!c_async_socket_check_created (self, "listen", error))
    return FALSE;
  if (priv->connected || priv->connecting)
    {
      c_set_socket_error (error, C_SOCKET_ERROR_WRONG_STATE, "listen: the socket is connected");
      return FALSE;
    }
  if (listen (priv->fd, backlog > 0 ? backlog : SOMAXCONN) < 0)
    {
      c_set_io_error (error, errno, "listen");
      return FALSE;
    }
  c_async_socket_mark_listening (priv);
  return TRUE;
}

static void
backoff_stop (CAsyncSocketPrivate *priv)
{
  if (priv->backoff_source != NULL)
    {
      g_source_destroy (priv->backoff_source);
      g_clear_pointer (&priv->backoff_source, g_source_unref);
    }
  priv->accept_backoff = FALSE;
}

void
c_async_socket_cancel_backoff (CAsyncSocket *self)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  backoff_stop (priv);
  priv->backoff_ms = 0;
}

static gboolean
backoff_done (gpointer user_data)
{
  CAsyncSocket *self = user_data;
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  backoff_stop (priv);
  c_async_socket_rearm_accept (priv);
  c_async_socket_defer (self, C_DEFER_PROBE);
  return G_SOURCE_REMOVE;
}

/* Out of descriptors: the pending connection stays queued and the listener stays readable,
 * so trying again at once would spin. Tell the application once through on_accept's error
 * code, then hold further on_accept notifications for a back-off period that doubles up to
 * a second; an accept call in the meantime still tries. Clients wait in the backlog rather
 * than being dropped. */
static void
start_backoff (CAsyncSocket *self, int error_code)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  if (priv->accept_backoff)
    return;
  priv->accept_backoff = TRUE;
  priv->backoff_ms = priv->backoff_ms == 0 ? 50 : MIN (priv->backoff_ms * 2, 1000);
  priv->accept_error = error_code;
  c_async_socket_defer (self, C_DEFER_ACCEPT_ERROR);
  priv->backoff_source = g_timeout_source_new (priv->backoff_ms);
  g_source_set_static_name (priv->backoff_source, "afxsock accept back-off");
  g_source_set_callback (priv->backoff_source, backoff_done, self, NULL);
  g_source_attach (priv->backoff_source, priv->context);
  g_debug ("accept on descriptor %d: %s; backing off for %u ms", priv->fd, g_strerror (error_code),
           priv->backoff_ms);
}

static void
inherit_record_settings (CAsyncSocketPrivate *to, CAsyncSocketPrivate *from)
{
  to->overflow_closes = from->overflow_closes;
  to->max_record_size = from->max_record_size;
  to->low_water_mark = from->low_water_mark;
  to->high_water_mark = from->high_water_mark;
  to->idle_timeout_ms = from->idle_timeout_ms;
  to->record_timeout_ms = from->record_timeout_ms;
}

static gboolean
check_accept_arguments (CAsyncSocket *self, CAsyncSocket *connected, GError **error)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  if (!c_async_socket_check_created (self, "accept", error))
    return FALSE;
  if (!priv->listening)
    {
      c_set_socket_error (error, C_SOCKET_ERROR_WRONG_STATE, "accept: the socket is not listening");
      return FALSE;
    }
  if (connected == self || c_async_socket_get_private (connected)->fd >= 0)
    {
      c_set_socket_error (error, C_SOCKET_ERROR_ALREADY_CREATED,
                          "accept: the socket for the new connection already has a descriptor");
      return FALSE;
    }
  return TRUE;
}

static int
accept_fd (CAsyncSocket *self, struct sockaddr_storage *storage, socklen_t *length, GError **error)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  int fd, error_code;

  do
    {
      *length = sizeof *storage;
      fd = accept4 (priv->fd, (struct sockaddr *) storage, length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    }
  while (fd < 0 && errno == EINTR);
  if (fd >= 0)
    return fd;

  error_code = errno;
  if (error_code == EMFILE || error_code == ENFILE || error_code == ENOBUFS || error_code == ENOMEM)
    start_backoff (self, error_code);
  else if (error_code != EAGAIN && error_code != EWOULDBLOCK)
    c_async_socket_defer (self, C_DEFER_PROBE); /* an aborted connection; others may wait */
  c_set_io_error (error, error_code, "accept");
  return -1;
}

/**
 * c_async_socket_accept:
 * @self: a listening socket
 * @connected: a socket object without a descriptor, of the application's own subclass,
 *   that takes the new connection
 * @address: (out) (optional) (transfer full) (nullable): the peer's address
 * @error: return location for a #GError
 *
 * Accepts a pending connection into @connected (MFC's `Accept`). @connected gets the
 * listener's notifications and, like any newly connected socket, an `on_send`. Every call
 * re-arms `on_accept`; if more connections wait, `on_accept` comes again.
 *
 * The program that calls accept owns @connected: the listener keeps no reference to it.
 * Keep one for as long as the connection should live (C: the reference from
 * g_object_new(); Python: in a set or list of the listener's, dropped in `on_close`).
 * Dropping the last reference closes the connection, as MFC's `delete` of the socket
 * object does: the peer sees the close and no notification follows.
 *
 * Out of descriptors (`EMFILE`, `ENFILE`), the call fails, `on_accept` is delivered once with
 * that error code, and further `on_accept` notifications pause for a short back-off (50 ms
 * doubling up to 1 s) so that a listener at the limit does not spin.
 *
 * Returns: %TRUE on success
 */
gboolean
c_async_socket_accept (CAsyncSocket *self, CAsyncSocket *connected, GSocketAddress **address,
                       GError **error)
{
  CAsyncSocketPrivate *priv;
  CAsyncSocketPrivate *cpriv;
  struct sockaddr_storage storage;
  socklen_t length;
  int fd;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  g_return_val_if_fail (C_IS_ASYNC_SOCKET (connected), FALSE);
  priv = c_async_socket_get_private (self);
  cpriv = c_async_socket_get_private (connected);
  if (address != NULL)
    *address = NULL;
  if (!check_accept_arguments (self, connected, error))
    return FALSE;

  c_async_socket_rearm_accept (priv);
  fd = accept_fd (self, &storage, &length, error);
  if (fd < 0)
    return FALSE;
  c_async_socket_cancel_backoff (self);
  if (!c_async_socket_take_fd (connected, fd, priv->family, priv->type, priv->protocol, error))
    {
      close (fd);
      return FALSE;
    }
  c_async_socket_mark_connected (connected);
  c_tls_on_accepted (self, connected); /* a TLS listener's connections run a handshake first */
  inherit_record_settings (cpriv, priv);
  if (priv->record_mode)
    c_async_socket_set_record_mode (connected, TRUE, NULL);
  /* The listener's notifications, without c_async_socket_async_select()'s probe: adding
   * the new descriptor to the (edge-triggered) epoll instance already reports what is
   * ready on it, data that arrived before the accept included. */
  cpriv->events = priv->events;
  /* More connections may be queued: look again from the main loop. */
  c_async_socket_defer (self, C_DEFER_PROBE);
  if (address != NULL && length > 0)
    *address = g_socket_address_new_from_native (&storage, length);
  g_debug ("accepted descriptor %d on listener %d", fd, priv->fd);
  return TRUE;
}

/* Failures that are the outcome of the attempt (the peer's or the network's answer) are
 * reported through on_connect, exactly as when they arrive later; failures of the request
 * itself are reported by the call. */
gboolean
c_async_socket_is_connect_outcome (int error_code)
{
  switch (error_code)
    {
      case ECONNREFUSED:
      case ETIMEDOUT:
      case ENETUNREACH:
      case EHOSTUNREACH:
      case ECONNRESET:
      case ECONNABORTED:
      case ENETDOWN:
      case EHOSTDOWN:
      case EAGAIN: /* a Unix listener's backlog is full: no connection, nothing in progress */
        return TRUE;
      default:
        return FALSE;
    }
}

typedef enum
{
  CONNECT_STARTED,  /* in progress, or finished with a deferred on_connect */
  CONNECT_OUTCOME,  /* the attempt failed with an outcome error (in error_code) */
  CONNECT_REJECTED, /* the request itself failed (in error_code) */
} ConnectStart;

/* After a failed attempt Linux keeps the socket in its "connecting" state, and the next
 * connect() only reports ECONNABORTED. Dissolving the old association first (connect to
 * AF_UNSPEC) makes the socket reusable, for the next address of a connect by name or for
 * an application that calls connect again after on_connect reported a failure. */
void
c_async_socket_dissolve_attempt (CAsyncSocketPrivate *priv)
{
  struct sockaddr unspecified = { .sa_family = AF_UNSPEC };

  connect (priv->fd, &unspecified, sizeof unspecified);
  priv->connect_error = 0;
}

static void
forget_failed_attempt (CAsyncSocketPrivate *priv)
{
  if (priv->connect_error != 0)
    c_async_socket_dissolve_attempt (priv);
}

static ConnectStart
start_connect (CAsyncSocket *self, const struct sockaddr *address, socklen_t length,
               int *error_code)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  forget_failed_attempt (priv);
  priv->connect_attempts = 1;
  if (connect (priv->fd, address, length) == 0)
    {
      c_async_socket_mark_connected (self);
      priv->connect_error = 0;
      /* TLS from the start: on_connect waits for the handshake, which the probe starts. */
      c_async_socket_defer (self, c_tls_on_connected (self) ? C_DEFER_PROBE
                                                            : C_DEFER_CONNECT | C_DEFER_PROBE);
      return CONNECT_STARTED;
    }
  *error_code = errno;
  /* An interrupted connect goes on in the background, like one in progress. */
  if (*error_code == EINPROGRESS || *error_code == EINTR)
    {
      priv->connecting = TRUE;
      c_set_last_error (EWOULDBLOCK);
      return CONNECT_STARTED;
    }
  return c_async_socket_is_connect_outcome (*error_code) ? CONNECT_OUTCOME : CONNECT_REJECTED;
}

static void
set_connect_target (CAsyncSocketPrivate *priv, const char *target)
{
  g_free (priv->connect_target);
  priv->connect_target = g_strdup (target);
}

/* ---- The deadline (CAsyncSocket:connect-timeout) ----------------------------------------- */

static void
stop_deadline (CAsyncSocketPrivate *priv)
{
  if (priv->connect_deadline == NULL)
    return;
  g_source_destroy (priv->connect_deadline);
  g_clear_pointer (&priv->connect_deadline, g_source_unref);
}

/* The connect took longer than the socket's connect-timeout: whatever is under way (the
 * resolution, the attempts, a TLS handshake) is given up, and on_connect says ETIMEDOUT,
 * with a GError that says after how long. */
static gboolean
deadline_passed (gpointer data)
{
  CAsyncSocket *self = data;
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  gboolean handshaking = priv->connected && c_transport_in_handshake (priv);
  GError *reason
      = g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "connect to %s: timed out after %u ms%s",
                     priv->connect_target ? priv->connect_target : "the peer",
                     priv->connect_timeout_ms, handshaking ? " (in the TLS handshake)" : "");

  g_clear_pointer (&priv->connect_deadline, g_source_unref);
  g_debug ("%s", reason->message);
  c_async_socket_dispatch_enter (self);
  priv->connect_expired = TRUE;
  c_set_last_error (ETIMEDOUT);
  if (handshaking)
    {
      /* The handshake fails with the deadline's error, announced as its failure is. */
      c_async_socket_abandon_handshake (self, ETIMEDOUT, reason);
      g_error_free (reason);
    }
  else
    {
      c_async_socket_abandon_connect (self, ETIMEDOUT);
      g_clear_error (&priv->close_reason);
      priv->close_reason = reason;
      c_async_socket_connect_settle (self, ETIMEDOUT);
    }
  c_async_socket_dispatch_leave (self);
  return G_SOURCE_REMOVE;
}

static void
start_deadline (CAsyncSocket *self)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  stop_deadline (priv);
  if (priv->connect_timeout_ms == 0 || !(priv->connecting || priv->eyeballs != NULL))
    return;
  priv->connect_deadline = g_timeout_source_new (priv->connect_timeout_ms);
  g_source_set_static_name (priv->connect_deadline, "afxsock connect deadline");
  g_source_set_callback (priv->connect_deadline, deadline_passed, self, NULL);
  g_source_attach (priv->connect_deadline, priv->context);
}

void
c_async_socket_connect_done (CAsyncSocket *self)
{
  stop_deadline (c_async_socket_get_private (self));
}

/* ---- The end of a connect ---------------------------------------------------------------- */

void
c_async_socket_connect_settle (CAsyncSocket *self, int error_code)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  priv->connecting = FALSE;
  priv->connect_error = error_code;
  if (error_code == 0)
    {
      c_async_socket_mark_connected (self);
      g_debug ("connected descriptor %d to %s", priv->fd, priv->connect_target);
      /* TLS from the start: on_connect comes when the handshake has ended
       * (c-async-socket-events.c, handshake_finished), and the deadline covers it. */
      if (c_tls_on_connected (self))
        return;
    }
  else
    g_debug ("connect of descriptor %d to %s: %s", priv->fd, priv->connect_target,
             g_strerror (error_code));
  stop_deadline (priv);
  /* A blocking connect (CSocket) returns the outcome itself. */
  if (priv->events & C_FD_CONNECT && !priv->waiting)
    c_async_socket_notify (self, C_NOTIFY_CONNECT, error_code);
}

void
c_async_socket_connect_finished (CAsyncSocket *self, int error_code)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  priv->connecting = FALSE;
  priv->connect_error = error_code;
  if (priv->eyeballs != NULL)
    c_eyeballs_own_finished (self, error_code); /* one attempt of several */
  else
    c_async_socket_connect_settle (self, error_code);
}

void
c_async_socket_cancel_connect (CAsyncSocket *self)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  stop_deadline (priv);
  c_eyeballs_abandon (self);
  g_clear_pointer (&priv->connect_target, g_free);
}

/* Gives up a connect under way (CSocket's timeout or cancellation, the deadline): the
 * resolution and the other attempts are abandoned and a kernel connect in progress
 * dissolved, so the socket can connect again. */
void
c_async_socket_abandon_connect (CAsyncSocket *self, int error_code)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  char *target = g_steal_pointer (&priv->connect_target);

  c_async_socket_cancel_connect (self);
  priv->connect_target = target;
  if (priv->connecting)
    c_async_socket_dissolve_attempt (priv);
  priv->connecting = FALSE;
  priv->connect_error = error_code;
}

GError *
c_async_socket_connect_failure (CAsyncSocket *self, const char *host)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  const char *target = priv->connect_target ? priv->connect_target : host;
  const GError *reason = priv->close_reason;
  GError *error = NULL;

  if (reason != NULL && priv->connect_expired)
    return g_error_copy (reason); /* it says where already */
  if (reason != NULL)
    /* A failed resolution or TLS handshake: its own error, which says why. */
    return g_error_new (reason->domain, reason->code, "connect to %s: %s", target, reason->message);
  c_set_io_error (&error, priv->connect_error, "connect to %s", target);
  return error;
}

/* ---- The calls --------------------------------------------------------------------------- */

static gboolean
check_can_connect (CAsyncSocket *self, GError **error)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  if (!c_async_socket_check_created (self, "connect", error))
    return FALSE;
  if (priv->listening)
    {
      c_set_socket_error (error, C_SOCKET_ERROR_WRONG_STATE, "connect: the socket is listening");
      return FALSE;
    }
  if (priv->connecting || priv->eyeballs != NULL)
    {
      c_set_socket_error (error, C_SOCKET_ERROR_IN_PROGRESS,
                          "connect: a connect is already in progress");
      return FALSE;
    }
  if (priv->connected && priv->type != C_SOCK_DGRAM)
    {
      c_set_socket_error (error, C_SOCKET_ERROR_WRONG_STATE,
                          "connect: the socket is already connected");
      return FALSE;
    }
  priv->connect_expired = FALSE;
  return TRUE;
}

static gboolean
connect_native (CAsyncSocket *self, const struct sockaddr *address, socklen_t length,
                GError **error)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  g_autofree char *target = c_address_describe (address, length);
  int error_code = 0;

  set_connect_target (priv, target);
  switch (start_connect (self, address, length, &error_code))
    {
      case CONNECT_STARTED:
        start_deadline (self);
        return TRUE;
      case CONNECT_OUTCOME:
        priv->connect_error = error_code;
        c_async_socket_defer (self, C_DEFER_CONNECT);
        c_set_last_error (EWOULDBLOCK);
        return TRUE;
      case CONNECT_REJECTED:
      default:
        c_set_io_error (error, error_code, "connect to %s", target);
        return FALSE;
    }
}

/**
 * c_async_socket_connect:
 * @self: a created socket
 * @host: a numeric IPv4 or IPv6 address, a host name, or a Unix socket path
 * @port: the port (ignored for Unix paths)
 * @error: return location for a #GError
 *
 * Starts connecting (MFC's `Connect`). The outcome arrives in `on_connect`: 0, or the errno
 * of the failure (`ECONNREFUSED`, `ETIMEDOUT`, …), and on success `on_send` follows.
 *
 * A host name is resolved with GIO's resolver without blocking the main loop, and its
 * addresses race as RFC 8305 ("Happy Eyeballs" version 2) says: the IPv6 (AAAA) and IPv4
 * (A) lookups run in parallel; attempts begin as soon as the IPv6 answer is in, or 50 ms
 * after an IPv4 answer that came first; the families alternate, IPv6 first; each attempt
 * gets #CAsyncSocket:connect-attempt-delay (250 ms by default) before the next one starts
 * beside it, and a failed attempt starts the next at once. The first attempt to connect
 * wins and the others are closed; `on_connect` comes once, at the end, with the last
 * attempt's error when all of them failed. A name that does not resolve is `EHOSTUNREACH`,
 * with the resolver's own error, such as %G_RESOLVER_ERROR_NOT_FOUND "cannot resolve
 * no-such-host.invalid: …", from c_async_socket_get_close_error(). Only the addresses the
 * socket's family reaches are looked up: IPv4 ones for an IPv4 socket, both for a
 * dual-stack IPv6 socket (the default of c_async_socket_create()).
 *
 * The first attempt uses the socket's own descriptor; attempts beside it use descriptors
 * of their own, made with the same family and type and given the options set on the
 * socket before the connect (and its bound address, or its port if the application chose
 * one). If the winner is one of those, it takes the place of the socket's descriptor under
 * the same descriptor number (c_async_socket_get_handle() does not change). Where no second
 * descriptor can be had (out of descriptors, or a chosen port the socket does not share:
 * `SO_REUSEADDR`, which c_async_socket_create() sets on stream sockets, lets it), the
 * addresses are tried one at a time.
 *
 * With #CAsyncSocket:connect-timeout set, a connect (by name or address) that has not
 * ended within that time is given up: `on_connect` says `ETIMEDOUT`, and
 * c_async_socket_get_close_error() says after how long.
 *
 * MFC's `Connect` returns FALSE with `WSAEWOULDBLOCK` for a connect in progress; this one
 * returns %TRUE whenever an `on_connect` will follow (c_async_socket_get_last_error() is then
 * `EWOULDBLOCK`, for code ported from MFC), and %FALSE, with no `on_connect`, when the
 * request itself is wrong. On a datagram socket it sets the default peer (by name: the
 * first address of the race's order).
 *
 * Returns: %TRUE if the connect was started
 */
gboolean
c_async_socket_connect (CAsyncSocket *self, const char *host, guint port, GError **error)
{
  CAsyncSocketPrivate *priv;
  struct sockaddr_storage storage;
  socklen_t length;
  g_autoptr (GError) parse_error = NULL;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  priv = c_async_socket_get_private (self);
  if (!check_can_connect (self, error))
    return FALSE;
  if (host == NULL || host[0] == '\0')
    {
      c_set_socket_error (error, C_SOCKET_ERROR_INVALID_ADDRESS, "connect: no address given");
      return FALSE;
    }
  if (!c_address_is_unix_path (host) && !c_check_port (port, FALSE, "connect", error))
    return FALSE;
  g_clear_error (&priv->close_reason); /* an earlier connect's reason (a failed resolution) */
  if (c_address_parse (host, port, priv->family, &storage, &length, &parse_error))
    return connect_native (self, (struct sockaddr *) &storage, length, error);
  if (c_address_is_unix_path (host) || !c_address_is_host_name (host)
      || priv->family == G_SOCKET_FAMILY_UNIX)
    {
      c_set_socket_error (error, C_SOCKET_ERROR_INVALID_ADDRESS, "connect: %s",
                          parse_error->message);
      return FALSE;
    }
  g_free (priv->connect_target);
  priv->connect_target = g_strdup_printf ("%s:%u", host, port);
  forget_failed_attempt (priv);
  c_eyeballs_start (self, host, port);
  start_deadline (self);
  c_set_last_error (EWOULDBLOCK);
  return TRUE;
}

/**
 * c_async_socket_connect_address:
 * @self: a created socket
 * @address: where to connect
 * @error: return location for a #GError
 *
 * Like c_async_socket_connect(), with a #GSocketAddress (MFC's `Connect` with a
 * `SOCKADDR`).
 *
 * Returns: %TRUE if the connect was started
 */
gboolean
c_async_socket_connect_address (CAsyncSocket *self, GSocketAddress *address, GError **error)
{
  struct sockaddr_storage storage;
  socklen_t length;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  g_return_val_if_fail (G_IS_SOCKET_ADDRESS (address), FALSE);
  if (!check_can_connect (self, error)
      || !c_address_from_gobject (address, c_async_socket_get_private (self)->family, &storage,
                                  &length, error))
    return FALSE;
  return connect_native (self, (struct sockaddr *) &storage, length, error);
}
