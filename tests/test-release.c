/* test-release.c: the application drops its last reference inside a notification
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * README, "The rules notifications follow": a socket may be closed or unreffed inside any of
 * its own notifications. Unreffing without closing is MFC's `delete this`: once the
 * application's last reference is gone, nothing more reaches the object, and the connection
 * is closed as c_async_socket_close() would close it. Each test below drops the reference at
 * a point where, in the same dispatch, more notifications were due.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <sys/socket.h>

#include "test-util.h"

typedef struct
{
  CNotify which; /* the notification whose handler unrefs (TEST_NOTIFY_RECORD: on_record) */
  int released;  /* handlers that unreffed */
  int after;     /* notifications that reached the object once it was released */
  GWeakRef weak;
} Release;

/* Unrefs in every notification of the chosen kind, as a careless handler would: the second
 * unref would be one too many if a second notification came. */
static void
unref_in_handler (TestSocket *socket, CNotify which, int error_code, gpointer data)
{
  Release *r = data;

  if (r->released > 0)
    r->after++;
  if (which != r->which)
    return;
  if (which == C_NOTIFY_RECEIVE)
    {
      char byte;
      c_async_socket_receive (S (socket), &byte, 1, 0, NULL); /* data remains */
    }
  r->released++;
  g_object_unref (socket);
}

static void
watch_release (Release *r, TestSocket *socket, CNotify which)
{
  r->which = which;
  r->released = r->after = 0;
  g_weak_ref_init (&r->weak, socket);
  socket->hook = unref_in_handler;
  socket->record_hook = unref_in_handler;
  socket->hook_data = r;
}

static gboolean
is_finalized (gpointer data)
{
  GObject *alive = g_weak_ref_get (data);
  if (alive == NULL)
    return TRUE;
  g_object_unref (alive);
  return FALSE;
}

/* The suite's fixture: a listener on 127.0.0.1, a client and the server end it accepted (see
 * test-notify.c). The tests steal p.server, whose last reference a handler drops; the fini
 * clears the rest. Tests that connect step by step, or need a listener in record mode, are
 * in release_own_setup. */
static Pair p;

static void
open_pair (void)
{
  pair_open (&p);
}

static void
close_pair (void)
{
  pair_close (&p);
}

TestSuite (release, .init = open_pair, .fini = close_pair);

/* The object is gone after exactly one handler unreffed it, and nothing reached it since. */
static void
assert_released_once (Release *r)
{
  cr_assert (run_until (is_finalized, &r->weak), "the socket outlived its last reference");
  drain_context ();
  cr_assert_eq (r->released, 1, "%d handlers unreffed the socket", r->released);
  cr_assert_eq (r->after, 0, "%d notifications reached the socket after its release", r->after);
  g_weak_ref_clear (&r->weak);
}

Test (release, unref_inside_on_receive_stops_delivery_and_closes, .timeout = 30)
{
  Release r;

  watch_release (&r, p.server, C_NOTIFY_RECEIVE);
  send_text (p.client, "0123456789");
  cr_assert (c_async_socket_shut_down (S (p.client), C_SHUTDOWN_SENDS, NULL));
  g_steal_pointer (&p.server); /* the handler holds the last reference now */
  assert_released_once (&r);
  /* Closed as close() would: the peer learns it (a reset, since data was left unread). */
  cr_assert (run_until_count (p.client, C_NOTIFY_CLOSE, 1), "the connection stayed open");
}

/* A client released inside @which, the first notifications of its connect: the server
 * accepts and sends before the client's on_connect runs, so room to send and data to read
 * arrive in the same report. */
static void
release_while_connecting (CNotify which)
{
  guint port;
  g_autoptr (TestSocket) listener = make_listener (NULL, &port);
  g_autoptr (TestSocket) server = test_socket_new ();
  TestSocket *client = test_socket_new ();
  Release r;

  watch_release (&r, client, which);
  cr_assert (c_async_socket_create (S (client), 0, C_SOCK_STREAM, C_FD_ALL, NULL, NULL));
  cr_assert (c_async_socket_connect (S (client), "127.0.0.1", port, NULL));
  cr_assert (run_until_count (listener, C_NOTIFY_ACCEPT, 1));
  cr_assert (c_async_socket_accept (S (listener), S (server), NULL, NULL));
  send_text (server, "hello");
  assert_released_once (&r);
  cr_assert (run_until_count (server, C_NOTIFY_CLOSE, 1), "the connection stayed open");
}

