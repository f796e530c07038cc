/* test-archive-streams.c: the archive's own buffer over GIO streams, flush, close, abort
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif

#include <criterion/criterion.h>

#include "archive-test-util.h"

static TestChunkedInput *
input_from_hex (const char *hex, gsize chunk)
{
  g_autoptr (GBytes) bytes = test_bytes_from_hex (hex);

  return test_chunked_input_new (bytes, chunk);
}

Test (archive_stream, refill_is_one_read_asking_for_the_free_space, .timeout = 10)
{
  g_autoptr (TestChunkedInput) input = input_from_hex ("00 00 00 01 00 00 00 02 00 00 00 03", 1000);
  g_autoptr (CArchive) ar
      = c_archive_new_load_from_stream (G_INPUT_STREAM (input), C_ARCHIVE_FORMAT_NETWORK, 0);

  cr_assert_eq (c_archive_read_dword (ar), 1);
  cr_assert_eq (input->reads, 1);
  cr_assert_eq (input->largest_request, C_ARCHIVE_DEFAULT_BUFFER_SIZE);
  cr_assert_not (c_archive_is_buffer_empty (ar), "the other two DWORDs were read ahead");
  cr_assert_eq (c_archive_read_dword (ar), 2);
  cr_assert_eq (c_archive_read_dword (ar), 3);
  cr_assert_eq (input->reads, 1, "read-ahead bytes are used before the stream is read again");
  cr_assert (c_archive_is_buffer_empty (ar));
  test_assert_ok (ar);
}

Test (archive_stream, short_reads_are_accepted_and_only_missing_bytes_wait, .timeout = 10)
{
  g_autoptr (TestChunkedInput) input = input_from_hex ("00 00 00 07 09", 1);
  g_autoptr (CArchive) ar
      = c_archive_new_load_from_stream (G_INPUT_STREAM (input), C_ARCHIVE_FORMAT_NETWORK, 0);

  cr_assert_eq (c_archive_read_dword (ar), 7);
  cr_assert_eq (input->reads, 4, "one read per missing byte, none beyond the field");
  cr_assert (c_archive_is_buffer_empty (ar));
  cr_assert_eq (c_archive_read_byte (ar), 9);
  cr_assert_eq (input->reads, 5);
  test_assert_ok (ar);
}

static GBytes *
store_records (int n)
{
  g_autoptr (CArchive) ar = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_MFC);

  for (int i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf ("message %d", i);

      c_archive_write_word (ar, (guint16) i);
      c_archive_write_cstring (ar, text);
    }
  return c_archive_steal_bytes (ar);
}

/* MFC's CHATTER loop: do { ar >> msg; } while (!ar.IsBufferEmpty ()); */
static int
receive_loop (CArchive *ar, int first)
{
  int received = 0;

  do
    {
      g_autofree char *expected = g_strdup_printf ("message %d", first + received);
      g_autofree char *text = NULL;

      cr_assert_eq (c_archive_read_word (ar), first + received);
      text = c_archive_read_cstring (ar);
      cr_assert_str_eq (text, expected);
      received++;
    }
  while (!c_archive_is_buffer_empty (ar));
  return received;
}

Test (archive_stream, is_buffer_empty_drives_the_mfc_receive_loop, .timeout = 10)
{
  g_autoptr (GBytes) records = store_records (3);
  g_autoptr (TestChunkedInput) input = test_chunked_input_new (records, 4096);
  g_autoptr (CArchive) ar
      = c_archive_new_load_from_stream (G_INPUT_STREAM (input), C_ARCHIVE_FORMAT_MFC, 0);

  cr_assert_eq (receive_loop (ar, 0), 3, "all three records came in one read");
  cr_assert_eq (input->reads, 1);
  test_assert_ok (ar);
}

Test (archive_stream, one_byte_stream_never_reads_past_a_record, .timeout = 10)
{
  g_autoptr (GBytes) records = store_records (3);
  g_autoptr (TestChunkedInput) input = test_chunked_input_new (records, 1);
  g_autoptr (CArchive) ar
      = c_archive_new_load_from_stream (G_INPUT_STREAM (input), C_ARCHIVE_FORMAT_MFC, 0);

  for (int i = 0; i < 3; i++)
    {
      cr_assert_eq (receive_loop (ar, i), 1, "one record per loop: nothing was read ahead");
      cr_assert_eq (input->offset, c_archive_get_position (ar));
    }
  test_assert_ok (ar);
}

