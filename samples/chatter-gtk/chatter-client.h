/* chatter-client.h: CHATTER's socket, a CSocket with a CSocketFile and two CArchives
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The part of MFC's CHATTER that talks to the server (CChatSocket and the socket half of
 * CChatDoc), without any GTK: the window (chatter-window.c) calls it and listens to its
 * signals. Messages are chat-message.h's records, so it talks to chat-server and to the
 * terminal chat-client's conversation.
 */
#pragma once

#include "chat-message.h"
#include "sample-tls.h"

G_BEGIN_DECLS

#define CHATTER_TYPE_CLIENT (chatter_client_get_type ())
G_DECLARE_FINAL_TYPE (ChatterClient, chatter_client, CHATTER, CLIENT, CSocket)

/* What a blocking call of the client waits for, as the "waiting" signal names it. */
#define CHATTER_CALL_CONNECT "connect"
#define CHATTER_CALL_RECEIVE "receive"
#define CHATTER_CALL_SEND "send"

/* @name: the name the messages carry ("name: text"); @mfc: MFC's archive format;
 * @timeout_ms: how long each blocking call may wait (CSocket:timeout, 0: no limit). */
ChatterClient *chatter_client_new (const char *name, gboolean mfc, guint timeout_ms);

/* Connects, blocking (the main loop runs meanwhile): TLS first when @tls says so (its CA and
 * client certificate files; its `enabled` is ignored), then the file and the archives.
 * FALSE with @error if it failed, timed out or was cancelled. */
gboolean chatter_client_connect (ChatterClient *self, const char *host, guint port,
                                 const SampleTls *tls, GError **error);

/* Sends "name: text". While a blocking call is under way the line waits and goes once the
 * call has returned. A failure ends the conversation ("ended"). */
void chatter_client_say (ChatterClient *self, const char *text);

/* CHATTER's disconnect: a message with the close flag, then the client waits (without
 * blocking) for the server to hang up, and closes. The client keeps itself alive until
 * then: the caller may drop its reference at once. Does nothing after the conversation has
 * ended. Not to be called during a blocking call of the client (cancel it first). */
void chatter_client_leave (ChatterClient *self);

/* The blocking call under way (CHATTER_CALL_*), or NULL. */
const char *chatter_client_get_call (ChatterClient *self);

/* Whether the conversation goes on (connected, not left, not ended). */
gboolean chatter_client_is_talking (ChatterClient *self);

/* How many clients exist: the program waits for those that are saying goodbye. */
guint chatter_client_count_alive (void);

G_END_DECLS
