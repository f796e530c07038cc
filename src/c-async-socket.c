/* c-async-socket.c: CAsyncSocket's type, life cycle and descriptors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <unistd.h>

#include "c-transport.h"

/**
 * CAsyncSocket:
 *
 * A non-blocking socket whose readiness arrives as notifications from the GLib main loop,
 * like MFC's `CAsyncSocket`.
 *
 * An echo connection: the class overrides two notifications.
 *
 * ```c
 * #define MY_TYPE_ECHO (my_echo_get_type ())
 * G_DECLARE_FINAL_TYPE (MyEcho, my_echo, MY, ECHO, CAsyncSocket)
 * struct _MyEcho
 * {
 *   CAsyncSocket parent_instance;
 * };
 * G_DEFINE_FINAL_TYPE (MyEcho, my_echo, C_TYPE_ASYNC_SOCKET)
 *
 * static void
 * my_echo_on_receive (CAsyncSocket *socket, int error_code)
 * {
 *   char buffer[4096];
 *   // one receive per notification: on_receive comes again if data remains
 *   gssize n = c_async_socket_receive (socket, buffer, sizeof buffer, 0, NULL);
 *
 *   if (n > 0)
 *     c_async_socket_send (socket, buffer, (gsize) n, 0, NULL);
 * }
 *
 * static void
 * my_echo_on_close (CAsyncSocket *socket, int error_code)
 * {
 *   c_async_socket_close (socket);
 *   g_object_unref (socket); // the reference the listener's on_accept kept
 * }
 *
 * static void
 * my_echo_class_init (MyEchoClass *klass)
 * {
 *   C_ASYNC_SOCKET_CLASS (klass)->on_receive = my_echo_on_receive;
 *   C_ASYNC_SOCKET_CLASS (klass)->on_close = my_echo_on_close;
 * }
 *
 * static void
 * my_echo_init (MyEcho *self)
 * {
 * }
 * ```
 *
 * Subclass it and override the notifications you need (`on_accept`, `on_receive`,
 * `on_send`, `on_connect`, `on_close`, `on_out_of_band_data`), or connect to the signals of
 * the same meaning. The socket belongs to the #GMainContext that was thread-default when it
 * was constructed (or the one given as #CAsyncSocket:context); notifications arrive there.
 *
 * The callback contract:
 *
 * - a notification is never delivered from inside the API call that caused it, always from
 *   a fresh dispatch of the main context;
 * - if a call fails (returns %FALSE or -1), the notification it would have led to never
 *   comes;
 * - a socket may be closed, or its last reference dropped, inside any of its own
 *   notifications;
 * - after c_async_socket_close() no notification arrives;
 * - a descriptor number reused by a new socket never receives the old socket's events.
 *
 * The notifications follow MFC's WSAAsyncSelect rules: `on_receive` is not delivered again
 * until c_async_socket_receive() is called (even a failing call re-arms it) and is delivered
 * again at once if data remains; `on_accept` likewise with c_async_socket_accept();
 * `on_send` comes once a connection is established and then only after a send would-block;
 * `on_close` comes once, after all received data was read for a graceful close, at once
 * with the errno for a reset, and never after a local close.
 *
 * As with Winsock, a notification can occasionally find nothing to do (an `on_receive`
 * whose receive would block): data that arrived while the previous notification was being
 * handled may already have been read by it.
 */

G_DEFINE_TYPE_WITH_PRIVATE (CAsyncSocket, c_async_socket, G_TYPE_OBJECT)

gint c_async_socket_private_offset;

/* The calling thread's handle map, for c_async_socket_from_handle(). */
static GPrivate handle_map_key = G_PRIVATE_INIT ((GDestroyNotify) g_hash_table_unref);

static GHashTable *
handle_map (gboolean create)
{
  GHashTable *map = g_private_get (&handle_map_key);

  if (map == NULL && create)
    {
      map = g_hash_table_new (NULL, NULL);
      g_private_set (&handle_map_key, map);
    }
  return map;
}

static void
handle_map_remove (CAsyncSocket *self, int fd)
{
  GHashTable *map = handle_map (FALSE);

  if (map != NULL && g_hash_table_lookup (map, GINT_TO_POINTER (fd)) == self)
    g_hash_table_remove (map, GINT_TO_POINTER (fd));
}

