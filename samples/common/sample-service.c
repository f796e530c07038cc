/* sample-service.c: the sample servers on a CSocketService (sample-service.h)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>

#include "sample-service.h"

static GMainLoop *loop;       /* while sample_server_run runs */
static int clients_to_serve;  /* 0: forever */
static gint clients_finished; /* atomic: connections end on the service's threads */
static gint next_number;      /* atomic: incoming runs on the service's threads */

/* The first listener set-up that failed, under its lock: listeners are made on the service's
 * threads, and c_socket_service_start() returns once they all are. */
static GError *set_up_error;
G_LOCK_DEFINE_STATIC (set_up_error);

static void
configure_listener (CSocketService *service, CAsyncSocket *listener, gpointer data)
{
  const SampleServer *server = data;
  GError *error = NULL;

  if (server->set_up == NULL || server->set_up (listener, server->set_up_data, &error))
    return;
  G_LOCK (set_up_error);
  if (set_up_error == NULL)
    set_up_error = g_steal_pointer (&error);
  G_UNLOCK (set_up_error);
  g_clear_error (&error);
}

static gboolean
incoming (CSocketService *service, CAsyncSocket *connection, gpointer data)
{
  const SampleServer *server = data;
  guint number = (guint) g_atomic_int_add (&next_number, 1) + 1;

  if (!server->own_log)
    {
      g_autofree char *peer = NULL;
      guint port = 0;

      c_async_socket_get_peer_name (connection, &peer, &port, NULL);
      g_print ("connection %u: from %s port %u\n", number, peer, port);
    }
  if (server->accepted != NULL)
    server->accepted (connection, number);
  return TRUE;
}

CSocketService *
sample_server_start (const SampleServer *server, GError **error)
{
  g_autoptr (CSocketService) service = NULL;

  if (server->port < 0 || server->port > 65535 || server->threads < 1 || server->threads > 1024
      || server->clients < 0)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--port must be 0 to 65535, --threads 1 to 1024, --clients 0 or more");
      return NULL;
    }
  clients_to_serve = server->clients;
  service = c_socket_service_new (server->connection_type);
  c_socket_service_set_threads (service, (guint) server->threads);
  c_socket_service_add_inet_port (service, server->address, (guint) server->port);
  /* @server outlives the service: the samples keep it in main(). */
  g_signal_connect (service, "configure-listener", G_CALLBACK (configure_listener),
                    (gpointer) server);
  g_signal_connect (service, "incoming", G_CALLBACK (incoming), (gpointer) server);
  if (!c_socket_service_start (service, error))
    return NULL;
  if (set_up_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&set_up_error));
      return NULL;
    }
  g_print ("listening on %u\n", c_socket_service_get_port (service, 0));
  fflush (stdout);
  return g_steal_pointer (&service);
}

void
sample_server_run (void)
{
  loop = g_main_loop_new (NULL, FALSE);
  g_main_loop_run (loop);
  g_clear_pointer (&loop, g_main_loop_unref);
}

int
sample_server_serve (const SampleServer *server)
{
  g_autoptr (GError) error = NULL;
  CSocketService *service = sample_server_start (server, &error);

  if (service == NULL)
    {
      g_printerr ("%s: %s\n", g_get_prgname (), error->message);
      return g_error_matches (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE) ? 2 : 1;
    }
  sample_server_run ();
  g_object_unref (service);
  return 0;
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

void
sample_server_connection_finished (void)
{
  /* Through the main context, so that the quit runs inside sample_server_run's loop even
   * when a service thread gets here before that loop has started (a quit before the run
   * would be forgotten by it). */
  if (g_atomic_int_add (&clients_finished, 1) + 1 == clients_to_serve)
    g_main_context_invoke (NULL, quit_loop, NULL);
}
