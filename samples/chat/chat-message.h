/* chat-message.h: the chat's one record, MFC's CHATSRVR/CHATTER CMsg
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <afxsock.h>

G_BEGIN_DECLS

/* What one message may carry. Clients send no lines; the server sends at most this many per
 * message, and a longer backlog in several messages. */
#define CHAT_MAX_TEXT_BYTES (64 * 1024)
#define CHAT_MAX_LINES 1024

/**
 * ChatMessage:
 * @close: the sender is leaving (a client) or shutting down (the server): MFC's `m_bClose`
 * @text: what a client says, "name: text"; the server's reason when it closes: `m_strText`
 * @lines: (element-type utf8): the conversation lines the receiver has not seen yet, from
 *   the server: `m_msgList`
 *
 * A chat message, with the fields and the wire layout of MFC's CHATSRVR `CMsg`.
 */
typedef struct
{
  gboolean close;
  char *text;
  GPtrArray *lines;
} ChatMessage;

ChatMessage *chat_message_new (gboolean close, const char *text);
void chat_message_free (ChatMessage *self);
void chat_message_add_line (ChatMessage *self, const char *line);
void chat_message_serialize (ChatMessage *self, CArchive *archive);
void chat_message_set_limits (CArchive *archive);
CArchiveFormat chat_format (gboolean mfc);
gboolean chat_check_code_page (const char *code_page, gboolean mfc, GError **error);
gboolean chat_text_fits (const char *text, const char *code_page, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ChatMessage, chat_message_free)

G_END_DECLS