static void
ignore_sigpipe_once (void)
{
  static gsize done = 0;

  /* Sends use MSG_NOSIGNAL, but an application may write to an attached descriptor by
   * other means; a dead peer must never kill the process. Only the default action is
   * replaced: an application's own SIGPIPE handler stays. */
  if (g_once_init_enter (&done))
    {
      struct sigaction action;
      if (sigaction (SIGPIPE, NULL, &action) == 0 && action.sa_handler == SIG_DFL)
        {
          action.sa_handler = SIG_IGN;
          sigaction (SIGPIPE, &action, NULL);
        }
      g_once_init_leave (&done, 1);
    }
}

static void
c_async_socket_init (CAsyncSocket *self)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  priv->fd = C_INVALID_SOCKET;
  priv->family = G_SOCKET_FAMILY_INVALID;
  priv->attempt_delay_ms = C_ATTEMPT_DELAY_DEFAULT_MS;
  c_async_socket_records_init (priv);
  ignore_sigpipe_once ();
}

static void
c_async_socket_constructed (GObject *object)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (C_ASYNC_SOCKET (object));

  if (priv->context == NULL)
    priv->context = g_main_context_ref_thread_default ();
  G_OBJECT_CLASS (c_async_socket_parent_class)->constructed (object);
}

static void
c_async_socket_dispose (GObject *object)
{
  c_async_socket_close (C_ASYNC_SOCKET (object));
  G_OBJECT_CLASS (c_async_socket_parent_class)->dispose (object);
}

static void
c_async_socket_finalize (GObject *object)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (C_ASYNC_SOCKET (object));

  g_clear_pointer (&priv->context, g_main_context_unref);
  g_clear_error (&priv->close_reason);
  G_OBJECT_CLASS (c_async_socket_parent_class)->finalize (object);
}

static void
c_async_socket_class_init (CAsyncSocketClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  c_async_socket_private_offset = CAsyncSocket_private_offset;
  object_class->constructed = c_async_socket_constructed;
  object_class->dispose = c_async_socket_dispose;
  object_class->finalize = c_async_socket_finalize;

  c_async_socket_install_properties (object_class);
  c_async_socket_install_signals (klass);
}

/**
 * c_async_socket_new:
 *
 * Makes a socket object without a descriptor; give it one with c_async_socket_create(),
 * c_async_socket_socket(), c_async_socket_attach(), or by passing it to
 * c_async_socket_accept().
 *
 * Returns: (transfer full): a new #CAsyncSocket
 */
CAsyncSocket *
c_async_socket_new (void)
{
  return g_object_new (C_TYPE_ASYNC_SOCKET, NULL);
}

gboolean
c_async_socket_check_created (CAsyncSocket *self, const char *operation, GError **error)
{
  if (c_async_socket_get_private (self)->fd < 0)
    {
      c_set_socket_error (error, C_SOCKET_ERROR_NOT_CREATED, "%s: the socket is not created",
                          operation);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_not_created (CAsyncSocket *self, const char *operation, GError **error)
{
  if (c_async_socket_get_private (self)->fd >= 0)
    {
      c_set_socket_error (error, C_SOCKET_ERROR_ALREADY_CREATED,
                          "%s: the socket already has a descriptor", operation);
      return FALSE;
    }
  return TRUE;
}

void
c_async_socket_defer (CAsyncSocket *self, CDeferred what)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  if (priv->reactor == NULL)
    return;
  priv->deferred |= what;
  c_reactor_defer (priv->reactor, &priv->watch);
}

/* The library closes a connection: remember why, shut it down, and let the main loop
 * deliver on_close with @error_code (never from inside the call that found the problem). */
void
c_async_socket_fail (CAsyncSocket *self, int error_code, GError *reason)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  g_debug ("closing descriptor %d: %s", priv->fd, reason->message);
  g_clear_error (&priv->close_reason);
  priv->close_reason = reason;
  c_async_socket_connection_lost (self, error_code);
  c_set_last_error (error_code);
  c_transport_shutdown (priv, SHUT_RDWR);
  c_async_socket_defer (self, C_DEFER_PROBE);
}

/* Adopts a non-blocking descriptor: registers it with the context's reactor and the
 * thread's handle map. On failure the descriptor is left to the caller. */
