/* test-backend.c: choosing the event back end, and what the io_uring one does differently
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The whole suite also runs with AFXSOCK_BACKEND=io_uring (tools/test.sh); these tests check
 * the choice itself (the API, the environment, the fall-back to epoll where io_uring is
 * refused) and the io_uring transport's own promises (docs/internals.md, "The io_uring back
 * end"): read-ahead is bounded, so the kernel's flow control still reaches the peer, and
 * bytes accepted by a send are delivered even when the socket is closed right after.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "test-util.h"

/* Whether this kernel lets this process make an io_uring instance at all. */
static gboolean
kernel_allows_io_uring (void)
{
  struct io_uring_params params = { 0 };
  long fd = syscall (__NR_io_uring_setup, 4, &params);

  if (fd < 0)
    return FALSE;
  close ((int) fd);
  return TRUE;
}

static CEventBackend
backend_of_a_new_context (void)
{
  g_autoptr (GMainContext) context = g_main_context_new ();
  g_autoptr (TestSocket) socket = NULL;
  CEventBackend backend;

  g_main_context_push_thread_default (context);
  socket = test_socket_new ();
  cr_assert_eq (c_async_socket_get_event_backend (S (socket)), C_EVENT_BACKEND_DEFAULT,
                "a socket without a descriptor has no back end yet");
  cr_assert (c_async_socket_create (S (socket), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", NULL));
  backend = c_async_socket_get_event_backend (S (socket));
  c_async_socket_close (S (socket));
  g_main_context_pop_thread_default (context);
  return backend;
}

Test (backend, the_default_is_epoll_and_the_environment_or_the_api_chooses, .timeout = 30)
{
  g_unsetenv ("AFXSOCK_BACKEND");
  c_event_backend_set_default (C_EVENT_BACKEND_DEFAULT);
  cr_assert_eq (c_event_backend_get_default (), C_EVENT_BACKEND_EPOLL);
  cr_assert_eq (backend_of_a_new_context (), C_EVENT_BACKEND_EPOLL);

  g_setenv ("AFXSOCK_BACKEND", "io_uring", TRUE);
  cr_assert_eq (c_event_backend_get_default (), C_EVENT_BACKEND_IO_URING);
  cr_assert_eq (backend_of_a_new_context (),
                kernel_allows_io_uring () ? C_EVENT_BACKEND_IO_URING : C_EVENT_BACKEND_EPOLL,
                "the back end that runs is io_uring exactly where the kernel allows it");

  /* The API wins over the environment, and DEFAULT gives the choice back to it. */
  c_event_backend_set_default (C_EVENT_BACKEND_EPOLL);
  cr_assert_eq (c_event_backend_get_default (), C_EVENT_BACKEND_EPOLL);
  cr_assert_eq (backend_of_a_new_context (), C_EVENT_BACKEND_EPOLL);
  c_event_backend_set_default (C_EVENT_BACKEND_DEFAULT);
  g_setenv ("AFXSOCK_BACKEND", "epoll", TRUE);
  cr_assert_eq (c_event_backend_get_default (), C_EVENT_BACKEND_EPOLL);
}

/* Makes io_uring_setup fail with EPERM in this (forked) test process, as seccomp profiles of
 * container runtimes do. */
static void
refuse_io_uring (void)
{
  struct sock_filter filter[] = {
    BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, nr)),
    BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
    BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog program = { G_N_ELEMENTS (filter), filter };

  cr_assert_eq (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0, "%s", g_strerror (errno));
  cr_assert_eq (prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program), 0, "%s", g_strerror (errno));
  cr_assert_not (kernel_allows_io_uring (), "the filter did not take");
}

Test (backend, io_uring_refused_by_seccomp_falls_back_to_epoll, .timeout = 30)
{
  Pair p;

  refuse_io_uring ();
  c_event_backend_set_default (C_EVENT_BACKEND_IO_URING);
  pair_open (&p);
  cr_assert_eq (c_async_socket_get_event_backend (S (p.server)), C_EVENT_BACKEND_EPOLL);
  cr_assert_eq (c_async_socket_get_event_backend (S (p.client)), C_EVENT_BACKEND_EPOLL);
  /* and it works: an echo */
  p.server->hook = echo_hook;
  p.client->read_on_receive = TRUE;
  send_text (p.client, "still served");
  cr_assert (run_until_received (p.client, strlen ("still served")));
  cr_assert_eq (memcmp (p.client->received->data, "still served", 12), 0);
  pair_close (&p);
}

/* ---- The io_uring transport ----------------------------------------------------------------- */

static void
require_io_uring (void)
{
  if (!kernel_allows_io_uring ())
    cr_skip_test ("io_uring is not allowed here (a kernel before 5.19, seccomp, or the "
                  "kernel.io_uring_disabled sysctl): the epoll back end runs, tested elsewhere");
  c_event_backend_set_default (C_EVENT_BACKEND_IO_URING);
}

/* A pair whose server end does not select urgent data, so that the ring receives for it. */
static void
ring_pair_open (Pair *p)
{
  pair_open (p);
  cr_assert_eq (c_async_socket_get_event_backend (S (p->server)), C_EVENT_BACKEND_IO_URING);
  cr_assert (
      c_async_socket_async_select (S (p->server), C_FD_READ | C_FD_WRITE | C_FD_CLOSE, NULL));
  cr_assert (
      c_async_socket_async_select (S (p->client), C_FD_READ | C_FD_WRITE | C_FD_CLOSE, NULL));
}

