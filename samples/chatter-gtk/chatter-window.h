/* chatter-window.h: CHATTER's window, the conversation and what is typed into it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "chatter-connect-dialog.h"
#include "sample-tls.h"

G_BEGIN_DECLS

#define CHATTER_TYPE_WINDOW (chatter_window_get_type ())
G_DECLARE_FINAL_TYPE (ChatterWindow, chatter_window, CHATTER, WINDOW, GtkWindow)

/* @initial fills the connect dialog; @tls holds the files TLS uses when the dialog's TLS box
 * is ticked (copied); @timeout_ms bounds each blocking call (0: no limit). */
ChatterWindow *chatter_window_new (const ChatterConnectSettings *initial, const SampleTls *tls,
                                   guint timeout_ms);

void chatter_window_open_connect_dialog (ChatterWindow *self);

/* The window as the state dump shows it (chatter-inspect.c): what its widgets show, and the
 * frames painted while a blocking call waits. */
void chatter_window_describe (ChatterWindow *self, JsonBuilder *builder);

G_END_DECLS