Test (archive_stream, zero_byte_read_inside_a_field_is_sticky_end_of_file, .timeout = 10)
{
  g_autoptr (TestChunkedInput) input = input_from_hex ("00 01", 1);
  g_autoptr (CArchive) ar
      = c_archive_new_load_from_stream (G_INPUT_STREAM (input), C_ARCHIVE_FORMAT_NETWORK, 0);
  guint reads;

  cr_assert_eq (c_archive_read_dword (ar), 0);
  test_assert_archive_error (ar, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_END_OF_FILE,
                             "reading DWORD at offset 0: end of archive", NULL);
  reads = input->reads;
  cr_assert_eq (c_archive_read_byte (ar), 0);
  cr_assert_eq (input->reads, reads, "a failed archive does not touch its stream");
}

Test (archive_stream, stream_error_keeps_gio_domain_with_field_context, .timeout = 10)
{
  g_autoptr (TestChunkedInput) input = input_from_hex ("00 00 00 01 00 00 00 02", 1);
  g_autoptr (CArchive) ar
      = c_archive_new_load_from_stream (G_INPUT_STREAM (input), C_ARCHIVE_FORMAT_NETWORK, 0);

  input->fail_at = 6;
  cr_assert_eq (c_archive_read_dword (ar), 1);
  cr_assert_eq (c_archive_read_dword (ar), 0);
  test_assert_archive_error (ar, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                             "reading DWORD at offset 4: test failure", NULL);
}

Test (archive_stream, cancelled_read_reports_cancellation, .timeout = 10)
{
  g_autoptr (GBytes) bytes = test_bytes_from_hex ("00 00 00 01");
  g_autoptr (GInputStream) input = g_memory_input_stream_new_from_bytes (bytes);
  g_autoptr (CArchive) ar = c_archive_new_load_from_stream (input, C_ARCHIVE_FORMAT_NETWORK, 0);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();

  c_archive_set_cancellable (ar, cancellable);
  g_cancellable_cancel (cancellable);
  cr_assert_eq (c_archive_read_dword (ar), 0);
  test_assert_archive_error (ar, G_IO_ERROR, G_IO_ERROR_CANCELLED, "reading DWORD at offset 0",
                             NULL);
}

/* Caps the address space so that an allocation of the claimed length would abort the
 * test: the archive must fail on the missing bytes instead. Sanitizers and Valgrind
 * reserve huge address ranges of their own, so the cap is skipped under them; the
 * QWORD-length case below still catches an up-front allocation there. */
static void
cap_address_space (void)
{
#if defined(__SANITIZE_ADDRESS__)
  return;
#else
  struct rlimit limit;
  unsigned long pages = 0;
  FILE *statm;

#ifdef RUNNING_ON_VALGRIND
  if (RUNNING_ON_VALGRIND)
    return;
#endif
  statm = fopen ("/proc/self/statm", "r");
  if (statm == NULL)
    return;
  if (fscanf (statm, "%lu", &pages) != 1)
    pages = 0;
  fclose (statm);
  limit.rlim_cur = limit.rlim_max = (rlim_t) pages * 4096 + (rlim_t) 1024 * 1024 * 1024;
  if (pages > 0)
    cr_assert_eq (setrlimit (RLIMIT_AS, &limit), 0);
#endif
}

static void
assert_claim_fails_without_allocating (const char *hex, CArchiveFormat format, const char *left)
{
  for (int t = 0; t < N_TRANSPORTS; t++)
    {
      g_autoptr (GBytes) bytes = test_bytes_from_hex (hex);
      g_autoptr (CArchive) ar = test_load (bytes, format, t);
      g_autofree char *text = NULL;

      c_archive_set_limit (ar, C_ARCHIVE_LIMIT_STRING_LENGTH, G_MAXUINT64);
      text = c_archive_read_cstring (ar);
      cr_assert_str_eq (text, "");
      test_assert_archive_error (ar, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_END_OF_FILE,
                                 "reading CString at offset 0", left, NULL);
    }
}

Test (archive_stream, four_gib_string_with_ten_bytes_fails_without_allocating, .timeout = 20)
{
  cap_address_space ();
  assert_claim_fails_without_allocating ("ff ff ff fe 30 31 32 33 34 35 36 37 38 39",
                                         C_ARCHIVE_FORMAT_NETWORK, "4294967294 bytes needed");
  assert_claim_fails_without_allocating ("ff ff ff fe ff ff ff 30 31 32 33 34 35 36 37 38 39",
                                         C_ARCHIVE_FORMAT_MFC, "4294967294 bytes needed");
  assert_claim_fails_without_allocating (
      "ff ff ff ff 40 00 00 00 00 00 00 00 30 31 32 33 34 35 36 37 38 39", C_ARCHIVE_FORMAT_NETWORK,
      "4611686018427387904 bytes needed, 10 left");
}

