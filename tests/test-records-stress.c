/* test-records-stress.c: the write queue under a reader that never reads
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * In the "scale" suite: it pushes a gigabyte through the API, too slow for Valgrind.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "test-util.h"

static GBytes *
pattern (gsize size, guint seed)
{
  guint8 *data = g_malloc (size ? size : 1);
  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) (i * 31 + seed + i / 997);
  return g_bytes_new_take (data, size);
}

static long
rss_kib (void)
{
  long pages = 0, resident = 0;
  FILE *f = fopen ("/proc/self/statm", "r");
  cr_assert_not_null (f);
  cr_assert_eq (fscanf (f, "%ld %ld", &pages, &resident), 2);
  fclose (f);
  return resident * (sysconf (_SC_PAGESIZE) / 1024);
}

static gboolean
has_drained (gpointer data)
{
  return ((TestSocket *) data)->drains > 0;
}

Test (records, a_stalled_reader_stops_the_writer_at_the_high_mark, .timeout = 120)
{
  Pair p;
  const gsize record_size = 1 << 20;
  guint accepted = 0, refused = 0;
  long rss_before, rss_after;
  g_autoptr (GError) error = NULL;
  gsize low, high;

  p.listener = make_listener (NULL, &p.port);
  cr_assert (c_async_socket_set_record_mode (S (p.listener), TRUE, NULL));
  make_pair (p.listener, "127.0.0.1", p.port, &p.client, &p.server);
  cr_assert (c_async_socket_set_record_mode (S (p.client), TRUE, NULL));
  c_async_socket_get_water_marks (S (p.client), &low, &high);
  cr_assert (c_async_socket_async_select (S (p.server), C_FD_NONE, NULL)); /* never reads */
  rss_before = rss_kib ();
  /* Try to push 1 GiB, each record its own allocation, as an application would. */
  for (guint i = 0; i < 1024; i++)
    {
      g_autoptr (GBytes) record = pattern (record_size, i);
      if (c_async_socket_send_record (S (p.client), record, &error))
        accepted++;
      else
        {
          cr_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK), "%s",
                     error->message);
          g_clear_error (&error);
          refused++;
        }
      drain_context ();
    }
  rss_after = rss_kib ();
  cr_assert_gt (refused, 0);
  cr_assert_leq (c_async_socket_get_queued_bytes (S (p.client)), high + record_size + 4);
  /* Queue bound plus what the kernel buffers: far below the 1 GiB pushed. (AddressSanitizer's
   * quarantine keeps freed blocks resident, so RSS says nothing about the library there; the
   * plain and Valgrind-free runs measure it.) */
#ifndef __SANITIZE_ADDRESS__
  cr_assert_lt (rss_after - rss_before, 64 * 1024, "RSS grew by %ld KiB", rss_after - rss_before);
#endif
  cr_log_info ("stalled reader: %u MiB accepted, %u refused, RSS +%ld KiB (high mark %zu KiB)",
               accepted, refused, rss_after - rss_before, high / 1024);

  /* The reader wakes up: the queue drains and the writer is told. */
  cr_assert (c_async_socket_async_select (S (p.server), C_FD_ALL, NULL));
  cr_assert (run_until (has_drained, p.client), "no on_drain after the stall");
  cr_assert_leq (c_async_socket_get_queued_bytes (S (p.client)), low);
  cr_assert (run_until_records (p.server, accepted));
  g_object_unref (p.client);
  g_object_unref (p.server);
  g_object_unref (p.listener);
}
