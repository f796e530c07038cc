/* c-socket-service-worker.c: a CSocketService's threads, listeners and held connections
 *
 * A worker owns a main context, the listeners it accepts on and the connections it holds;
 * all three are touched only from that context's thread. With one thread the worker is
 * the service's own context. With N, each worker thread has an `SO_REUSEPORT` listener per
 * address, or (hand-over) an acceptor on the service's context accepts and passes the
 * descriptor to the worker holding the fewest connections (docs/service.md).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <unistd.h>

#include "c-async-socket-private.h"
#include "c-socket-service-private.h"

struct _CServiceWorker
{
  CSocketService *service; /* not a reference: the service joins its workers first */
  GMainContext *context;
  GMainLoop *loop;         /* threads only */
  GThread *thread;         /* NULL: the service's own context */
  gboolean acceptor;       /* accepts for the others (hand-over), holds nothing */
  GPtrArray *listeners;    /* CServiceListener, this worker's thread only */
  GHashTable *connections; /* held connections (a reference each), this worker's thread only */
  gint held;               /* atomic: connections held now, for the hand-over's choice */
  gsize accepted;          /* atomic: connections accepted and kept, ever */
  gint paused;             /* atomic: a listener stopped accepting at the limit */
  gint running;            /* atomic: the thread iterates its context (run_on may ask it) */

  GMutex lock; /* the start: the thread says it listens, or why not */
  GCond cond;
  gboolean ready;
  GError *error;
};

/* CServiceListener: a listening socket that accepts for its worker. */

#define C_TYPE_SERVICE_LISTENER (c_service_listener_get_type ())
G_DECLARE_FINAL_TYPE (CServiceListener, c_service_listener, C, SERVICE_LISTENER, CAsyncSocket)

struct _CServiceListener
{
  CAsyncSocket parent_instance;
  CServiceWorker *worker;
  gboolean paused;
};

G_DEFINE_FINAL_TYPE (CServiceListener, c_service_listener, C_TYPE_ASYNC_SOCKET)

static void accept_one (CServiceListener *listener);

static void
c_service_listener_on_accept (CAsyncSocket *socket, int error_code)
{
  /* An error (out of descriptors) pauses on_accept for a back-off (c_async_socket_accept). */
  if (error_code == 0)
    accept_one (C_SERVICE_LISTENER (socket));
}

static void
c_service_listener_class_init (CServiceListenerClass *klass)
{
  C_ASYNC_SOCKET_CLASS (klass)->on_accept = c_service_listener_on_accept;
}

static void
c_service_listener_init (CServiceListener *self)
{
}

/* Holding connections */

static CAsyncSocket *
make_connection (CSocketService *service)
{
  CSocketServicePrivate *priv = c_socket_service_get_priv (service);

  if (priv->factory != NULL)
    return priv->factory (service, priv->factory_data);
  return g_object_new (priv->connection_type, NULL);
}

static gboolean
nothing (gpointer data)
{
  return G_SOURCE_REMOVE;
}

/* The descriptor went (close, detach): the hold ends. The reference is dropped from the
 * worker's next iteration, never inside the call that closed it. */
static void
connection_released (CAsyncSocket *connection, gpointer data)
{
  CServiceWorker *worker = data;
  CSocketStats stats;
  GSource *idle;

  c_async_socket_get_stats (connection, &stats);
  c_async_socket_get_private (connection)->close_after_failure = FALSE;
  g_hash_table_steal (worker->connections, connection);
  idle = g_idle_source_new ();
  g_source_set_callback (idle, nothing, connection, g_object_unref);
  g_source_attach (idle, worker->context);
  g_source_unref (idle);
  g_atomic_int_add (&worker->held, -1);
  c_service_connection_released (worker->service, &stats);
}

/* Holds a connection just accepted (its place already reserved), unless incoming refuses. */
static void
adopt (CServiceWorker *worker, CAsyncSocket *connection)
{
  CAsyncSocketPrivate *cpriv = c_async_socket_get_private (connection);

  if (!c_service_emit_incoming (worker->service, connection))
    {
      c_async_socket_close (connection);
      g_object_unref (connection);
      g_atomic_int_add (&worker->held, -1);
      c_service_count_refused (worker->service);
      c_service_unreserve (worker->service);
      return;
    }
  c_service_count_kept (worker->service);
  g_atomic_pointer_add (&worker->accepted, 1);
  g_hash_table_add (worker->connections, connection);
  /* After a graceful on_close the application may still send (a half-closed peer reads on),
   * so closing is its call; after an error the connection is dead, and the service closes
   * it if on_close's handler did not (a flag, not a signal handler: no closure per
   * connection, and the notifications keep their path without signal emission). */
  cpriv->close_after_failure = TRUE;
  cpriv->released = connection_released;
  cpriv->released_data = worker;
}