static TestChunkedOutput *
new_output (gsize chunk)
{
  return test_chunked_output_new (chunk);
}

Test (archive_stream, storing_buffers_until_flush, .timeout = 10)
{
  g_autoptr (TestChunkedOutput) output = new_output (1000);
  g_autoptr (CArchive) ar
      = c_archive_new_store_to_stream (G_OUTPUT_STREAM (output), C_ARCHIVE_FORMAT_NETWORK, 0);
  g_autoptr (GError) error = NULL;

  c_archive_write_dword (ar, 1);
  c_archive_write_cstring (ar, "hello");
  cr_assert_eq (output->data->len, 0, "nothing is sent before flush");
  cr_assert_not (c_archive_is_buffer_empty (ar));
  cr_assert (c_archive_flush (ar, &error));
  cr_assert_eq (output->data->len, 13);
  cr_assert_eq (output->flushes, 1, "flush also flushes the stream");
  cr_assert (c_archive_is_buffer_empty (ar));
  cr_assert_eq (c_archive_get_position (ar), 13);
}

Test (archive_stream, full_buffer_is_written_and_large_blocks_bypass_it, .timeout = 10)
{
  g_autoptr (TestChunkedOutput) output = new_output (3);
  g_autoptr (CArchive) ar
      = c_archive_new_store_to_stream (G_OUTPUT_STREAM (output), C_ARCHIVE_FORMAT_MFC, 64);
  g_autofree guint8 *block = g_malloc (10000);

  for (int i = 0; i < 10000; i++)
    block[i] = (guint8) i;
  for (int i = 0; i < 20; i++)
    c_archive_write_dword (ar, (guint32) i);
  cr_assert_gt (output->data->len, 0, "a full buffer goes out before flush");
  c_archive_write (ar, block, 10000);
  cr_assert (c_archive_close (ar, NULL));
  cr_assert_eq (output->data->len, 80 + 10000);
  cr_assert (memcmp (output->data->data + 80, block, 10000) == 0);
  for (guint32 i = 0; i < 20; i++)
    cr_assert_eq (output->data->data[4 * i], i);
}

Test (archive_stream, write_error_is_sticky_and_keeps_gio_domain, .timeout = 10)
{
  g_autoptr (TestChunkedOutput) output = new_output (100);
  g_autoptr (CArchive) ar
      = c_archive_new_store_to_stream (G_OUTPUT_STREAM (output), C_ARCHIVE_FORMAT_NETWORK, 64);
  g_autoptr (GError) error = NULL;

  output->fail = TRUE;
  for (int i = 0; i < 20; i++)
    c_archive_write_dword (ar, (guint32) i);
  test_assert_archive_error (ar, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE,
                             "writing DWORD at offset 64: test broken pipe", NULL);
  cr_assert_not (c_archive_close (ar, &error));
  cr_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE));
}

Test (archive_stream, flush_after_a_failed_field_sends_nothing, .timeout = 10)
{
  g_autoptr (TestChunkedOutput) output = new_output (100);
  g_autoptr (CArchive) ar
      = c_archive_new_store_to_stream (G_OUTPUT_STREAM (output), C_ARCHIVE_FORMAT_NETWORK, 0);
  g_autoptr (GError) error = NULL;

  c_archive_write_dword (ar, 1);
  c_archive_write_cstring (ar, "\xff");
  cr_assert_not (c_archive_flush (ar, &error));
  cr_assert (g_error_matches (error, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_BAD_DATA));
  cr_assert_eq (output->data->len, 0, "a record with a bad field is never sent");
}

Test (archive_stream, close_flushes_and_later_use_fails, .timeout = 10)
{
  g_autoptr (TestChunkedOutput) output = new_output (100);
  g_autoptr (CArchive) ar
      = c_archive_new_store_to_stream (G_OUTPUT_STREAM (output), C_ARCHIVE_FORMAT_NETWORK, 0);

  c_archive_write_word (ar, 0xABCD);
  cr_assert (c_archive_close (ar, NULL));
  cr_assert_eq (output->data->len, 2);
  cr_assert_not (g_output_stream_is_closed (G_OUTPUT_STREAM (output)), "the stream stays open");
  cr_assert (c_archive_close (ar, NULL), "closing twice is harmless");
  c_archive_write_word (ar, 1);
  test_assert_archive_error (ar, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_GENERIC, "closed", NULL);
  cr_assert_eq (output->data->len, 2);
}

