/* c-socket-service.c: CSocketService, a server that accepts and owns its connections
 *
 * The service's own state (addresses, limits, counters, the stop) lives here; its threads
 * and their listeners in c-socket-service-worker.c. docs/service.md has the design.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "c-marshal.h"
#include "c-socket-service-private.h"

/**
 * CSocketService:
 *
 * A server: it listens on its addresses, accepts each connection as an object of the
 * application's #CAsyncSocket (or #CSocket) subclass, and **holds it until it closes**, so
 * the application keeps no reference of its own.
 *
 * ```c
 * static gboolean
 * serve_echo (GType echo_type, guint threads, CSocketService **out, GError **error)
 * {
 *   CSocketService *service = c_socket_service_new (echo_type);
 *
 *   c_socket_service_set_threads (service, threads); // 1: the caller's context
 *   c_socket_service_add_inet_port (service, NULL, 0); // IPv6 + IPv4, any port
 *   if (!c_socket_service_start (service, error))
 *     {
 *       g_object_unref (service);
 *       return FALSE;
 *     }
 *   g_print ("port %u\n", c_socket_service_get_port (service, 0));
 *   *out = service;
 *   return TRUE;
 * }
 * ```
 *
 * A connection is released when its descriptor goes: when the application closes it
 * (usually in `on_close`), after an `on_close` for a reset or other error (the service
 * closes it if the handler did not), or when the service stops; #CSocketService::incoming sees each new
 * connection first and may refuse it. With c_socket_service_set_max_connections() the
 * service pauses accepting (or refuses) beyond a limit.
 *
 * With c_socket_service_set_threads() above 1, the service runs that many threads, each
 * with its own #GMainContext; every thread accepts on its own `SO_REUSEPORT` listener, so
 * the kernel spreads the connections, and a connection lives on the thread that accepted
 * it: its notifications, and #CSocketService::incoming, arrive there. Where `SO_REUSEPORT`
 * cannot serve (a Unix path) or after c_socket_service_set_hand_over(), the caller's context
 * accepts and hands each connection to the thread with the fewest. Use
 * c_async_socket_invoke() to act on a connection from another thread.
 *
 * c_socket_service_stop() stops accepting, lets the connections finish until a deadline,
 * then closes what is left and says how many that was.
 */