/* Accepting */

static CServiceWorker *
fewest_held (CSocketService *service)
{
  CSocketServicePrivate *priv = c_socket_service_get_priv (service);
  CServiceWorker *best = priv->workers[0];

  for (guint i = 1; i < priv->n_workers; i++)
    if (g_atomic_int_get (&priv->workers[i]->held) < g_atomic_int_get (&best->held))
      best = priv->workers[i];
  return best;
}

typedef struct
{
  CServiceWorker *worker;
  int fd;
} HandOver;

static gboolean
take_handed_over (gpointer data)
{
  HandOver *hand = data;
  CSocketService *service = hand->worker->service;
  CAsyncSocket *connection;
  g_autoptr (GError) error = NULL;

  if (c_service_is_closing (service))
    {
      close (hand->fd);
      g_atomic_int_add (&hand->worker->held, -1);
      c_service_unreserve (service);
      return G_SOURCE_REMOVE;
    }
  connection = make_connection (service);
  if (!c_async_socket_attach (connection, hand->fd, C_FD_ALL, &error))
    {
      g_debug ("service: handing over descriptor %d: %s", hand->fd, error->message);
      close (hand->fd);
      g_object_unref (connection);
      g_atomic_int_add (&hand->worker->held, -1);
      c_service_unreserve (service);
      return G_SOURCE_REMOVE;
    }
  adopt (hand->worker, connection);
  return G_SOURCE_REMOVE;
}

static void
accept_one (CServiceListener *listener)
{
  CServiceWorker *worker = listener->worker;
  CSocketService *service = worker->service;
  g_autoptr (CAsyncSocket) scratch = NULL;
  CAsyncSocket *connection;
  HandOver *hand;

  switch (c_service_admit (service))
    {
      case C_SERVICE_PAUSE:
        /* No accept: on_accept stays unarmed until c_service_resume_paused accepts again. */
        listener->paused = TRUE;
        g_atomic_int_set (&worker->paused, TRUE);
        return;
      case C_SERVICE_REFUSE:
        scratch = c_async_socket_new ();
        if (c_async_socket_accept (C_ASYNC_SOCKET (listener), scratch, NULL, NULL))
          {
            c_async_socket_close (scratch);
            c_service_count_refused (service);
          }
        return;
      case C_SERVICE_ADMIT:
        break;
    }
  if (!worker->acceptor)
    {
      connection = make_connection (service);
      if (!c_async_socket_accept (C_ASYNC_SOCKET (listener), connection, NULL, NULL))
        {
          g_object_unref (connection);
          return;
        }
      c_service_reserve (service);
      g_atomic_int_inc (&worker->held);
      adopt (worker, connection);
      return;
    }
  scratch = c_async_socket_new ();
  if (!c_async_socket_accept (C_ASYNC_SOCKET (listener), scratch, NULL, NULL))
    return;
  c_service_reserve (service);
  hand = g_new (HandOver, 1);
  hand->worker = fewest_held (service);
  hand->fd = c_async_socket_detach (scratch);
  g_atomic_int_inc (&hand->worker->held);
  g_main_context_invoke_full (hand->worker->context, G_PRIORITY_DEFAULT, take_handed_over, hand,
                              g_free);
}

static gboolean
resume_worker (gpointer data)
{
  CServiceWorker *worker = data;

  for (guint i = 0; i < worker->listeners->len; i++)
    {
      CServiceListener *listener = g_ptr_array_index (worker->listeners, i);

      if (listener->paused)
        {
          listener->paused = FALSE;
          accept_one (listener);
        }
    }
  return G_SOURCE_REMOVE;
}

/* Below the limit again: every paused listener accepts once, which re-arms its on_accept. */
void
c_service_resume_paused (CSocketService *self)
{
  CSocketServicePrivate *priv = c_socket_service_get_priv (self);

  if (c_service_is_closing (self) || c_service_admit (self) != C_SERVICE_ADMIT)
    return;
  for (guint i = 0; i <= priv->n_workers; i++)
    {
      CServiceWorker *worker = i < priv->n_workers ? priv->workers[i] : priv->acceptor;

      if (worker != NULL && g_atomic_int_compare_and_exchange (&worker->paused, TRUE, FALSE))
        g_main_context_invoke (worker->context, resume_worker, worker);
    }
}

