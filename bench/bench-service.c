/* bench-service.c: afxsock's echo servers on a CSocketService (bench-service.h)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "bench-service.h"

#include "bench-util.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

typedef struct
{
  gboolean records;
  CTlsSettings *tls;
} ListenerSetUp;

/* The listeners are made on the service's threads, before c_socket_service_start()
 * returns; a set-up that fails is fatal for a benchmark server. */
static void
configure_listener (CSocketService *service, CAsyncSocket *listener, gpointer data)
{
  const ListenerSetUp *set_up = data;
  g_autoptr (GError) error = NULL;

  if ((set_up->records && !c_async_socket_set_record_mode (listener, TRUE, &error))
      || (set_up->tls != NULL && !c_async_socket_set_tls (listener, set_up->tls, NULL, &error)))
    g_error ("setting up a listener: %s", error->message);
}

static gboolean
no_delay (CSocketService *service, CAsyncSocket *connection, gpointer data)
{
  c_async_socket_set_sock_opt_int (connection, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  return TRUE;
}

int
bench_serve (GType connection_type, const char *name, int port, guint threads, gboolean records,
             CTlsSettings *tls)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (CSocketService) service = c_socket_service_new (connection_type);
  g_autoptr (GError) error = NULL;
  ListenerSetUp set_up = { records, tls };

  c_socket_service_set_threads (service, threads);
  c_socket_service_add_inet_port (service, "127.0.0.1", (guint) port);
  g_signal_connect (service, "configure-listener", G_CALLBACK (configure_listener), &set_up);
  g_signal_connect (service, "incoming", G_CALLBACK (no_delay), NULL);
  if (!c_socket_service_start (service, &error))
    {
      g_printerr ("%s: %s\n", name, error->message);
      return 1;
    }
  bench_announce_port ((int) c_socket_service_get_port (service, 0));
  g_main_loop_run (loop);
  return 0;
}