gboolean
c_async_socket_take_fd (CAsyncSocket *self, int fd, GSocketFamily family, CSocketType type,
                        int protocol, GError **error)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  CReactor *reactor = c_reactor_get_for_context (priv->context);
  int error_code = errno;

  if (reactor == NULL)
    {
      c_set_io_error (error, error_code, "creating the event reactor");
      return FALSE;
    }
  if (!c_reactor_add (reactor, &priv->watch, fd, self, &c_async_socket_reactor_handlers,
                      &error_code))
    {
      c_reactor_unref (reactor);
      c_set_io_error (error, error_code, "registering descriptor %d with epoll", fd);
      return FALSE;
    }

  priv->reactor = reactor;
  priv->fd = fd;
  priv->family = family;
  priv->type = type;
  priv->protocol = protocol;
  priv->events = C_FD_NONE;
  priv->listening = priv->connecting = priv->connected = FALSE;
  priv->shutdown_pending = FALSE;
  priv->bound_port_fixed = FALSE;
  c_async_socket_events_reset (priv);
  priv->tcp_inq = C_TCP_INQ_UNTRIED;
  priv->deferred = 0;
  priv->connect_error = priv->accept_error = priv->close_error = 0;
  g_clear_error (&priv->close_reason);
  priv->stats = (CSocketStats){ 0 };
  priv->stats.created_time = g_get_real_time ();
  g_hash_table_insert (handle_map (TRUE), GINT_TO_POINTER (fd), self);
  g_debug ("%s: descriptor %d registered (%s, family %d)", G_OBJECT_TYPE_NAME (self), fd,
           type == C_SOCK_STREAM  ? "stream"
           : type == C_SOCK_DGRAM ? "datagram"
                                  : "raw or packet",
           family);
  return TRUE;
}

/* Puts @fd, a connected descriptor of the socket's family and type (one of Happy Eyeballs'
 * attempts, c-async-socket-eyeballs.c), in the place of the socket's own: the socket keeps
 * its descriptor number, handle-map entry and state, and its old descriptor (with the
 * attempt it held, if any) is closed. @fd is closed in any case. */
gboolean
c_async_socket_replace_fd (CAsyncSocket *self, int fd, GError **error)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  int error_code;

  c_reactor_remove (priv->reactor, &priv->watch, priv->fd);
  if (dup3 (fd, priv->fd, O_CLOEXEC) < 0)
    {
      error_code = errno;
      close (fd);
      c_set_io_error (error, error_code, "moving the connection to descriptor %d", priv->fd);
      if (!c_reactor_add (priv->reactor, &priv->watch, priv->fd, self,
                          &c_async_socket_reactor_handlers, &error_code))
        g_warning ("descriptor %d: cannot register it again: %s", priv->fd,
                   g_strerror (error_code));
      return FALSE;
    }
  close (fd);
  priv->tcp_inq = C_TCP_INQ_UNTRIED;
  if (!c_reactor_add (priv->reactor, &priv->watch, priv->fd, self, &c_async_socket_reactor_handlers,
                      &error_code))
    {
      c_set_io_error (error, error_code, "registering descriptor %d with epoll", priv->fd);
      c_async_socket_dissolve_attempt (priv);
      return FALSE;
    }
  /* Work queued for the old registration is still due. */
  if (priv->deferred != 0)
    c_reactor_defer (priv->reactor, &priv->watch);
  return TRUE;
}

static int
open_socket (int family, CSocketType type, int protocol, GError **error)
{
  int fd = socket (family, (int) type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);

  if (fd < 0)
    c_set_io_error (error, errno, "creating %s socket",
                    family == AF_INET6  ? "an IPv6"
                    : family == AF_UNIX ? "a Unix"
                                        : "an IPv4");
  return fd;
}

static gboolean
adopt_new_fd (CAsyncSocket *self, int fd, GSocketFamily family, CSocketType type, int protocol,
              CSocketEvents events, GError **error)
{
  if (!c_async_socket_take_fd (self, fd, family, type, protocol, error))
    {
      close (fd);
      return FALSE;
    }
  if (!c_async_socket_async_select (self, events, error))
    {
      c_async_socket_close (self);
      return FALSE;
    }
  return TRUE;
}

/**
 * c_async_socket_socket:
 * @self: a socket without a descriptor
 * @type: stream, datagram, raw or sequenced packets
 * @events: the notifications wanted (#C_FD_ALL is MFC's default)
 * @protocol: the protocol (0 for the type's default; e.g. `IPPROTO_ICMP` for raw sockets)
 * @family: %G_SOCKET_FAMILY_IPV4, %G_SOCKET_FAMILY_IPV6 or %G_SOCKET_FAMILY_UNIX
 * @error: return location for a #GError
 *
 * Makes the descriptor without binding it (MFC's `Socket`).
 *
 * Returns: %TRUE on success
 */