/* Listening */

static gboolean
open_listener (CServiceWorker *worker, CServiceAddress *address, gboolean reuse_port,
               GError **error)
{
  g_autoptr (CServiceListener) listener = g_object_new (C_TYPE_SERVICE_LISTENER, NULL);
  CAsyncSocket *socket = C_ASYNC_SOCKET (listener);
  g_autoptr (GInetAddress) numeric = NULL;
  GSocketFamily family = G_SOCKET_FAMILY_IPV6;
  const char *host = address->host != NULL ? address->host : "::";
  guint port = address->bound_port != 0 ? address->bound_port : address->port;

  if (address->path != NULL)
    family = G_SOCKET_FAMILY_UNIX;
  else if ((numeric = g_inet_address_new_from_string (host)) != NULL)
    family = g_inet_address_get_family (numeric);
  else
    {
      g_set_error (error, C_SOCKET_ERROR, C_SOCKET_ERROR_INVALID_ADDRESS,
                   "service: '%s' is not a numeric address", host);
      return FALSE;
    }
  listener->worker = worker;
  /* Accepted connections take the listener's events: all of them. */
  if (!c_async_socket_socket (socket, C_SOCK_STREAM, C_FD_ALL, 0, family, error))
    return FALSE;
  if (family != G_SOCKET_FAMILY_UNIX
      && (!c_async_socket_set_sock_opt_int (socket, SOL_SOCKET, SO_REUSEADDR, 1, error)
          || (reuse_port
              && !c_async_socket_set_sock_opt_int (socket, SOL_SOCKET, SO_REUSEPORT, 1, error))
          || (address->host == NULL
              && !c_async_socket_set_sock_opt_int (socket, IPPROTO_IPV6, IPV6_V6ONLY, 0, error))))
    return FALSE;
  if (!c_async_socket_bind (socket, port, address->path != NULL ? address->path : host, error))
    return FALSE;
  c_service_emit_configure_listener (worker->service, socket);
  if (!c_async_socket_listen (socket, SOMAXCONN, error))
    return FALSE;
  if (address->path == NULL && address->bound_port == 0
      && !c_async_socket_get_sock_name (socket, NULL, &address->bound_port, error))
    return FALSE;
  g_ptr_array_add (worker->listeners, g_steal_pointer (&listener));
  return TRUE;
}

/* Opens the worker's listeners: every address without hand-over, or, for the acceptor,
 * every address with it. */
static gboolean
open_listeners (CServiceWorker *worker, GError **error)
{
  CSocketServicePrivate *priv = c_socket_service_get_priv (worker->service);
  gboolean threads = priv->n_threads > 1;

  for (guint i = 0; i < priv->addresses->len; i++)
    {
      CServiceAddress *address = g_ptr_array_index (priv->addresses, i);
      gboolean handed = threads && (priv->hand_over || address->path != NULL);

      if (handed == worker->acceptor && !open_listener (worker, address, threads && !handed, error))
        return FALSE;
    }
  return TRUE;
}

static CServiceWorker *
worker_new (CSocketService *service, GMainContext *context, gboolean acceptor)
{
  CServiceWorker *worker = g_new0 (CServiceWorker, 1);

  worker->service = service;
  worker->context = g_main_context_ref (context);
  worker->acceptor = acceptor;
  worker->listeners = g_ptr_array_new_with_free_func (g_object_unref);
  worker->connections = g_hash_table_new_full (NULL, NULL, g_object_unref, NULL);
  g_mutex_init (&worker->lock);
  g_cond_init (&worker->cond);
  return worker;
}

static void
worker_free (CServiceWorker *worker)
{
  GHashTableIter iter;
  gpointer connection;

  /* Anything still held loses its hold without calling back into the freed worker. */
  g_hash_table_iter_init (&iter, worker->connections);
  while (g_hash_table_iter_next (&iter, &connection, NULL))
    c_async_socket_get_private (connection)->released = NULL;
  g_ptr_array_unref (worker->listeners);
  g_hash_table_unref (worker->connections);
  g_clear_pointer (&worker->loop, g_main_loop_unref);
  g_main_context_unref (worker->context);
  g_clear_error (&worker->error);
  g_mutex_clear (&worker->lock);
  g_cond_clear (&worker->cond);
  g_free (worker);
}