static guint8
pattern_byte (gsize offset)
{
  return (guint8) (offset * 7 + offset / 4093);
}

typedef struct
{
  TestSocket *socket;
  gsize sent, limit;
  gboolean blocked;
} Writer;

/* Writes the pattern until the socket refuses (would block) or @limit bytes are out. */
static void
write_until_refused (Writer *w)
{
  guint8 chunk[65536];

  while (w->sent < w->limit)
    {
      g_autoptr (GError) error = NULL;
      gsize size = MIN (sizeof chunk, w->limit - w->sent);
      gssize n;

      for (gsize i = 0; i < size; i++)
        chunk[i] = pattern_byte (w->sent + i);
      n = c_async_socket_send (S (w->socket), chunk, size, 0, &error);
      if (n < 0)
        {
          cr_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK), "%s",
                     error->message);
          w->blocked = TRUE;
          return;
        }
      w->sent += (gsize) n;
    }
}

static gboolean
writer_blocked (gpointer data)
{
  Writer *w = data;

  write_until_refused (w);
  return w->blocked || w->sent == w->limit;
}

typedef struct
{
  TestSocket *socket;
  gsize received;
  gboolean intact, ended;
} Reader;

static gboolean
read_to_end (gpointer data)
{
  Reader *r = data;
  guint8 buffer[65536];

  for (;;)
    {
      g_autoptr (GError) error = NULL;
      gssize n = c_async_socket_receive (S (r->socket), buffer, sizeof buffer, 0, &error);

      if (n == 0)
        r->ended = TRUE;
      if (n <= 0)
        return r->ended;
      for (gssize i = 0; i < n; i++)
        if (buffer[i] != pattern_byte (r->received + (gsize) i))
          r->intact = FALSE;
      r->received += (gsize) n;
    }
}

/* The ring reads ahead of the application, but only so far: a peer writing to a socket that
 * is not read is stopped by the kernel's window as with epoll, and nothing is lost. */
Test (backend, read_ahead_is_bounded_and_loses_nothing, .timeout = 60)
{
  const gsize limit = 64 << 20;
  Pair p;
  Writer w;
  Reader r;
  guint32 unread = 0;

  require_io_uring ();
  ring_pair_open (&p);
  w = (Writer){ p.client, 0, limit, FALSE };
  cr_assert (run_until (writer_blocked, &w));
  cr_assert (w.blocked, "64 MiB went into a socket nobody reads: the read-ahead is unbounded");
  drain_context ();
  cr_assert (c_async_socket_ioctl (S (p.server), FIONREAD, &unread, NULL));
  cr_assert_gt (unread, 0, "FIONREAD counts the bytes read ahead");

  r = (Reader){ p.server, 0, TRUE, FALSE };
  cr_assert (c_async_socket_shut_down (S (p.client), C_SHUTDOWN_SENDS, NULL));
  cr_assert (run_until_within (read_to_end, &r, 30000), "%zu of %zu bytes arrived", r.received,
             w.sent);
  cr_assert_eq (r.received, w.sent);
  cr_assert (r.intact, "bytes arrived out of order or changed");
  pair_close (&p);
}

/* A send the kernel cannot take yet is kept by the ring; closing the socket then is like
 * closing one with a full send buffer: every accepted byte still reaches the peer, then the
 * end of the stream. */
Test (backend, bytes_accepted_before_a_close_all_arrive, .timeout = 60)
{
  Pair p;
  Writer w;
  Reader r;

  require_io_uring ();
  ring_pair_open (&p);
  w = (Writer){ p.server, 0, 64 << 20, FALSE };
  cr_assert (run_until (writer_blocked, &w));
  cr_assert (w.blocked, "the peer's buffers took 64 MiB");
  c_async_socket_close (S (p.server));
  g_clear_object (&p.server);

  r = (Reader){ p.client, 0, TRUE, FALSE };
  cr_assert (run_until_within (read_to_end, &r, 30000), "%zu of %zu bytes arrived", r.received,
             w.sent);
  cr_assert_eq (r.received, w.sent, "bytes accepted by a send were lost at the close");
  cr_assert (r.intact);
  pair_close (&p);
}

/* Urgent data cannot be read ahead (a read past TCP's mark drops the urgent byte): a socket
 * that selects it reads from the kernel, and gets it. Deselecting it gives the ring back. */
Test (backend, urgent_data_is_kept_for_a_socket_that_selects_it, .timeout = 30)
{
  Pair p;
  char byte = 0;

  require_io_uring ();
  ring_pair_open (&p);
  send_text (p.client, "before");
  p.server->read_on_receive = TRUE;
  cr_assert (run_until_received (p.server, 6), "the ring's receive");
  cr_assert (c_async_socket_async_select (S (p.server), C_FD_ALL, NULL));
  cr_assert_eq (c_async_socket_send (S (p.client), "!", 1, MSG_OOB, NULL), 1);
  cr_assert (run_until_count (p.server, C_NOTIFY_OUT_OF_BAND, 1));
  cr_assert_eq (c_async_socket_receive (S (p.server), &byte, 1, MSG_OOB, NULL), 1);
  cr_assert_eq (byte, '!');

  cr_assert (c_async_socket_async_select (S (p.server), C_FD_READ | C_FD_WRITE | C_FD_CLOSE, NULL));
  send_text (p.client, "after");
  cr_assert (run_until_received (p.server, 11));
  cr_assert_eq (memcmp (p.server->received->data, "beforeafter", 11), 0);
  pair_close (&p);
}
