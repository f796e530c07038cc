/* test-records-close.c: the end of a record-mode connection, when records are in flight
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Found by the reliability harness (fuzz-records, the descriptor cycles): what happens to a
 * record that is half received, or still queued, when the connection ends.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "reliability-util.h"

#define S(x) C_ASYNC_SOCKET (x)

/* A peer that sends part of a record, lets the reader take those bytes, and then closes: the
 * reader must report the truncated record (EPROTO, as when the bytes and the end of stream
 * arrive together), not a graceful close. */
static void
check_truncated_then_closed (gsize header_bytes_only)
{
  int fds[2];
  TestSocket *reader = test_socket_new ();
  g_autoptr (GError) error = NULL;
  const guint8 part[] = { 0, 0, 0, 100, 'a', 'b', 'c' };
  gsize sent = header_bytes_only ? 2 : sizeof part;
  gboolean has_reason;
  guint records;
  int closes, close_error;

  cr_assert_eq (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  cr_assert (c_async_socket_attach (S (reader), fds[0], C_FD_ALL, &error), "%s",
             error ? error->message : "");
  cr_assert (c_async_socket_set_record_mode (S (reader), TRUE, NULL));
  cr_assert_eq (send (fds[1], part, sent, MSG_NOSIGNAL), (ssize_t) sent);
  drain_context (); /* the reader takes the bytes: a record is in progress */
  cr_assert_eq (reader->records->len, 0);
  cr_assert_eq (reader->counts[C_NOTIFY_CLOSE], 0);

  cr_assert_eq (shutdown (fds[1], SHUT_WR), 0);
  run_until_count (reader, C_NOTIFY_CLOSE, 1);
  drain_context ();
  has_reason = c_async_socket_get_close_error (S (reader)) != NULL;
  records = reader->records->len;
  closes = reader->counts[C_NOTIFY_CLOSE];
  close_error = reader->errors[C_NOTIFY_CLOSE];
  g_object_unref (reader);
  close (fds[1]);

  cr_assert_eq (closes, 1, "on_close came %d times", closes);
  cr_assert_eq (records, 0);
  cr_assert_eq (close_error, EPROTO,
                "on_close reported %d (%s) for a stream that ended %zu bytes into a record",
                close_error, g_strerror (close_error), sent);
  cr_assert (has_reason, "get_close_error has no reason");
}

Test (records_close, end_of_stream_after_part_of_a_record_was_read_is_a_protocol_error,
      .timeout = 30)
{
  check_truncated_then_closed (FALSE);
}

Test (records_close, end_of_stream_after_part_of_a_header_was_read_is_a_protocol_error,
      .timeout = 30)
{
  check_truncated_then_closed (TRUE);
}

/* send_record said the record was sent or queued; a graceful half-close right after must
 * not overtake it. The server here answers a record before its first on_send, when the
 * record path queues instead of writing at once. */
static void
answer_and_half_close (CAsyncSocket *server, GBytes *record, gpointer data)
{
  gboolean *answered = data;

  cr_assert (c_async_socket_send_record_data (server, "answer", 6, NULL));
  cr_assert (c_async_socket_shut_down (server, C_SHUTDOWN_SENDS, NULL));
  *answered = TRUE;
}

Test (records_close, shut_down_sends_after_send_record_delivers_the_record_first, .timeout = 30)
{
  guint port;
  g_autoptr (TestSocket) listener = make_listener (NULL, &port);
  TestSocket *client = test_socket_new ();
  TestSocket *server = test_socket_new ();
  g_autoptr (GError) error = NULL;
  gboolean answered = FALSE;
  char reason[256] = "";
  guint records;
  int client_closes, client_error, server_closes;

  cr_assert (c_async_socket_set_record_mode (S (listener), TRUE, NULL));
  cr_assert (c_async_socket_create (S (client), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error));
  cr_assert (c_async_socket_set_record_mode (S (client), TRUE, NULL));
  cr_assert (c_async_socket_connect (S (client), "127.0.0.1", port, &error));
  cr_assert (run_until_count (client, C_NOTIFY_CONNECT, 1));
  cr_assert (c_async_socket_send_record_data (S (client), "question", 8, &error), "%s",
             error ? error->message : "");
  cr_assert (run_until_count (listener, C_NOTIFY_ACCEPT, 1));
  g_signal_connect (server, "record", G_CALLBACK (answer_and_half_close), &answered);
  cr_assert (c_async_socket_accept (S (listener), S (server), NULL, &error));

  run_until_count (client, C_NOTIFY_CLOSE, 1);
  drain_context ();
  records = client->records->len;
  client_closes = client->counts[C_NOTIFY_CLOSE];
  client_error = client->errors[C_NOTIFY_CLOSE];
  server_closes = server->counts[C_NOTIFY_CLOSE];
  if (c_async_socket_get_close_error (S (server)) != NULL)
    g_strlcpy (reason, c_async_socket_get_close_error (S (server))->message, sizeof reason);
  g_object_unref (client);
  g_object_unref (server);

  cr_assert (answered);
  cr_assert_eq (client_closes, 1, "the client saw no close");
  cr_assert_eq (records, 1,
                "the answer queued before the half-close was lost (client on_close %d, server "
                "close reason: %s)",
                client_error, reason[0] ? reason : "none");
  cr_assert_eq (client_error, 0);
  cr_assert_eq (server_closes, 0);
  cr_assert_eq (reason[0], '\0', "the server closed: %s", reason);
}

/* The same with a full close: MFC's "Send the reply, then Close". A record sent from
 * on_record waits in the queue until the notification returns (the record path gathers
 * them into one write), so the close must not throw it away. */
static void
answer_and_close (CAsyncSocket *server, GBytes *record, gpointer data)
{
  gboolean *answered = data;

  cr_assert (c_async_socket_send_record_data (server, "answer", 6, NULL));
  c_async_socket_close (server);
  *answered = TRUE;
}

Test (records_close, close_after_send_record_in_on_record_delivers_the_record, .timeout = 30)
{
  guint port;
  g_autoptr (TestSocket) listener = make_listener (NULL, &port);
  TestSocket *client, *server;
  gboolean answered = FALSE;
  guint records;
  int closes, close_error;

  cr_assert (c_async_socket_set_record_mode (S (listener), TRUE, NULL));
  make_pair (listener, "127.0.0.1", port, &client, &server);
  cr_assert (c_async_socket_set_record_mode (S (client), TRUE, NULL));
  g_signal_connect (server, "record", G_CALLBACK (answer_and_close), &answered);
  cr_assert (c_async_socket_send_record_data (S (client), "question", 8, NULL));

  run_until_count (client, C_NOTIFY_CLOSE, 1);
  drain_context ();
  records = client->records->len;
  closes = client->counts[C_NOTIFY_CLOSE];
  close_error = client->errors[C_NOTIFY_CLOSE];
  g_object_unref (client);
  g_object_unref (server);

  cr_assert (answered);
  cr_assert_eq (closes, 1, "the client saw no close");
  cr_assert_eq (records, 1, "the answer sent before the close was lost");
  cr_assert_eq (close_error, 0);
}

/* More than the kernel takes at once: 8 MiB queued, then the half-close. Every record must
 * still arrive before the end of stream, since send_record accepted each of them. */
#define N_QUEUED 128
#define QUEUED_SIZE (64 * 1024)

static gboolean
all_queued_arrived_or_closed (gpointer data)
{
  TestSocket *client = data;
  return client->records->len >= N_QUEUED || client->counts[C_NOTIFY_CLOSE] > 0;
}

Test (records_close, shut_down_sends_after_more_than_the_kernel_takes_delivers_every_record,
      .timeout = 60)
{
  guint port;
  g_autoptr (TestSocket) listener = make_listener (NULL, &port);
  TestSocket *client, *server;
  guint8 *payload = g_malloc0 (QUEUED_SIZE);
  gsize queued_at_shut_down;
  guint records;
  int closes, close_error;

  cr_assert (c_async_socket_set_record_mode (S (listener), TRUE, NULL));
  make_pair (listener, "127.0.0.1", port, &client, &server);
  cr_assert (c_async_socket_set_record_mode (S (client), TRUE, NULL));
  c_async_socket_set_water_marks (S (server), 0, 2 * N_QUEUED * QUEUED_SIZE);
  for (guint i = 0; i < N_QUEUED; i++)
    cr_assert (c_async_socket_send_record_data (S (server), payload, QUEUED_SIZE, NULL));
  g_free (payload);
  queued_at_shut_down = c_async_socket_get_queued_bytes (S (server));
  cr_assert (c_async_socket_shut_down (S (server), C_SHUTDOWN_SENDS, NULL));

  run_until_within (all_queued_arrived_or_closed, client, 30000);
  if (client->records->len >= N_QUEUED)
    run_until_count (client, C_NOTIFY_CLOSE, 1);
  drain_context ();
  records = client->records->len;
  closes = client->counts[C_NOTIFY_CLOSE];
  close_error = client->errors[C_NOTIFY_CLOSE];
  g_object_unref (client);
  g_object_unref (server);

  cr_assert_gt (queued_at_shut_down, 0, "the kernel took everything: nothing was queued");
  cr_assert_eq (records, N_QUEUED,
                "%u of %d records arrived before the end of stream (%zu bytes were queued at "
                "the half-close)",
                records, N_QUEUED, queued_at_shut_down);
  cr_assert_eq (closes, 1);
  cr_assert_eq (close_error, 0);
}
