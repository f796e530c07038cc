/* test-util.c: helpers shared by the socket tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "test-util.h"

#include <criterion/criterion.h>

G_DEFINE_FINAL_TYPE (TestSocket, test_socket, C_TYPE_ASYNC_SOCKET)

static void
record (TestSocket *self, CNotify which, int error_code)
{
  self->counts[which]++;
  self->errors[which] = error_code;
  if (self->n_order < G_N_ELEMENTS (self->order))
    self->order[self->n_order++] = which;
  if (which == C_NOTIFY_RECEIVE && self->read_on_receive)
    {
      guint8 buffer[65536];
      gssize n = c_async_socket_receive (C_ASYNC_SOCKET (self), buffer, sizeof buffer, 0, NULL);
      if (n > 0)
        g_byte_array_append (self->received, buffer, (guint) n);
    }
  if (self->hook != NULL)
    self->hook (self, which, error_code, self->hook_data);
}

#define DEFINE_RECORDER(name, which)                                                               \
  static void name (CAsyncSocket *socket, int error_code)                                          \
  {                                                                                                \
    record (TEST_SOCKET (socket), which, error_code);                                              \
  }

DEFINE_RECORDER (on_accept, C_NOTIFY_ACCEPT)
DEFINE_RECORDER (on_receive, C_NOTIFY_RECEIVE)
DEFINE_RECORDER (on_send, C_NOTIFY_SEND)
DEFINE_RECORDER (on_connect, C_NOTIFY_CONNECT)
DEFINE_RECORDER (on_close, C_NOTIFY_CLOSE)
DEFINE_RECORDER (on_out_of_band_data, C_NOTIFY_OUT_OF_BAND)

static void
on_record (CAsyncSocket *socket, GBytes *record)
{
  TestSocket *self = TEST_SOCKET (socket);

  g_ptr_array_add (self->records, g_bytes_ref (record));
  if (self->record_hook != NULL)
    self->record_hook (self, TEST_NOTIFY_RECORD, 0, self->hook_data);
}

static void
on_drain (CAsyncSocket *socket)
{
  TEST_SOCKET (socket)->drains++;
}

static void
test_socket_finalize (GObject *object)
{
  g_ptr_array_unref (TEST_SOCKET (object)->records);
  g_byte_array_unref (TEST_SOCKET (object)->received);
  G_OBJECT_CLASS (test_socket_parent_class)->finalize (object);
}

static void
test_socket_class_init (TestSocketClass *klass)
{
  CAsyncSocketClass *socket_class = C_ASYNC_SOCKET_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = test_socket_finalize;
  socket_class->on_accept = on_accept;
  socket_class->on_receive = on_receive;
  socket_class->on_send = on_send;
  socket_class->on_connect = on_connect;
  socket_class->on_close = on_close;
  socket_class->on_out_of_band_data = on_out_of_band_data;
  socket_class->on_record = on_record;
  socket_class->on_drain = on_drain;
}

static void
test_socket_init (TestSocket *self)
{
  self->received = g_byte_array_new ();
  self->records = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
}

TestSocket *
test_socket_new (void)
{
  return g_object_new (TEST_TYPE_SOCKET, NULL);
}

int
test_socket_total (TestSocket *socket)
{
  int total = 0;
  for (int i = 0; i < C_N_NOTIFY; i++)
    total += socket->counts[i];
  return total;
}

static gboolean
deadline_passed (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
run_until_within (gboolean (*func) (gpointer data), gpointer data, guint deadline_ms)
{
  GMainContext *context = g_main_context_get_thread_default ();
  gboolean expired = FALSE;
  GSource *deadline = g_timeout_source_new (deadline_ms);

  g_source_set_callback (deadline, deadline_passed, &expired, NULL);
  g_source_attach (deadline, context);
  while (!func (data) && !expired)
    g_main_context_iteration (context, TRUE);
  g_source_destroy (deadline);
  g_source_unref (deadline);
  return func (data);
}

gboolean
run_until (gboolean (*func) (gpointer data), gpointer data)
{
  return run_until_within (func, data, TEST_DEADLINE_MS);
}

static gboolean
flag_is_set (gpointer data)
{
  return *(gboolean *) data;
}

gboolean
run_until_flag (gboolean *flag)
{
  return run_until (flag_is_set, flag);
}

typedef struct
{
  TestSocket *socket;
  CNotify which;
  int n;
} CountWait;

static gboolean
count_reached (gpointer data)
{
  CountWait *wait = data;
  return wait->socket->counts[wait->which] >= wait->n;
}

gboolean
run_until_count (TestSocket *socket, CNotify which, int n)
{
  CountWait wait = { socket, which, n };
  return run_until (count_reached, &wait);
}

typedef struct
{
  TestSocket *socket;
  gsize n;
} LengthWait;

static gboolean
received_reached (gpointer data)
{
  LengthWait *wait = data;
  return wait->socket->received->len >= wait->n;
}

gboolean
run_until_received (TestSocket *socket, gsize length)
{
  LengthWait wait = { socket, length };
  return run_until (received_reached, &wait);
}

static gboolean
records_reached (gpointer data)
{
  LengthWait *wait = data;
  return wait->socket->records->len >= wait->n;
}

gboolean
run_until_records (TestSocket *socket, guint n)
{
  LengthWait wait = { socket, n };
  return run_until (records_reached, &wait);
}

void
iterate (guint iterations)
{
  GMainContext *context = g_main_context_get_thread_default ();
  for (guint i = 0; i < iterations; i++)
    g_main_context_iteration (context, FALSE);
}

void
drain_context (void)
{
  GMainContext *context = g_main_context_get_thread_default ();
  for (guint i = 0; i < 1000 && g_main_context_iteration (context, FALSE); i++)
    ;
}

TestSocket *
make_listener (const char *address, guint *port)
{
  TestSocket *listener = test_socket_new ();
  g_autoptr (GError) error = NULL;

  cr_assert (c_async_socket_create (C_ASYNC_SOCKET (listener), 0, C_SOCK_STREAM, C_FD_ALL,
                                    address ? address : "127.0.0.1", &error),
             "create listener: %s", error ? error->message : "");
  cr_assert (c_async_socket_listen (C_ASYNC_SOCKET (listener), 0, &error), "listen: %s",
             error ? error->message : "");
  cr_assert (c_async_socket_get_sock_name (C_ASYNC_SOCKET (listener), NULL, port, &error));
  cr_assert (*port > 0);
  return listener;
}

void
make_pair (TestSocket *listener, const char *host, guint port, TestSocket **client,
           TestSocket **server)
{
  g_autoptr (GError) error = NULL;
  int accepts = listener->counts[C_NOTIFY_ACCEPT];

  *client = test_socket_new ();
  *server = test_socket_new ();
  cr_assert (
      c_async_socket_create (C_ASYNC_SOCKET (*client), 0, C_SOCK_STREAM, C_FD_ALL, NULL, &error),
      "create client: %s", error ? error->message : "");
  cr_assert (c_async_socket_connect (C_ASYNC_SOCKET (*client), host, port, &error), "connect: %s",
             error ? error->message : "");
  cr_assert (run_until_count (listener, C_NOTIFY_ACCEPT, accepts + 1), "no on_accept");
  cr_assert (
      c_async_socket_accept (C_ASYNC_SOCKET (listener), C_ASYNC_SOCKET (*server), NULL, &error),
      "accept: %s", error ? error->message : "");
  cr_assert (run_until_count (*client, C_NOTIFY_CONNECT, 1), "no on_connect");
  cr_assert_eq ((*client)->errors[C_NOTIFY_CONNECT], 0, "connect failed: %s",
                g_strerror ((*client)->errors[C_NOTIFY_CONNECT]));
  cr_assert (run_until_count (*client, C_NOTIFY_SEND, 1), "no on_send on the client");
  cr_assert (run_until_count (*server, C_NOTIFY_SEND, 1), "no on_send on the server");
}

void
pair_open (Pair *pair)
{
  pair->listener = make_listener (NULL, &pair->port);
  make_pair (pair->listener, "127.0.0.1", pair->port, &pair->client, &pair->server);
}

void
pair_close (Pair *pair)
{
  g_clear_object (&pair->client);
  g_clear_object (&pair->server);
  g_clear_object (&pair->listener);
}

void
echo_hook (TestSocket *socket, CNotify which, int error_code, gpointer data)
{
  char buffer[64];
  gssize n;

  if (which != C_NOTIFY_RECEIVE)
    return;
  n = c_async_socket_receive (S (socket), buffer, sizeof buffer, 0, NULL);
  if (n > 0)
    c_async_socket_send (S (socket), buffer, (gsize) n, 0, NULL);
}

CReactor *
reactor_of (TestSocket *socket)
{
  CReactor *reactor = c_async_socket_get_private (S (socket))->reactor;
  cr_assert_not_null (reactor, "the socket has no reactor");
  return reactor;
}

void
send_text (TestSocket *socket, const char *text)
{
  g_autoptr (GError) error = NULL;
  gssize n = c_async_socket_send (S (socket), text, strlen (text), 0, &error);
  cr_assert_eq (n, (gssize) strlen (text), "send: %s", error ? error->message : "short");
}

guint
send_three_datagram_records (TestSocket *sender, CAsyncSocket *receiver)
{
  guint port, receiver_port;
  g_autoptr (GError) error = NULL;

  cr_assert (c_async_socket_create (S (sender), 0, C_SOCK_DGRAM, C_FD_ALL, "127.0.0.1", NULL));
  cr_assert (c_async_socket_create (receiver, 0, C_SOCK_DGRAM, C_FD_ALL, "127.0.0.1", NULL));
  cr_assert (c_async_socket_get_sock_name (S (sender), NULL, &port, NULL));
  cr_assert (c_async_socket_get_sock_name (receiver, NULL, &receiver_port, NULL));
  cr_assert (c_async_socket_set_record_mode (S (sender), TRUE, NULL));
  cr_assert (c_async_socket_set_record_mode (receiver, TRUE, NULL));
  cr_assert (c_async_socket_connect (S (sender), "127.0.0.1", receiver_port, NULL));
  cr_assert (run_until_count (sender, C_NOTIFY_CONNECT, 1));
  cr_assert (c_async_socket_send_record_data (S (sender), "one", 3, &error), "%s",
             error ? error->message : "");
  cr_assert (c_async_socket_send_record_data (S (sender), "", 0, &error));
  cr_assert (c_async_socket_send_record_data (S (sender), "three", 5, &error));
  return port;
}
