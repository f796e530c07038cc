/* test-chat-message.c: the chat message's bytes, MFC's CHATSRVR CMsg to the byte
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <criterion/criterion.h>
#include <string.h>

#include "chat-message.h"

static GBytes *
store (ChatMessage *message, CArchiveFormat format)
{
  g_autoptr (CArchive) archive = c_archive_new_store_to_memory (format);
  g_autoptr (GError) error = NULL;

  chat_message_serialize (message, archive);
  cr_assert (c_archive_check (archive, &error), "%s", error ? error->message : "");
  return c_archive_steal_bytes (archive);
}

static void
assert_bytes (GBytes *bytes, const guint8 *expected, gsize expected_size)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  g_autofree char *got = g_strdup ("");

  for (gsize i = 0; i < size; i++)
    {
      char *more = g_strdup_printf ("%s%02x ", got, data[i]);
      g_free (got);
      got = more;
    }
  cr_assert_eq (size, expected_size, "%zu bytes, expected %zu: %s", size, expected_size, got);
  cr_assert_eq (memcmp (data, expected, size), 0, "bytes differ: %s", got);
}

static ChatMessage *
known_message (void)
{
  ChatMessage *message = chat_message_new (FALSE, "Hello");

  chat_message_add_line (message, "alice: hi");
  chat_message_add_line (message, "bob: yo");
  return message;
}

/* MFC: WORD close flag (little-endian), CString with a one-byte length for short ASCII
 * text, WORD count, each CString. */
static const guint8 mfc_known[] = {
  0x00, 0x00,                                         /* m_bClose = FALSE */
  0x05, 'H',  'e', 'l', 'l', 'o',                     /* m_strText */
  0x02, 0x00,                                         /* m_msgList: WriteCount (2) */
  0x09, 'a',  'l', 'i', 'c', 'e', ':', ' ', 'h', 'i', /* "alice: hi" */
  0x07, 'b',  'o', 'b', ':', ' ', 'y', 'o',           /* "bob: yo" */
};

Test (chat_message, mfc_bytes_are_those_of_chatsrvr_cmsg, .timeout = 10)
{
  g_autoptr (ChatMessage) message = known_message ();
  g_autoptr (GBytes) bytes = store (message, C_ARCHIVE_FORMAT_MFC);

  assert_bytes (bytes, mfc_known, sizeof mfc_known);
}

Test (chat_message, mfc_close_message_bytes, .timeout = 10)
{
  static const guint8 expected[] = { 0x01, 0x00, 0x03, 'b', 'y', 'e', 0x00, 0x00 };
  g_autoptr (ChatMessage) message = chat_message_new (TRUE, "bye");
  g_autoptr (GBytes) bytes = store (message, C_ARCHIVE_FORMAT_MFC);

  assert_bytes (bytes, expected, sizeof expected);
}

Test (chat_message, mfc_text_beyond_ascii_is_a_wide_cstring, .timeout = 10)
{
  /* MFC's Unicode mark (ff fe ff), the length in UTF-16 code units, then UTF-16LE. */
  static const guint8 expected[]
      = { 0x00, 0x00, 0xff, 0xfe, 0xff, 0x03, 'c', 0x00, 0xe9, 0x00, 0xac, 0x20, 0x00, 0x00 };
  g_autoptr (ChatMessage) message = chat_message_new (FALSE, "c\xc3\xa9\xe2\x82\xac");
  g_autoptr (GBytes) bytes = store (message, C_ARCHIVE_FORMAT_MFC);

  assert_bytes (bytes, expected, sizeof expected);
}

Test (chat_message, network_bytes_are_big_endian_with_32_bit_lengths, .timeout = 10)
{
  static const guint8 expected[] = {
    0x00, 0x00,                                                          /* close flag */
    0x00, 0x00, 0x00, 0x05, 'H', 'e', 'l', 'l', 'o',                     /* text */
    0x00, 0x00, 0x00, 0x02,                                              /* count */
    0x00, 0x00, 0x00, 0x09, 'a', 'l', 'i', 'c', 'e', ':', ' ', 'h', 'i', /* "alice: hi" */
    0x00, 0x00, 0x00, 0x07, 'b', 'o', 'b', ':', ' ', 'y', 'o',           /* "bob: yo" */
  };
  g_autoptr (ChatMessage) message = known_message ();
  g_autoptr (GBytes) bytes = store (message, C_ARCHIVE_FORMAT_NETWORK);

  assert_bytes (bytes, expected, sizeof expected);
}

Test (chat_message, mfc_bytes_load_back_into_the_message, .timeout = 10)
{
  g_autoptr (CArchive) archive
      = c_archive_new_load_from_data (mfc_known, sizeof mfc_known, C_ARCHIVE_FORMAT_MFC);
  g_autoptr (ChatMessage) message = chat_message_new (TRUE, "replaced");
  g_autoptr (GError) error = NULL;

  chat_message_serialize (message, archive);
  cr_assert (c_archive_check (archive, &error), "%s", error ? error->message : "");
  cr_assert_not (message->close);
  cr_assert_str_eq (message->text, "Hello");
  cr_assert_eq (message->lines->len, 2);
  cr_assert_str_eq (g_ptr_array_index (message->lines, 0), "alice: hi");
  cr_assert_str_eq (g_ptr_array_index (message->lines, 1), "bob: yo");
  cr_assert (c_archive_is_buffer_empty (archive));
}

Test (chat_message, limits_refuse_a_long_text_and_too_many_lines, .timeout = 10)
{
  /* A text claiming 4 GiB (MFC's escapes up to a QWORD), and a count of 1025 lines. */
  static const guint8 huge_text[]
      = { 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1, 0, 0, 0 };
  static const guint8 many_lines[] = { 0x00, 0x00, 0x00, 0x01, 0x04 };
  g_autoptr (ChatMessage) message = chat_message_new (FALSE, NULL);
  g_autoptr (CArchive) first
      = c_archive_new_load_from_data (huge_text, sizeof huge_text, C_ARCHIVE_FORMAT_MFC);
  g_autoptr (CArchive) second
      = c_archive_new_load_from_data (many_lines, sizeof many_lines, C_ARCHIVE_FORMAT_MFC);

  chat_message_set_limits (first);
  chat_message_serialize (message, first);
  cr_assert (g_error_matches (c_archive_get_error (first), C_ARCHIVE_ERROR,
                              C_ARCHIVE_ERROR_LIMIT_EXCEEDED));
  chat_message_set_limits (second);
  chat_message_serialize (message, second);
  cr_assert (g_error_matches (c_archive_get_error (second), C_ARCHIVE_ERROR,
                              C_ARCHIVE_ERROR_LIMIT_EXCEEDED),
             "%s", c_archive_get_error (second) ? c_archive_get_error (second)->message : "none");
  cr_assert_eq (message->lines->len, 0);
}