enum
{
  SIGNAL_INCOMING,
  SIGNAL_CONFIGURE_LISTENER,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_TYPE_WITH_PRIVATE (CSocketService, c_socket_service, G_TYPE_OBJECT)

static CSocketServiceStats *
stats_copy (const CSocketServiceStats *stats)
{
  return g_memdup2 (stats, sizeof *stats);
}

G_DEFINE_BOXED_TYPE (CSocketServiceStats, c_socket_service_stats, stats_copy, g_free)

CSocketServicePrivate *
c_socket_service_get_priv (CSocketService *self)
{
  return c_socket_service_get_instance_private (self);
}

static gboolean
incoming_accumulator (GSignalInvocationHint *hint, GValue *result, const GValue *handler_result,
                      gpointer data)
{
  gboolean keep = g_value_get_boolean (handler_result);

  g_value_set_boolean (result, keep);
  return keep; /* the first handler that refuses ends the emission */
}

static gboolean
c_socket_service_real_incoming (CSocketService *self, CAsyncSocket *connection)
{
  return TRUE;
}

static void
c_socket_service_dispose (GObject *object)
{
  CSocketService *self = C_SOCKET_SERVICE (object);

  c_socket_service_shut_down (self);
  G_OBJECT_CLASS (c_socket_service_parent_class)->dispose (object);
}

static void
c_socket_service_finalize (GObject *object)
{
  CSocketServicePrivate *priv = c_socket_service_get_priv (C_SOCKET_SERVICE (object));

  if (priv->factory_notify != NULL)
    priv->factory_notify (priv->factory_data);
  g_ptr_array_unref (priv->addresses);
  g_mutex_clear (&priv->lock);
  g_clear_pointer (&priv->context, g_main_context_unref);
  G_OBJECT_CLASS (c_socket_service_parent_class)->finalize (object);
}

static void
c_socket_service_class_init (CSocketServiceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = c_socket_service_dispose;
  object_class->finalize = c_socket_service_finalize;
  klass->incoming = c_socket_service_real_incoming;

  /**
   * CSocketService::incoming:
   * @self: the service
   * @connection: the new connection, already connected
   *
   * A connection was accepted. Emitted in the connection's own thread, before any of its
   * notifications. Return %FALSE to refuse it: it is closed and not kept (the first
   * handler that refuses ends the emission). Class handler: `incoming`, which keeps every
   * connection.
   *
   * Returns: %TRUE to keep the connection
   */
  signals[SIGNAL_INCOMING]
      = g_signal_new ("incoming", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                      G_STRUCT_OFFSET (CSocketServiceClass, incoming), incoming_accumulator, NULL,
                      c_marshal_BOOLEAN__OBJECT, G_TYPE_BOOLEAN, 1, C_TYPE_ASYNC_SOCKET);
  g_signal_set_va_marshaller (signals[SIGNAL_INCOMING], G_TYPE_FROM_CLASS (klass),
                              c_marshal_BOOLEAN__OBJECTv);

  /**
   * CSocketService::configure-listener:
   * @self: the service
   * @listener: a listener, created and bound, not yet listening
   *
   * Emitted for every listener the service makes (one per address, per thread with
   * `SO_REUSEPORT`), in the listener's thread, before it listens. Accepted connections
   * inherit what is set on their listener, as in MFC: c_async_socket_set_record_mode(),
   * c_async_socket_set_tls(), water marks, timeouts. Errors here are the application's to
   * report; the service listens regardless. Class handler: `configure_listener`, which does
   * nothing.
   */
  signals[SIGNAL_CONFIGURE_LISTENER]
      = g_signal_new ("configure-listener", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                      G_STRUCT_OFFSET (CSocketServiceClass, configure_listener), NULL, NULL, NULL,
                      G_TYPE_NONE, 1, C_TYPE_ASYNC_SOCKET);
}

static void
c_socket_service_init (CSocketService *self)
{
  CSocketServicePrivate *priv = c_socket_service_get_priv (self);

  priv->connection_type = C_TYPE_ASYNC_SOCKET;
  priv->n_threads = 1;
  priv->limit = C_SERVICE_LIMIT_PAUSE;
  priv->addresses = g_ptr_array_new_with_free_func ((GDestroyNotify) c_service_address_free);
  g_mutex_init (&priv->lock);
}

/**
 * c_socket_service_new:
 * @connection_type: the #GType of the connections: #C_TYPE_ASYNC_SOCKET, #C_TYPE_SOCKET or
 *   a subclass of either
 *
 * Makes a service that will accept connections as objects of @connection_type (made with
 * g_object_new() and no properties; c_socket_service_set_connection_factory() makes them
 * otherwise). Add addresses, then c_socket_service_start().
 *
 * Returns: (transfer full): the new service
 */
CSocketService *
c_socket_service_new (GType connection_type)
{
  CSocketService *self;

  g_return_val_if_fail (g_type_is_a (connection_type, C_TYPE_ASYNC_SOCKET), NULL);
  self = g_object_new (C_TYPE_SOCKET_SERVICE, NULL);
  c_socket_service_get_priv (self)->connection_type = connection_type;
  return self;
}

static gboolean
check_not_started (CSocketService *self, const char *what)
{
  if (c_socket_service_get_priv (self)->state == C_SERVICE_IDLE)
    return TRUE;
  g_critical ("%s: the service has already started", what);
  return FALSE;
}

/**
 * c_socket_service_set_connection_factory:
 * @self: a service not started yet
 * @factory: (scope notified) (closure user_data): makes each connection's object
 * @user_data: its data
 * @notify: (nullable): frees @user_data with the service
 *
 * Makes each connection's object with @factory instead of g_object_new() of the
 * connection type, in the thread that will own it.
 */
void
c_socket_service_set_connection_factory (CSocketService *self, CSocketServiceFactory factory,
                                         gpointer user_data, GDestroyNotify notify)
{
  CSocketServicePrivate *priv;

  g_return_if_fail (C_IS_SOCKET_SERVICE (self));
  if (!check_not_started (self, "set_connection_factory"))
    return;
  priv = c_socket_service_get_priv (self);
  if (priv->factory_notify != NULL)
    priv->factory_notify (priv->factory_data);
  priv->factory = factory;
  priv->factory_data = user_data;
  priv->factory_notify = notify;
}

/**
 * c_socket_service_set_threads:
 * @self: a service not started yet
 * @threads: how many threads own connections; 1 (the default): none of its own, the
 *   connections live on the context that was thread-default at c_socket_service_start()
 *
 * Sets how many threads the service runs, each with its own main context.
 */
void
c_socket_service_set_threads (CSocketService *self, guint threads)
{
  g_return_if_fail (C_IS_SOCKET_SERVICE (self));
  g_return_if_fail (threads >= 1 && threads <= C_SERVICE_MAX_THREADS);
  if (check_not_started (self, "set_threads"))
    c_socket_service_get_priv (self)->n_threads = threads;
}

/**
 * c_socket_service_get_threads:
 * @self: a service
 *
 * Tells how many threads the service runs (set with c_socket_service_set_threads()).
 *
 * Returns: how many threads own connections (1: the caller's context)
 */
guint
c_socket_service_get_threads (CSocketService *self)
{
  g_return_val_if_fail (C_IS_SOCKET_SERVICE (self), 0);
  return c_socket_service_get_priv (self)->n_threads;
}

/**
 * c_socket_service_set_hand_over:
 * @self: a service not started yet
 * @hand_over: %TRUE: one listener on the caller's context accepts and hands each
 *   connection to the thread with the fewest, instead of a `SO_REUSEPORT` listener per
 *   thread
 *
 * Chooses how the threads get their connections (only matters with more than one).
 */
void
c_socket_service_set_hand_over (CSocketService *self, gboolean hand_over)
{
  g_return_if_fail (C_IS_SOCKET_SERVICE (self));
  if (check_not_started (self, "set_hand_over"))
    c_socket_service_get_priv (self)->hand_over = hand_over;
}

/**
 * c_socket_service_set_max_connections:
 * @self: a service
 * @max: the most connections held at once; 0: no limit
 * @limit: what happens beyond it
 *
 * Limits the connections the service holds. With %C_SERVICE_LIMIT_PAUSE, new connections
 * wait in the kernel's backlog until one closes. Can be changed while running.
 */
void
c_socket_service_set_max_connections (CSocketService *self, guint max, CServiceLimit limit)
{
  CSocketServicePrivate *priv;

  g_return_if_fail (C_IS_SOCKET_SERVICE (self));
  priv = c_socket_service_get_priv (self);
  g_atomic_int_set (&priv->limit, (gint) limit);
  g_atomic_int_set (&priv->max_connections, (gint) MIN (max, G_MAXINT));
  c_service_resume_paused (self);
}

static void
add_address (CSocketService *self, CServiceAddress *address)
{
  if (check_not_started (self, "add_address"))
    g_ptr_array_add (c_socket_service_get_priv (self)->addresses, address);
  else
    c_service_address_free (address);
}

/**
 * c_socket_service_add_inet_port:
 * @self: a service not started yet
 * @address: (nullable): a numeric address to listen on (`127.0.0.1`, `::1`); %NULL: every
 *   address, IPv6 and IPv4 on one dual-stack socket
 * @port: the port; 0: one the kernel chooses (c_socket_service_get_port() tells)
 *
 * Adds a TCP address to listen on. It is bound by c_socket_service_start(), which
 * reports what fails.
 */
void
c_socket_service_add_inet_port (CSocketService *self, const char *address, guint port)
{
  CServiceAddress *entry;

  g_return_if_fail (C_IS_SOCKET_SERVICE (self));
  g_return_if_fail (port <= 65535);
  entry = g_new0 (CServiceAddress, 1);
  entry->host = g_strdup (address);
  entry->port = port;
  add_address (self, entry);
}

/**
 * c_socket_service_add_unix_path:
 * @self: a service not started yet
 * @path: the socket's file name (a stale file there is not removed)
 *
 * Adds a Unix-domain stream address to listen on. With threads, connections on it are
 * handed over from the caller's context.
 */
void
c_socket_service_add_unix_path (CSocketService *self, const char *path)
{
  CServiceAddress *entry;

  g_return_if_fail (C_IS_SOCKET_SERVICE (self));
  g_return_if_fail (path != NULL);
  entry = g_new0 (CServiceAddress, 1);
  entry->path = g_strdup (path);
  add_address (self, entry);
}

void
c_service_address_free (CServiceAddress *address)
{
  g_free (address->host);
  g_free (address->path);
  g_free (address);
}

/**
 * c_socket_service_start:
 * @self: a service with at least one address
 * @error: return location for a #GError
 *
 * Binds every address, starts the threads and begins accepting. On failure nothing is
 * left listening and the error names the address ("listen on 127.0.0.1:80: Permission
 * denied").
 *
 * Returns: %TRUE when the service accepts on every address
 */
gboolean
c_socket_service_start (CSocketService *self, GError **error)
{
  CSocketServicePrivate *priv;

  g_return_val_if_fail (C_IS_SOCKET_SERVICE (self), FALSE);
  priv = c_socket_service_get_priv (self);
  if (priv->state != C_SERVICE_IDLE)
    {
      g_set_error (error, C_SOCKET_ERROR, C_SOCKET_ERROR_WRONG_STATE,
                   "start: the service has already been started");
      return FALSE;
    }
  if (priv->addresses->len == 0)
    {
      g_set_error (error, C_SOCKET_ERROR, C_SOCKET_ERROR_WRONG_STATE,
                   "start: the service has no address to listen on");
      return FALSE;
    }
  priv->context = g_main_context_ref_thread_default ();
  if (!c_service_workers_start (self, error))
    {
      c_socket_service_shut_down (self);
      priv->state = C_SERVICE_STOPPED;
      return FALSE;
    }
  priv->state = C_SERVICE_RUNNING;
  return TRUE;
}

/**
 * c_socket_service_get_port:
 * @self: a started service
 * @index: which address, in the order they were added
 *
 * Tells which port an address listens on: the way to learn the port the kernel chose
 * for port 0.
 *
 * Returns: the port the address listens on (the kernel's choice for port 0), 0 for a Unix
 *   path or an index out of range
 */
guint
c_socket_service_get_port (CSocketService *self, guint index)
{
  CSocketServicePrivate *priv;

  g_return_val_if_fail (C_IS_SOCKET_SERVICE (self), 0);
  priv = c_socket_service_get_priv (self);
  if (index >= priv->addresses->len)
    return 0;
  return ((CServiceAddress *) g_ptr_array_index (priv->addresses, index))->bound_port;
}

/**
 * c_socket_service_is_active:
 * @self: a service
 *
 * Tells whether the service accepts connections.
 *
 * Returns: whether the service accepts connections (started, and not stopping)
 */
gboolean
c_socket_service_is_active (CSocketService *self)
{
  g_return_val_if_fail (C_IS_SOCKET_SERVICE (self), FALSE);
  return c_socket_service_get_priv (self)->state == C_SERVICE_RUNNING;
}

void
c_service_emit_configure_listener (CSocketService *self, CAsyncSocket *listener)
{
  g_signal_emit (self, signals[SIGNAL_CONFIGURE_LISTENER], 0, listener);
}

/* Emits incoming for a connection just accepted on its own thread; FALSE: refused. */
gboolean
c_service_emit_incoming (CSocketService *self, CAsyncSocket *connection)
{
  gboolean keep = TRUE;

  /* The class handler is the vfunc: with no handler connected, calling it is the emission. */
  if (g_signal_has_handler_pending (self, signals[SIGNAL_INCOMING], 0, TRUE))
    g_signal_emit (self, signals[SIGNAL_INCOMING], 0, connection, &keep);
  else
    {
      CSocketServiceClass *klass = C_SOCKET_SERVICE_GET_CLASS (self);

      keep = klass->incoming == NULL || klass->incoming (self, connection);
    }
  return keep && c_async_socket_get_handle (connection) != C_INVALID_SOCKET;
}

/* A connection is counted from its accept (reserve) to its release (unreserve), so that
 * the limit holds while a handed-over descriptor travels to its thread. */
void
c_service_reserve (CSocketService *self)
{
  g_atomic_int_inc (&c_socket_service_get_priv (self)->connections_now);
}

void
c_service_unreserve (CSocketService *self)
{
  if (g_atomic_int_dec_and_test (&c_socket_service_get_priv (self)->connections_now))
    c_service_stop_check (self);
  c_service_resume_paused (self);
}

/* Called when a held connection is released, in its thread. */
void
c_service_connection_released (CSocketService *self, const CSocketStats *stats)
{
  CSocketServicePrivate *priv = c_socket_service_get_priv (self);

  g_mutex_lock (&priv->lock);
  priv->closed.bytes_sent += stats->bytes_sent;
  priv->closed.bytes_received += stats->bytes_received;
  priv->closed.records_sent += stats->records_sent;
  priv->closed.records_received += stats->records_received;
  g_mutex_unlock (&priv->lock);
  c_service_unreserve (self);
}

gboolean
c_service_is_closing (CSocketService *self)
{
  return g_atomic_int_get (&c_socket_service_get_priv (self)->closing);
}

/* What to do with a connection about to be accepted: take it, pause, or refuse it. */
CServiceAdmission
c_service_admit (CSocketService *self)
{
  CSocketServicePrivate *priv = c_socket_service_get_priv (self);
  gint max = g_atomic_int_get (&priv->max_connections);

  if (max == 0 || g_atomic_int_get (&priv->connections_now) < max)
    return C_SERVICE_ADMIT;
  return g_atomic_int_get (&priv->limit) == C_SERVICE_LIMIT_REFUSE ? C_SERVICE_REFUSE
                                                                   : C_SERVICE_PAUSE;
}

void
c_service_count_refused (CSocketService *self)
{
  CSocketServicePrivate *priv = c_socket_service_get_priv (self);

  g_mutex_lock (&priv->lock);
  priv->refused++;
  g_mutex_unlock (&priv->lock);
}

void
c_service_count_kept (CSocketService *self)
{
  CSocketServicePrivate *priv = c_socket_service_get_priv (self);

  g_mutex_lock (&priv->lock);
  priv->connections_total++;
  g_mutex_unlock (&priv->lock);
}

/**
 * c_socket_service_get_stats:
 * @self: a service
 * @stats: (out caller-allocates): where to put the accounting
 *
 * Sums the service's accounting over its threads: the connections closed so far and
 * those open now (read on their own threads, so the call waits for each thread's next
 * iteration).
 */
void
c_socket_service_get_stats (CSocketService *self, CSocketServiceStats *stats)
{
  CSocketServicePrivate *priv;
  CSocketStats live = { 0 };

  g_return_if_fail (C_IS_SOCKET_SERVICE (self));
  g_return_if_fail (stats != NULL);
  priv = c_socket_service_get_priv (self);
  c_service_workers_sum_live (self, &live);
  g_mutex_lock (&priv->lock);
  *stats = (CSocketServiceStats){
    .connections_now = (guint) g_atomic_int_get (&priv->connections_now),
    .connections_total = priv->connections_total,
    .refused = priv->refused,
    .bytes_sent = priv->closed.bytes_sent + live.bytes_sent,
    .bytes_received = priv->closed.bytes_received + live.bytes_received,
    .records_sent = priv->closed.records_sent + live.records_sent,
    .records_received = priv->closed.records_received + live.records_received,
  };
  g_mutex_unlock (&priv->lock);
}

/* The stop: listeners closed at once, connections left to finish until the deadline. */

static void
finish_stop (CSocketService *self, guint closed)
{
  CSocketServicePrivate *priv = c_socket_service_get_priv (self);
  GTask *task = g_steal_pointer (&priv->stop_task);

  if (priv->stop_cancel_id != 0)
    {
      g_cancellable_disconnect (g_task_get_cancellable (task), priv->stop_cancel_id);
      priv->stop_cancel_id = 0;
    }
  if (priv->stop_timer != NULL)
    {
      g_source_destroy (priv->stop_timer);
      g_clear_pointer (&priv->stop_timer, g_source_unref);
    }
  c_service_workers_join (self);
  priv->state = C_SERVICE_STOPPED;
  if (task != NULL)
    {
      g_task_return_int (task, (gssize) closed);
      g_object_unref (task);
    }
}

/* A cancelled stop ends as at its deadline: the timer fires at once. */
static void
stop_cancelled (GCancellable *cancellable, gpointer timer)
{
  g_source_set_ready_time (timer, 0);
}

static gboolean
stop_deadline (gpointer data)
{
  CSocketService *self = data;

  finish_stop (self, c_service_workers_close_all (self));
  return G_SOURCE_REMOVE;
}

static gboolean
stop_when_empty (gpointer data)
{
  CSocketService *self = data;
  CSocketServicePrivate *priv = c_socket_service_get_priv (self);

  if (priv->stop_task != NULL && g_atomic_int_get (&priv->connections_now) == 0)
    finish_stop (self, 0);
  return G_SOURCE_REMOVE;
}

/* The last connection went: if the service is stopping, the stop ends (on the service's
 * own context). */
void
c_service_stop_check (CSocketService *self)
{
  CSocketServicePrivate *priv = c_socket_service_get_priv (self);
  GSource *idle;

  if (!g_atomic_int_get (&priv->stopping))
    return;
  /* Always from a later iteration: the deadline's own closes must not end the stop first. */
  idle = g_idle_source_new ();
  g_source_set_callback (idle, stop_when_empty, g_object_ref (self), g_object_unref);
  g_source_attach (idle, priv->context);
  g_source_unref (idle);
}

/**
 * c_socket_service_stop:
 * @self: a started service
 * @deadline_ms: how long the connections may take to finish
 * @cancellable: (nullable): ends the wait early, as the deadline does
 * @callback: (scope async) (closure user_data): called when every connection is gone
 * @user_data: its data
 *
 * Stops accepting at once (the listeners are closed), lets the open connections finish
 * until @deadline_ms, then closes those left and stops the threads.
 * c_socket_service_stop_finish() tells how many were closed at the deadline. Call it from
 * the context the service was started on; the callback comes there.
 */
void
c_socket_service_stop (CSocketService *self, guint deadline_ms, GCancellable *cancellable,
                       GAsyncReadyCallback callback, gpointer user_data)
{
  CSocketServicePrivate *priv;
  GTask *task;

  g_return_if_fail (C_IS_SOCKET_SERVICE (self));
  priv = c_socket_service_get_priv (self);
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, c_socket_service_stop);
  if (priv->state != C_SERVICE_RUNNING)
    {
      g_task_return_new_error (task, C_SOCKET_ERROR, C_SOCKET_ERROR_WRONG_STATE,
                               "stop: the service is not running");
      g_object_unref (task);
      return;
    }
  priv->state = C_SERVICE_STOPPING;
  priv->stop_task = task;
  g_atomic_int_set (&priv->closing, TRUE);
  g_atomic_int_set (&priv->stopping, TRUE);
  c_service_workers_close_listeners (self);
  priv->stop_timer = g_timeout_source_new (deadline_ms);
  g_source_set_callback (priv->stop_timer, stop_deadline, self, NULL);
  g_source_attach (priv->stop_timer, priv->context);
  if (cancellable != NULL)
    priv->stop_cancel_id
        = g_cancellable_connect (cancellable, G_CALLBACK (stop_cancelled),
                                 g_source_ref (priv->stop_timer), (GDestroyNotify) g_source_unref);
  stop_when_empty (self);
}

