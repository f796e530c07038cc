/* chat-message.c: the chat's one record, MFC's CHATSRVR/CHATTER CMsg
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * MFC's CMsg::Serialize writes a message as
 *
 *     ar << (WORD) m_bClose;      WORD
 *     ar << m_strText;            CString
 *     m_msgList.Serialize (ar);   CStringList: WriteCount, then each CString
 *
 * and chat_message_serialize() does exactly that (the CStringList with
 * c_archive_write_strv() and c_archive_read_strv()), so in C_ARCHIVE_FORMAT_MFC the bytes are
 * those of the MFC samples and an afxsock client can talk to the MFC server and back. In
 * the default network format the same fields are big-endian with 32-bit lengths.
 */
#include "chat-message.h"

/**
 * chat_message_new:
 * @close: whether the sender is leaving
 * @text: (nullable): the text, %NULL for none
 *
 * Returns: (transfer full): a message without lines
 */
ChatMessage *
chat_message_new (gboolean close, const char *text)
{
  ChatMessage *self = g_new0 (ChatMessage, 1);

  self->close = close;
  self->text = g_strdup (text ? text : "");
  self->lines = g_ptr_array_new_with_free_func (g_free);
  return self;
}

void
chat_message_free (ChatMessage *self)
{
  if (self == NULL)
    return;
  g_free (self->text);
  g_ptr_array_unref (self->lines);
  g_free (self);
}

void
chat_message_add_line (ChatMessage *self, const char *line)
{
  g_ptr_array_add (self->lines, g_strdup (line));
}

static void
store (ChatMessage *self, CArchive *archive)
{
  c_archive_write_word (archive, self->close ? 1 : 0);
  c_archive_write_cstring (archive, self->text);
  /* m_msgList.Serialize (ar): the lines, NULL-terminated for the call. */
  g_ptr_array_add (self->lines, NULL);
  c_archive_write_strv (archive, (const char *const *) self->lines->pdata);
  g_ptr_array_remove_index (self->lines, self->lines->len - 1);
}

static void
load (ChatMessage *self, CArchive *archive)
{
  g_auto (GStrv) lines = NULL;

  /* MFC reads the WORD into a BOOL: any value but 0 means close. */
  self->close = c_archive_read_word (archive) != 0;
  g_free (self->text);
  self->text = c_archive_read_cstring (archive);
  /* The archive's count limit bounds the list; the strings grow with what arrives. */
  lines = c_archive_read_strv (archive);
  g_ptr_array_set_size (self->lines, 0);
  for (guint i = 0; lines[i] != NULL; i++)
    g_ptr_array_add (self->lines, g_steal_pointer (&lines[i]));
}

/**
 * chat_message_serialize:
 * @self: a message
 * @archive: a storing or a loading archive
 *
 * Writes @self to a storing archive, or replaces its contents with the next message of a
 * loading one (MFC's `Serialize`, both ways). Errors stay in the archive: check it with
 * c_archive_check() afterwards.
 */
void
chat_message_serialize (ChatMessage *self, CArchive *archive)
{
  if (c_archive_is_storing (archive))
    store (self, archive);
  else
    load (self, archive);
}

/**
 * chat_message_set_limits:
 * @archive: a loading archive
 *
 * Sets the limits a chat peer needs, far below the archive's defaults: a message's text
 * and each line at most #CHAT_MAX_TEXT_BYTES, at most #CHAT_MAX_LINES lines. A peer that
 * claims more is refused at the length prefix, before any byte of it is read.
 */
void
chat_message_set_limits (CArchive *archive)
{
  c_archive_set_limit (archive, C_ARCHIVE_LIMIT_STRING_LENGTH, CHAT_MAX_TEXT_BYTES);
  c_archive_set_limit (archive, C_ARCHIVE_LIMIT_COUNT, CHAT_MAX_LINES);
}

/**
 * chat_format:
 * @mfc: the `--mfc` switch
 *
 * Returns: the archive format both programs use
 */
CArchiveFormat
chat_format (gboolean mfc)
{
  return mfc ? C_ARCHIVE_FORMAT_MFC : C_ARCHIVE_FORMAT_NETWORK;
}

/**
 * chat_check_code_page:
 * @code_page: (nullable): the `--codepage` option
 * @mfc: the `--mfc` switch
 * @error: where a code page that cannot be used is said
 *
 * Checks `--codepage`: the Windows code page of ANSI MFC peers (c_archive_set_code_page()),
 * meaningful in MFC's format only, since the network format is UTF-8.
 *
 * Returns: whether both programs can use @code_page (%NULL: none)
 */
gboolean
chat_check_code_page (const char *code_page, gboolean mfc, GError **error)
{
  g_autoptr (CArchive) probe = NULL;

  if (code_page == NULL)
    return TRUE;
  if (!mfc)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "--codepage needs --mfc: the network format is always UTF-8");
      return FALSE;
    }
  probe = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_MFC);
  return c_archive_set_code_page (probe, code_page, error);
}

/**
 * chat_text_fits:
 * @text: what a client is about to say
 * @code_page: (nullable): the code page of the conversation
 * @error: where a character the code page lacks is named
 *
 * A storing archive refuses text its code page cannot represent, and its error is sticky:
 * the connection would be over. This asks first, with a message written to memory.
 *
 * Returns: whether @text can be sent in @code_page
 */
gboolean
chat_text_fits (const char *text, const char *code_page, GError **error)
{
  g_autoptr (CArchive) probe = NULL;
  g_autoptr (ChatMessage) message = NULL;

  if (code_page == NULL)
    return TRUE;
  probe = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_MFC);
  message = chat_message_new (FALSE, text);
  if (!c_archive_set_code_page (probe, code_page, error))
    return FALSE;
  chat_message_serialize (message, probe);
  return c_archive_check (probe, error);
}