gboolean
c_async_socket_socket (CAsyncSocket *self, CSocketType type, CSocketEvents events, int protocol,
                       GSocketFamily family, GError **error)
{
  return c_async_socket_create_ex (self, family, type, protocol, events, error);
}

/**
 * c_async_socket_create_ex:
 * @self: a socket without a descriptor
 * @family: %G_SOCKET_FAMILY_IPV4, %G_SOCKET_FAMILY_IPV6 or %G_SOCKET_FAMILY_UNIX
 * @type: stream, datagram, raw or sequenced packets
 * @protocol: the protocol, 0 for the type's default
 * @events: the notifications wanted
 * @error: return location for a #GError
 *
 * Makes the descriptor of the given family, type and protocol without binding it (MFC's
 * `CreateEx`, whose address-info argument carries the same three values).
 *
 * Returns: %TRUE on success
 */
gboolean
c_async_socket_create_ex (CAsyncSocket *self, GSocketFamily family, CSocketType type, int protocol,
                          CSocketEvents events, GError **error)
{
  int fd;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  if (!check_not_created (self, "creating a socket", error))
    return FALSE;
  if (family != G_SOCKET_FAMILY_IPV4 && family != G_SOCKET_FAMILY_IPV6
      && family != G_SOCKET_FAMILY_UNIX)
    {
      c_set_socket_error (error, C_SOCKET_ERROR_WRONG_STATE,
                          "creating a socket: unsupported address family %d", family);
      return FALSE;
    }
  fd = open_socket (family, type, protocol, error);
  if (fd < 0)
    return FALSE;
  return adopt_new_fd (self, fd, family, type, protocol, events, error);
}

static int
open_for_address (int family, CSocketType type, gboolean dual_stack, GError **error)
{
  int fd = open_socket (family, type, 0, error);
  int off = 0;

  /* A wildcard IPv6 socket serves IPv4 too, whatever the system's bindv6only default. */
  if (fd >= 0 && dual_stack)
    setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  return fd;
}

/**
 * c_async_socket_create:
 * @self: a socket without a descriptor
 * @port: the port to bind, 0 for any
 * @type: %C_SOCK_STREAM or %C_SOCK_DGRAM (MFC's default is stream)
 * @events: the notifications wanted (MFC's default is #C_FD_ALL)
 * @address: (nullable): a numeric IPv4 or IPv6 address or a Unix socket path to bind;
 *   %NULL binds the wildcard address of a dual-stack IPv6 socket, which serves IPv4 too
 * @error: return location for a #GError
 *
 * Makes the descriptor, selects @events and binds it, as MFC's `Create` does. On a bind
 * failure the descriptor is closed and the bind error reported. Stream sockets get
 * `SO_REUSEADDR`, so a restarted server can bind while old connections sit in TIME_WAIT.
 *
 * Returns: %TRUE on success
 */
gboolean
c_async_socket_create (CAsyncSocket *self, guint port, CSocketType type, CSocketEvents events,
                       const char *address, GError **error)
{
  struct sockaddr_storage storage;
  socklen_t length;
  gboolean wildcard = address == NULL || address[0] == '\0';
  int fd, family, on = 1;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  if (!check_not_created (self, "creating a socket", error)
      || !c_check_port (port, TRUE, "creating a socket", error)
      || !c_address_parse (address, port, G_SOCKET_FAMILY_INVALID, &storage, &length, error))
    return FALSE;

  family = storage.ss_family;
  fd = open_for_address (family, type, wildcard || family == AF_INET6, error);
  if (fd < 0 && wildcard && (errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT))
    {
      /* No IPv6 on this machine: fall back to IPv4's wildcard. */
      g_clear_error (error);
      c_address_parse (NULL, port, G_SOCKET_FAMILY_IPV4, &storage, &length, NULL);
      family = AF_INET;
      fd = open_for_address (family, type, FALSE, error);
    }
  if (fd < 0)
    return FALSE;
  if (type == C_SOCK_STREAM && family != AF_UNIX)
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (!adopt_new_fd (self, fd, (GSocketFamily) family, type, 0, C_FD_NONE, error))
    return FALSE;
  if (!c_async_socket_bind_address_native (self, (struct sockaddr *) &storage, length, error)
      || !c_async_socket_async_select (self, events, error))
    {
      c_async_socket_close (self);
      return FALSE;
    }
  return TRUE;
}