/**
 * c_socket_service_stop_finish:
 * @self: the service
 * @result: the result given to the callback
 * @closed_at_deadline: (out) (optional): how many connections were still open at the
 *   deadline and closed by the service
 * @error: return location for a #GError
 *
 * Ends c_socket_service_stop(): call it from its callback.
 *
 * Returns: %TRUE when the service stopped
 */
gboolean
c_socket_service_stop_finish (CSocketService *self, GAsyncResult *result, guint *closed_at_deadline,
                              GError **error)
{
  gssize closed;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  closed = g_task_propagate_int (G_TASK (result), error);
  if (closed < 0)
    return FALSE;
  if (closed_at_deadline != NULL)
    *closed_at_deadline = (guint) closed;
  return TRUE;
}

/* Everything stops at once: used by dispose and by a failed start. */
void
c_socket_service_shut_down (CSocketService *self)
{
  CSocketServicePrivate *priv = c_socket_service_get_priv (self);

  if (priv->state == C_SERVICE_IDLE && priv->workers == NULL)
    return;
  g_atomic_int_set (&priv->closing, TRUE);
  c_service_workers_close_listeners (self);
  c_service_workers_close_all (self);
  if (priv->stop_task != NULL)
    finish_stop (self, 0);
  else
    c_service_workers_join (self);
  priv->state = C_SERVICE_STOPPED;
}