Test (archive_stream, abort_drops_buffered_bytes, .timeout = 10)
{
  g_autoptr (TestChunkedOutput) output = new_output (100);
  g_autoptr (CArchive) ar
      = c_archive_new_store_to_stream (G_OUTPUT_STREAM (output), C_ARCHIVE_FORMAT_NETWORK, 0);

  c_archive_write_word (ar, 0xABCD);
  c_archive_abort (ar);
  g_clear_object (&ar);
  cr_assert_eq (output->data->len, 0);
}

Test (archive_stream, unref_flushes_like_the_mfc_destructor, .timeout = 10)
{
  g_autoptr (TestChunkedOutput) output = new_output (100);
  CArchive *ar
      = c_archive_new_store_to_stream (G_OUTPUT_STREAM (output), C_ARCHIVE_FORMAT_NETWORK, 0);

  c_archive_write_word (ar, 0xABCD);
  g_object_unref (ar);
  cr_assert_eq (output->data->len, 2);
}

Test (archive_stream, loading_flush_gives_read_ahead_back_to_a_seekable_stream, .timeout = 10)
{
  g_autoptr (GBytes) bytes = test_bytes_from_hex ("00 01 00 02 00 03");
  g_autoptr (GInputStream) input = g_memory_input_stream_new_from_bytes (bytes);
  g_autoptr (CArchive) first = c_archive_new_load_from_stream (input, C_ARCHIVE_FORMAT_NETWORK, 0);
  g_autoptr (CArchive) second = NULL;

  cr_assert_eq (c_archive_read_word (first), 1);
  cr_assert_eq (g_seekable_tell (G_SEEKABLE (input)), 6, "the archive read ahead");
  cr_assert (c_archive_flush (first, NULL));
  cr_assert_eq (g_seekable_tell (G_SEEKABLE (input)), 2);
  cr_assert (c_archive_is_buffer_empty (first));
  second = c_archive_new_load_from_stream (input, C_ARCHIVE_FORMAT_NETWORK, 0);
  cr_assert_eq (c_archive_read_word (second), 2);
  cr_assert (c_archive_flush (second, NULL));
  cr_assert_eq (c_archive_read_word (first), 3, "the first archive reads on from the stream");
  test_assert_ok (first);
}

Test (archive_stream, steal_bytes_takes_one_record_at_a_time, .timeout = 10)
{
  g_autoptr (CArchive) ar = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_NETWORK);
  g_autoptr (GBytes) first = NULL;
  g_autoptr (GBytes) copy = NULL;
  g_autoptr (GBytes) second = NULL;
  g_autofree char *first_hex = NULL;
  g_autofree char *second_hex = NULL;

  c_archive_write_word (ar, 1);
  copy = c_archive_get_bytes (ar);
  first = c_archive_steal_bytes (ar);
  cr_assert (g_bytes_equal (copy, first));
  cr_assert (c_archive_is_buffer_empty (ar));
  c_archive_write_dword (ar, 2);
  cr_assert_eq (c_archive_get_position (ar), 6, "offsets count from the first record");
  second = c_archive_steal_bytes (ar);
  first_hex = test_hex (first);
  second_hex = test_hex (second);
  cr_assert_str_eq (first_hex, "00 01");
  cr_assert_str_eq (second_hex, "00 00 00 02");
}

Test (archive_stream, load_from_data_copies_the_bytes, .timeout = 10)
{
  char data[2] = { 0x12, 0x34 };
  g_autoptr (CArchive) ar = c_archive_new_load_from_data (data, 2, C_ARCHIVE_FORMAT_NETWORK);

  data[0] = 0;
  cr_assert_eq (c_archive_read_word (ar), 0x1234);
}

Test (archive_stream, position_counts_bytes_consumed_across_refills, .timeout = 10)
{
  g_autoptr (GBytes) records = store_records (50);
  g_autoptr (TestChunkedInput) input = test_chunked_input_new (records, 7);
  g_autoptr (CArchive) ar
      = c_archive_new_load_from_stream (G_INPUT_STREAM (input), C_ARCHIVE_FORMAT_MFC, 64);

  cr_assert_eq (receive_loop (ar, 0) > 0, TRUE);
  while (c_archive_get_position (ar) < g_bytes_get_size (records))
    {
      g_autofree char *text = NULL;

      c_archive_read_word (ar);
      text = c_archive_read_cstring (ar);
    }
  test_assert_ok (ar);
  cr_assert_eq (c_archive_get_position (ar), g_bytes_get_size (records));
}