static gboolean
query_int_option (int fd, int level, int option, int *value)
{
  socklen_t length = sizeof *value;
  return getsockopt (fd, level, option, value, &length) == 0;
}

/**
 * c_async_socket_attach:
 * @self: a socket without a descriptor
 * @handle: an open socket descriptor
 * @events: the notifications wanted
 * @error: return location for a #GError
 *
 * Adopts an existing socket descriptor (MFC's `Attach`): makes it non-blocking, registers
 * it with this socket's main context and the calling thread's handle map, and selects
 * @events. With c_async_socket_detach() it moves a connection between threads.
 *
 * Returns: %TRUE on success; on failure @handle is left open and untouched
 */
gboolean
c_async_socket_attach (CAsyncSocket *self, int handle, CSocketEvents events, GError **error)
{
  CAsyncSocketPrivate *priv;
  struct sockaddr_storage storage;
  socklen_t length = sizeof storage;
  int type, protocol = 0, listening = 0, flags;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  priv = c_async_socket_get_private (self);
  if (!check_not_created (self, "attaching a descriptor", error))
    return FALSE;
  if (handle < 0 || !query_int_option (handle, SOL_SOCKET, SO_TYPE, &type)
      || getsockname (handle, (struct sockaddr *) &storage, &length) < 0)
    {
      c_set_io_error (error, handle < 0 ? EBADF : errno, "attaching descriptor %d", handle);
      return FALSE;
    }
  query_int_option (handle, SOL_SOCKET, SO_PROTOCOL, &protocol);
  query_int_option (handle, SOL_SOCKET, SO_ACCEPTCONN, &listening);
  flags = fcntl (handle, F_GETFL);
  if (flags < 0 || fcntl (handle, F_SETFL, flags | O_NONBLOCK) < 0)
    {
      c_set_io_error (error, errno, "making descriptor %d non-blocking", handle);
      return FALSE;
    }
  if (!c_async_socket_take_fd (self, handle, (GSocketFamily) storage.ss_family, (CSocketType) type,
                               protocol, error))
    return FALSE;

  priv->listening = listening != 0;
  length = sizeof storage;
  if (!priv->listening && getpeername (handle, (struct sockaddr *) &storage, &length) == 0)
    c_async_socket_mark_connected (self);
  if (!c_async_socket_async_select (self, events, error))
    {
      c_async_socket_detach (self);
      return FALSE;
    }
  return TRUE;
}

/* Unregisters the descriptor and resets the object to "no descriptor"; returns the fd. */
static int
release_fd (CAsyncSocket *self)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  int fd = priv->fd;

  if (fd < 0)
    return C_INVALID_SOCKET;
  c_async_socket_cancel_connect (self);
  c_async_socket_cancel_backoff (self);
  /* What the kernel takes of the write queue now still reaches the peer. */
  c_async_socket_records_flush_now (self);
  c_async_socket_records_reset (self);
  c_transport_set (priv, NULL);
  c_reactor_remove (priv->reactor, &priv->watch, fd);
  g_clear_pointer (&priv->reactor, c_reactor_unref);
  handle_map_remove (self, fd);
  priv->fd = C_INVALID_SOCKET;
  priv->incarnation++;
  priv->events = C_FD_NONE;
  priv->deferred = 0;
  priv->listening = priv->connecting = priv->connected = FALSE;
  if (priv->released != NULL)
    {
      void (*released) (CAsyncSocket *, gpointer) = priv->released;

      priv->released = NULL;
      released (self, priv->released_data);
    }
  return fd;
}

/**
 * c_async_socket_detach:
 * @self: a socket
 *
 * Stops notifications and gives up the descriptor without closing it (MFC's `Detach`).
 *
 * Returns: the descriptor, or %C_INVALID_SOCKET if there was none
 */
int
c_async_socket_detach (CAsyncSocket *self)
{
  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), C_INVALID_SOCKET);
  return release_fd (self);
}

/**
 * c_async_socket_close:
 * @self: a socket
 *
 * Closes the descriptor. Harmless when there is none. No notification arrives afterwards,
 * `on_close` included. The object can be given a new descriptor.
 */
void
c_async_socket_close (CAsyncSocket *self)
{
  int fd;

  g_return_if_fail (C_IS_ASYNC_SOCKET (self));
  fd = release_fd (self);
  if (fd >= 0)
    {
      close (fd);
      g_debug ("%s: closed descriptor %d", G_OBJECT_TYPE_NAME (self), fd);
    }
}