static gpointer
worker_main (gpointer data)
{
  CServiceWorker *worker = data;
  GError *error = NULL;
  gboolean listening;

  g_main_context_push_thread_default (worker->context);
  listening = open_listeners (worker, &error);
  g_mutex_lock (&worker->lock);
  worker->error = error;
  worker->ready = TRUE;
  g_cond_signal (&worker->cond);
  g_mutex_unlock (&worker->lock);
  if (listening)
    {
      g_atomic_int_set (&worker->running, TRUE);
      g_main_loop_run (worker->loop);
    }
  /* The connections are closed by now (c_service_workers_close_all); their last references
   * go with the idles that carry them. */
  g_ptr_array_set_size (worker->listeners, 0);
  while (g_main_context_iteration (worker->context, FALSE))
    ;
  g_main_context_pop_thread_default (worker->context);
  return NULL;
}

gboolean
c_service_workers_start (CSocketService *self, GError **error)
{
  CSocketServicePrivate *priv = c_socket_service_get_priv (self);
  gboolean needs_acceptor = FALSE;

  priv->n_workers = priv->n_threads;
  priv->workers = g_new0 (CServiceWorker *, priv->n_workers);
  if (priv->n_threads == 1)
    {
      priv->workers[0] = worker_new (self, priv->context, FALSE);
      return open_listeners (priv->workers[0], error);
    }
  for (guint i = 0; i < priv->addresses->len; i++)
    {
      CServiceAddress *address = g_ptr_array_index (priv->addresses, i);
      needs_acceptor |= priv->hand_over || address->path != NULL;
    }
  /* One thread after the other, so that the first fixes the ports the others share. */
  for (guint i = 0; i < priv->n_workers; i++)
    {
      g_autoptr (GMainContext) context = g_main_context_new ();
      /* Linux keeps 15 bytes of a thread's name and GLib sets none that is longer. */
      g_autofree char *name = g_strdup_printf ("afxsock-svc-%u", i);
      CServiceWorker *worker = worker_new (self, context, FALSE);

      priv->workers[i] = worker;
      worker->loop = g_main_loop_new (context, FALSE);
      worker->thread = g_thread_new (name, worker_main, worker);
      g_mutex_lock (&worker->lock);
      while (!worker->ready)
        g_cond_wait (&worker->cond, &worker->lock);
      g_mutex_unlock (&worker->lock);
      if (worker->error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&worker->error));
          return FALSE;
        }
    }
  if (needs_acceptor)
    {
      priv->acceptor = worker_new (self, priv->context, TRUE);
      return open_listeners (priv->acceptor, error);
    }
  return TRUE;
}

/* Runs @function on @worker's thread and waits for it; at once if that is this thread. */
typedef struct
{
  GSourceFunc function;
  gpointer data;
  GMutex lock;
  GCond cond;
  gboolean done;
} SyncCall;

static gboolean
sync_call_run (gpointer data)
{
  SyncCall *call = data;

  call->function (call->data);
  g_mutex_lock (&call->lock);
  call->done = TRUE;
  g_cond_signal (&call->cond);
  g_mutex_unlock (&call->lock);
  return G_SOURCE_REMOVE;
}

static void
run_on (CServiceWorker *worker, GSourceFunc function, gpointer data)
{
  SyncCall call = { function, data };

  /* A thread that failed to listen never ran its loop and left nothing to touch. */
  if (worker->thread == NULL || worker->thread == g_thread_self ()
      || !g_atomic_int_get (&worker->running))
    {
      function (data);
      return;
    }
  g_mutex_init (&call.lock);
  g_cond_init (&call.cond);
  g_main_context_invoke (worker->context, sync_call_run, &call);
  g_mutex_lock (&call.lock);
  while (!call.done)
    g_cond_wait (&call.cond, &call.lock);
  g_mutex_unlock (&call.lock);
  g_mutex_clear (&call.lock);
  g_cond_clear (&call.cond);
}

static void
each_worker (CSocketService *self, GSourceFunc function, gpointer data_or_null)
{
  CSocketServicePrivate *priv = c_socket_service_get_priv (self);

  for (guint i = 0; i <= priv->n_workers; i++)
    {
      CServiceWorker *worker = i < priv->n_workers ? priv->workers[i] : priv->acceptor;

      if (worker != NULL)
        run_on (worker, function, data_or_null != NULL ? data_or_null : worker);
    }
}

