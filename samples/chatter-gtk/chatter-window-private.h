/* chatter-window-private.h: the window's state, shared by its two files
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * chatter-window.c owns every field (it alone writes them); chatter-window-describe.c
 * reads them for the state dump.
 */
#pragma once

#include "chatter-client.h"
#include "chatter-window.h"

G_BEGIN_DECLS

typedef enum
{
  LINK_DISCONNECTED,
  LINK_CONNECTING,
  LINK_CONNECTED,
} Link;

/* One wait of a blocking call, and what the window did meanwhile. */
typedef struct
{
  const char *call; /* CHATTER_CALL_*, NULL when none */
  gint64 started;
  gint64 ended;
  guint frames; /* frames painted (the frame clock's paint phase ran) */
  guint ticks;  /* frame clock updates (animation ticks) */
} Wait;

struct _ChatterWindow
{
  GtkWindow parent_instance;
  GtkWidget *open_button;
  GtkWidget *disconnect_button;
  GtkWidget *send_button;
  GtkWidget *cancel_button;
  GtkTextView *view;
  GtkTextBuffer *buffer;
  GtkTextMark *end_mark;
  GtkEntry *entry;
  GtkSpinner *spinner;
  GtkLabel *status;
  ChatterConnectDialog *dialog;

  ChatterConnectSettings settings; /* of the connection made or being made */
  SampleTls tls;
  guint timeout_ms;
  ChatterClient *client;
  Link link;

  Wait wait;      /* the wait under way */
  Wait last_wait; /* the last one that ended */
  guint waits;
  guint wait_timer; /* refreshes the status line during a wait */
  guint64 frames;
  GdkFrameClock *clock;
  gulong paint_handler;
  gulong update_handler;
  gboolean close_requested;
  gboolean disconnect_requested;
  guint after_wait_idle;
  guint connect_idle;
};

/* Whether a blocking call of the client is under way. */
gboolean chatter_window_is_blocking (ChatterWindow *self);

G_END_DECLS