/**
 * c_async_socket_from_handle:
 * @handle: a descriptor
 *
 * Looks up the socket object that owns @handle in the calling thread's map (MFC's
 * `FromHandle`). Never makes one.
 *
 * Returns: (transfer none) (nullable): the socket, or %NULL
 */
CAsyncSocket *
c_async_socket_from_handle (int handle)
{
  GHashTable *map = handle_map (FALSE);

  return map != NULL ? g_hash_table_lookup (map, GINT_TO_POINTER (handle)) : NULL;
}

/**
 * c_async_socket_get_handle:
 * @self: a socket
 *
 * The socket's descriptor (MFC's `m_hSocket`).
 *
 * Returns: the descriptor (MFC's `m_hSocket`), or %C_INVALID_SOCKET
 */
int
c_async_socket_get_handle (CAsyncSocket *self)
{
  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), C_INVALID_SOCKET);
  return c_async_socket_get_private (self)->fd;
}

/**
 * c_async_socket_async_select:
 * @self: a socket
 * @events: the notifications wanted; replaces the whole set, 0 disables them all
 * @error: return location for a #GError
 *
 * Chooses the notifications (MFC's `AsyncSelect`). A condition that already holds when
 * its notification is turned on (data waiting, a connection pending, room to send on a
 * connected socket) is notified at once, from the main loop.
 *
 * Returns: %TRUE on success
 */
gboolean
c_async_socket_async_select (CAsyncSocket *self, CSocketEvents events, GError **error)
{
  CAsyncSocketPrivate *priv;
  CSocketEvents added;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  priv = c_async_socket_get_private (self);
  if (!c_async_socket_check_created (self, "selecting events", error))
    return FALSE;
  if ((events & ~C_FD_ALL) != 0)
    {
      c_set_socket_error (error, C_SOCKET_ERROR_WRONG_STATE,
                          "selecting events: unknown event bits 0x%x", events & ~C_FD_ALL);
      return FALSE;
    }
  added = events & ~priv->events;
  priv->events = events;
  if (added & C_FD_WRITE && (priv->connected || priv->type != C_SOCK_STREAM) && !priv->listening)
    c_async_socket_want_write (priv);
  if (added != 0)
    c_async_socket_defer (self, C_DEFER_PROBE);
  return TRUE;
}

/**
 * c_async_socket_get_events:
 * @self: a socket
 *
 * The notifications selected with c_async_socket_async_select().
 *
 * Returns: the notifications selected
 */
CSocketEvents
c_async_socket_get_events (CAsyncSocket *self)
{
  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), C_FD_NONE);
  return c_async_socket_get_private (self)->events;
}

typedef struct
{
  CAsyncSocket *socket;
  GSourceFunc function;
  gpointer data;
  GDestroyNotify notify;
} Invocation;

static gboolean
invocation_run (gpointer data)
{
  Invocation *invocation = data;
  return invocation->function (invocation->data);
}

static void
invocation_free (gpointer data)
{
  Invocation *invocation = data;

  if (invocation->notify != NULL)
    invocation->notify (invocation->data);
  g_object_unref (invocation->socket);
  g_free (invocation);
}

/**
 * c_async_socket_invoke:
 * @self: a socket
 * @function: (scope notified) (closure data): what to run
 * @data: its argument
 * @notify: (nullable): frees @data afterwards
 *
 * Runs @function in the thread whose main context delivers @self's notifications (a
 * #CSocketService connection's worker thread, say): at once when the caller is that
 * context's owner, else from that context's next iteration, as g_main_context_invoke_full()
 * does. A socket's calls belong to its own thread; this is how another thread makes one.
 * The socket is kept alive until @function has run; @function runs again while it returns
 * %G_SOURCE_CONTINUE.
 */
void
c_async_socket_invoke (CAsyncSocket *self, GSourceFunc function, gpointer data,
                       GDestroyNotify notify)
{
  Invocation *invocation;

  g_return_if_fail (C_IS_ASYNC_SOCKET (self));
  g_return_if_fail (function != NULL);
  invocation = g_new (Invocation, 1);
  *invocation = (Invocation){ g_object_ref (self), function, data, notify };
  g_main_context_invoke_full (c_async_socket_get_private (self)->context, G_PRIORITY_DEFAULT,
                              invocation_run, invocation, invocation_free);
}