static gboolean
close_listeners (gpointer data)
{
  CServiceWorker *worker = data;

  g_ptr_array_set_size (worker->listeners, 0); /* their last references: closed */
  return G_SOURCE_REMOVE;
}

void
c_service_workers_close_listeners (CSocketService *self)
{
  each_worker (self, close_listeners, NULL);
}

typedef struct
{
  CServiceWorker *worker;
  guint closed;
} CloseAll;

static gboolean
close_connections (gpointer data)
{
  CloseAll *job = data;
  g_autoptr (GPtrArray) open = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  gpointer connection;

  /* Each close releases its connection from the table: walk a copy. */
  g_hash_table_iter_init (&iter, job->worker->connections);
  while (g_hash_table_iter_next (&iter, &connection, NULL))
    g_ptr_array_add (open, g_object_ref (connection));
  for (guint i = 0; i < open->len; i++)
    {
      c_async_socket_close (g_ptr_array_index (open, i)); /* releases it */
      job->closed++;
    }
  return G_SOURCE_REMOVE;
}

/* Closes every connection still held, each on its own thread; returns how many. */
guint
c_service_workers_close_all (CSocketService *self)
{
  CSocketServicePrivate *priv = c_socket_service_get_priv (self);
  guint closed = 0;

  for (guint i = 0; i < priv->n_workers; i++)
    if (priv->workers[i] != NULL)
      {
        CloseAll job = { priv->workers[i], 0 };
        run_on (priv->workers[i], close_connections, &job);
        closed += job.closed;
      }
  return closed;
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

/* Stops the threads (their connections closed before) and frees the workers. */
void
c_service_workers_join (CSocketService *self)
{
  CSocketServicePrivate *priv = c_socket_service_get_priv (self);

  for (guint i = 0; i < priv->n_workers; i++)
    {
      CServiceWorker *worker = priv->workers[i];

      if (worker == NULL)
        continue;
      if (worker->thread != NULL)
        {
          g_main_context_invoke (worker->context, quit_loop, worker->loop);
          g_thread_join (worker->thread);
        }
      else
        {
          g_ptr_array_set_size (worker->listeners, 0);
          /* Held connections: each is closed by now; drop what is left at once. */
          g_hash_table_remove_all (worker->connections);
        }
      worker_free (worker);
    }
  g_clear_pointer (&priv->workers, g_free);
  priv->n_workers = 0;
  if (priv->acceptor != NULL)
    {
      g_ptr_array_set_size (priv->acceptor->listeners, 0);
      g_clear_pointer (&priv->acceptor, worker_free);
    }
}

typedef struct
{
  CServiceWorker *worker;
  CSocketStats *sum;
} SumLive;

static gboolean
sum_live (gpointer data)
{
  SumLive *job = data;
  GHashTableIter iter;
  gpointer connection;

  g_hash_table_iter_init (&iter, job->worker->connections);
  while (g_hash_table_iter_next (&iter, &connection, NULL))
    {
      CSocketStats stats;

      c_async_socket_get_stats (connection, &stats);
      job->sum->bytes_sent += stats.bytes_sent;
      job->sum->bytes_received += stats.bytes_received;
      job->sum->records_sent += stats.records_sent;
      job->sum->records_received += stats.records_received;
    }
  return G_SOURCE_REMOVE;
}

void
c_service_workers_sum_live (CSocketService *self, CSocketStats *sum)
{
  CSocketServicePrivate *priv = c_socket_service_get_priv (self);

  for (guint i = 0; i < priv->n_workers; i++)
    if (priv->workers[i] != NULL)
      {
        SumLive job = { priv->workers[i], sum };
        run_on (priv->workers[i], sum_live, &job);
      }
}

/**
 * c_socket_service_get_thread_accepted:
 * @self: a started service
 * @thread: a thread's index, below c_socket_service_get_threads()
 *
 * Tells how the connections spread over the threads.
 *
 * Returns: how many connections the thread has accepted and kept since the start
 */
guint64
c_socket_service_get_thread_accepted (CSocketService *self, guint thread)
{
  CSocketServicePrivate *priv;

  g_return_val_if_fail (C_IS_SOCKET_SERVICE (self), 0);
  priv = c_socket_service_get_priv (self);
  if (thread >= priv->n_workers || priv->workers[thread] == NULL)
    return 0;
  return (guint64) g_atomic_pointer_get (&priv->workers[thread]->accepted);
}