Test (release_own_setup, unref_inside_on_connect_stops_on_send_and_on_receive, .timeout = 30)
{
  release_while_connecting (C_NOTIFY_CONNECT);
}

Test (release, unref_inside_on_out_of_band_data_stops_on_receive, .timeout = 30)
{
  Release r;

  watch_release (&r, p.server, C_NOTIFY_OUT_OF_BAND);
  send_text (p.client, "ordinary");
  cr_assert_eq (c_async_socket_send (S (p.client), "!", 1, MSG_OOB, NULL), 1);
  g_steal_pointer (&p.server);
  assert_released_once (&r);
  cr_assert (run_until_count (p.client, C_NOTIFY_CLOSE, 1), "the connection stayed open");
}

Test (release_own_setup, unref_inside_on_send_closes_the_connection, .timeout = 30)
{
  release_while_connecting (C_NOTIFY_SEND);
}

Test (release_own_setup, unref_inside_on_record_stops_the_records_that_arrived_with_it,
      .timeout = 30)
{
  Pair p;
  Release r;
  guint8 frames[6 * 5];

  p.listener = make_listener (NULL, &p.port);
  cr_assert (c_async_socket_set_record_mode (S (p.listener), TRUE, NULL));
  make_pair (p.listener, "127.0.0.1", p.port, &p.client, &p.server);
  /* Six one-byte records in one segment. */
  for (guint i = 0; i < 6; i++)
    {
      const guint8 frame[5] = { 0, 0, 0, 1, (guint8) ('a' + i) };
      memcpy (frames + i * 5, frame, 5);
    }
  watch_release (&r, p.server, TEST_NOTIFY_RECORD);
  cr_assert_eq (c_async_socket_send (S (p.client), frames, sizeof frames, 0, NULL),
                (gssize) sizeof frames);
  g_steal_pointer (&p.server);
  assert_released_once (&r);
  cr_assert (run_until_count (p.client, C_NOTIFY_CLOSE, 1), "the connection stayed open");
  pair_close (&p);
}

/* The same through the signal: an emission holds a reference of its own while it runs. */

static void
unref_from_signal (CAsyncSocket *socket, int error_code, gpointer data)
{
  Release *r = data;
  char byte;

  c_async_socket_receive (socket, &byte, 1, 0, NULL); /* data remains */
  r->released++;
  g_object_unref (socket);
}

Test (release, unref_inside_a_receive_signal_handler_stops_delivery, .timeout = 30)
{
  Release r;

  watch_release (&r, p.server, C_N_NOTIFY); /* counts what reaches the vfuncs */
  g_signal_connect (p.server, "receive", G_CALLBACK (unref_from_signal), &r);
  send_text (p.client, "data");
  cr_assert (c_async_socket_shut_down (S (p.client), C_SHUTDOWN_SENDS, NULL));
  g_steal_pointer (&p.server);
  cr_assert (run_until (is_finalized, &r.weak), "the socket outlived its last reference");
  drain_context ();
  cr_assert_eq (r.released, 1, "the receive signal came %d times", r.released);
  /* The class handler ran once for that same on_receive: it saw r.released == 0 before the
   * signal's own handler ran, or 1 if after; on_close must not follow. */
  cr_assert_leq (r.after, 1, "%d notifications after the release", r.after);
  g_weak_ref_clear (&r.weak);
}

/* A reference held elsewhere keeps the socket alive and delivering: only the last one ends
 * it. */

static void
unref_once_and_read (TestSocket *socket, CNotify which, int error_code, gpointer data)
{
  gboolean *dropped = data;
  char byte;

  if (which != C_NOTIFY_RECEIVE)
    return;
  c_async_socket_receive (S (socket), &byte, 1, 0, NULL);
  if (!*dropped)
    {
      *dropped = TRUE;
      g_object_unref (socket);
    }
}

Test (release, unref_of_one_of_two_references_keeps_delivering, .timeout = 30)
{
  gboolean dropped = FALSE;

  g_object_ref (p.server); /* the application's second reference, kept */
  p.server->hook = unref_once_and_read;
  p.server->hook_data = &dropped;
  send_text (p.client, "0123456789");
  cr_assert (c_async_socket_shut_down (S (p.client), C_SHUTDOWN_SENDS, NULL));
  cr_assert (run_until_count (p.server, C_NOTIFY_CLOSE, 1), "no on_close");
  cr_assert (dropped);
  cr_assert_eq (p.server->counts[C_NOTIFY_RECEIVE], 10, "one on_receive per byte read");
  cr_assert_eq (p.server->errors[C_NOTIFY_CLOSE], 0);
}
