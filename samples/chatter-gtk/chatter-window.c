/* chatter-window.c: CHATTER's window, the conversation and what is typed into it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The conversation is a read-only text view (select with the mouse or, after Tab, with
 * Shift and the arrows; Ctrl+C copies); under it a status line, and the entry where Enter
 * sends. The window calls the ChatterClient (chatter-client.c) straight from its handlers,
 * as CHATTER's document calls its CSocket: a connect, a send and a read of a message that
 * has only partly arrived block, and the window stays alive meanwhile because CSocket runs
 * the main loop while it waits. When a call waits, the status line says for what and for
 * how long, a spinner turns, and Cancel (or Escape) calls c_socket_cancel_blocking_call().
 *
 * What must not happen inside a blocking call is put off until it has returned: closing the
 * window or disconnecting then cancels the call first, and is done once it has returned.
 *
 * Keys: Ctrl+N connect, Ctrl+D disconnect, Escape cancel a waiting call, Ctrl+Q close;
 * buttons have mnemonics (Alt and the underlined letter).
 */
#include "chatter-window-private.h"

#include <string.h>

G_DEFINE_FINAL_TYPE (ChatterWindow, chatter_window, GTK_TYPE_WINDOW)

/* The conversation. */

typedef enum
{
  KIND_LINE,
  KIND_NOTE,
  KIND_ERROR,
} Kind;

static void
append (ChatterWindow *self, const char *tag, const char *text)
{
  GtkTextIter end;

  gtk_text_buffer_get_end_iter (self->buffer, &end);
  gtk_text_buffer_insert_with_tags_by_name (self->buffer, &end, text, -1, tag, NULL);
}

/* Text from the network or the user may be anything; the buffer takes UTF-8 only. */
static void
add_line (ChatterWindow *self, Kind kind, const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);
  const char *colon = strstr (valid, ": ");

  if (gtk_text_buffer_get_char_count (self->buffer) > 0)
    append (self, NULL, "\n");
  if (kind == KIND_NOTE)
    append (self, "note", valid);
  else if (kind == KIND_ERROR)
    append (self, "error", valid);
  else if (colon == NULL)
    append (self, NULL, valid);
  else
    {
      g_autofree char *name = g_strndup (valid, colon - valid);
      gboolean own = self->settings.name != NULL && strcmp (name, self->settings.name) == 0;

      append (self, own ? "own-name" : "name", name);
      append (self, own ? "own-name" : "name", ":");
      append (self, NULL, colon + 1);
    }
  gtk_text_view_scroll_mark_onscreen (self->view, self->end_mark);
}

static void G_GNUC_PRINTF (3, 4) add_note (ChatterWindow *self, Kind kind, const char *format, ...)
{
  va_list args;
  g_autofree char *text = NULL;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  add_line (self, kind, text);
}

/* The status line and what may be used now. */

static const char *
waiting_for (ChatterWindow *self, const char *call)
{
  if (g_strcmp0 (call, CHATTER_CALL_CONNECT) == 0)
    return self->settings.tls ? "the server to connect (TLS)" : "the server to connect";
  if (g_strcmp0 (call, CHATTER_CALL_SEND) == 0)
    return "the server to take a message";
  return "the rest of a message from the server";
}

static void
update_status (ChatterWindow *self)
{
  g_autofree char *text = NULL;

  if (self->wait.call != NULL)
    text = g_strdup_printf ("Waiting for %s… %.1f s", waiting_for (self, self->wait.call),
                            (g_get_monotonic_time () - self->wait.started) / 1e6);
  else if (self->link == LINK_CONNECTING)
    text = g_strdup_printf ("Connecting to %s port %u…", self->settings.host, self->settings.port);
  else if (self->link == LINK_CONNECTED)
    text = g_strdup_printf ("Connected to %s port %u as %s%s%s", self->settings.host,
                            self->settings.port, self->settings.name,
                            self->settings.tls ? ", over TLS" : "",
                            self->settings.mfc ? ", in MFC's format" : "");
  else
    text = g_strdup ("Not connected (Ctrl+N connects)");
  gtk_label_set_text (self->status, text);
}

static gboolean
focus_within (ChatterWindow *self, GtkWidget *widget)
{
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (self));

  return focus != NULL && (focus == widget || gtk_widget_is_ancestor (focus, widget));
}

/* What may be used now. The keyboard focus never stays on a control that goes: it moves
 * first to Cancel during a wait, to the entry while connected, else to the conversation.
 * A wait while there is nothing to type into (a connect) gives Cancel the focus. */
static void
update_controls (ChatterWindow *self)
{
  gboolean waiting = self->wait.call != NULL;
  gboolean talking = self->link == LINK_CONNECTED;
  gboolean idle = self->link == LINK_DISCONNECTED;
  GtkWidget *fallback = waiting   ? self->cancel_button
                        : talking ? GTK_WIDGET (self->entry)
                                  : GTK_WIDGET (self->view);

  if (gtk_root_get_focus (GTK_ROOT (self)) == NULL || (waiting && !talking)
      || (!talking
          && (focus_within (self, GTK_WIDGET (self->entry))
              || focus_within (self, self->send_button)))
      || (!waiting && focus_within (self, self->cancel_button))
      || (!idle && focus_within (self, self->open_button))
      || (idle && focus_within (self, self->disconnect_button)))
    {
      gtk_widget_set_visible (fallback, TRUE);
      gtk_widget_set_sensitive (fallback, TRUE);
      gtk_widget_grab_focus (fallback);
    }
  gtk_widget_set_sensitive (self->open_button, idle);
  gtk_widget_set_sensitive (self->disconnect_button, !idle);
  gtk_widget_set_sensitive (GTK_WIDGET (self->entry), talking);
  gtk_widget_set_sensitive (self->send_button, talking);
  gtk_widget_set_visible (self->cancel_button, waiting);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), waiting || self->link == LINK_CONNECTING);
  gtk_spinner_set_spinning (self->spinner, waiting || self->link == LINK_CONNECTING);
  update_status (self);
}

/* The client. */

static void
forget_client (ChatterWindow *self)
{
  if (self->client == NULL)
    return;
  g_signal_handlers_disconnect_by_data (self->client, self);
  g_clear_object (&self->client);
  self->link = LINK_DISCONNECTED;
}

static void
on_line (ChatterClient *client, const char *line, ChatterWindow *self)
{
  add_line (self, KIND_LINE, line);
}

static void
on_ended (ChatterClient *client, const char *why, gboolean by_server, ChatterWindow *self)
{
  add_note (self, by_server ? KIND_NOTE : KIND_ERROR, "%c%s.", g_ascii_toupper (why[0]), why + 1);
  forget_client (self);
  update_controls (self);
}

static gboolean
refresh_wait (gpointer data)
{
  update_status (data);
  return G_SOURCE_CONTINUE;
}

static gboolean after_wait (gpointer data);

/* A blocking call of the client began to wait (call), or has returned (NULL). */
static void
on_waiting (ChatterClient *client, const char *call, ChatterWindow *self)
{
  if (call != NULL)
    {
      /* The signal's string is a copy that lives as long as the emission. */
      self->wait = (Wait){ g_intern_string (call), g_get_monotonic_time (), 0, 0, 0 };
      self->waits++;
      self->wait_timer = g_timeout_add (100, refresh_wait, self);
    }
  else if (self->wait.call != NULL)
    {
      self->wait.ended = g_get_monotonic_time ();
      self->last_wait = self->wait;
      self->wait.call = NULL;
      g_clear_handle_id (&self->wait_timer, g_source_remove);
      /* What was asked for meanwhile, once the call's caller has unwound. */
      if (self->after_wait_idle == 0)
        self->after_wait_idle = g_idle_add (after_wait, self);
    }
  update_controls (self);
}

static void
connect_now (ChatterWindow *self)
{
  g_autoptr (ChatterClient) client = NULL;
  g_autoptr (GError) error = NULL;
  gboolean connected;

  chatter_connect_dialog_get_settings (self->dialog, &self->settings);
  client = chatter_client_new (self->settings.name, self->settings.mfc, self->timeout_ms);
  self->client = g_object_ref (client);
  self->link = LINK_CONNECTING;
  g_signal_connect (client, "line", G_CALLBACK (on_line), self);
  g_signal_connect (client, "ended", G_CALLBACK (on_ended), self);
  g_signal_connect (client, "waiting", G_CALLBACK (on_waiting), self);
  add_note (self, KIND_NOTE, "Connecting to %s port %u as %s%s%s…", self->settings.host,
            self->settings.port, self->settings.name, self->settings.tls ? ", over TLS" : "",
            self->settings.mfc ? ", in MFC's format" : "");
  update_controls (self);

  /* Blocks until connected (and the TLS handshake done) or failed; the window lives on. */
  connected = chatter_client_connect (client, self->settings.host, self->settings.port,
                                      self->settings.tls ? &self->tls : NULL, &error);
  if (self->client != client)
    return; /* forgotten meanwhile */
  if (connected)
    {
      self->link = LINK_CONNECTED;
      add_note (self, KIND_NOTE, "Connected.");
      update_controls (self); /* the entry takes the focus once it is sensitive */
      gtk_widget_grab_focus (GTK_WIDGET (self->entry));
    }
  else
    {
      add_note (self, KIND_ERROR, "Could not connect: %s", error->message);
      forget_client (self);
    }
  update_controls (self);
}

static gboolean
connect_later (gpointer data)
{
  ChatterWindow *self = data;

  self->connect_idle = 0;
  g_object_ref (self);
  connect_now (self);
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

/* The dialog has gone: the window takes the keyboard back (a window manager would give it
 * back too; without one, nobody else does). */
static void
on_dialog_hidden (ChatterWindow *self)
{
  if (!gtk_widget_in_destruction (GTK_WIDGET (self)))
    gtk_window_present (GTK_WINDOW (self));
}

/* The dialog has hidden itself; the connect starts from the main loop, once its handler
 * has returned. */
static void
on_dialog_connect (ChatterConnectDialog *dialog, ChatterWindow *self)
{
  if (self->client == NULL && self->connect_idle == 0)
    self->connect_idle = g_idle_add (connect_later, self);
}

void
chatter_window_open_connect_dialog (ChatterWindow *self)
{
  g_return_if_fail (CHATTER_IS_WINDOW (self));
  if (self->link == LINK_DISCONNECTED && self->connect_idle == 0)
    chatter_connect_dialog_open (self->dialog);
}

gboolean
chatter_window_is_blocking (ChatterWindow *self)
{
  return self->client != NULL && c_socket_is_blocking (C_SOCKET (self->client));
}

static void
cancel_call (ChatterWindow *self)
{
  if (chatter_window_is_blocking (self))
    c_socket_cancel_blocking_call (C_SOCKET (self->client));
}

static void
disconnect (ChatterWindow *self)
{
  g_autoptr (ChatterClient) client = NULL;

  if (self->client == NULL)
    return;
  if (chatter_window_is_blocking (self))
    {
      /* Not inside the call: cancel it, and disconnect once it has returned. */
      self->disconnect_requested = TRUE;
      cancel_call (self);
      return;
    }
  client = g_object_ref (self->client);
  chatter_client_leave (client); /* its goodbye may block a while; the client may end */
  if (self->client == client)
    {
      add_note (self, KIND_NOTE, "You left the conversation.");
      forget_client (self);
    }
  update_controls (self);
}

static gboolean
after_wait (gpointer data)
{
  ChatterWindow *self = data;

  self->after_wait_idle = 0;
  if (self->close_requested)
    gtk_window_close (GTK_WINDOW (self));
  else if (self->disconnect_requested)
    {
      self->disconnect_requested = FALSE;
      disconnect (self);
    }
  return G_SOURCE_REMOVE;
}

static void
send_typed (ChatterWindow *self)
{
  g_autofree char *text = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->entry)));

  if (self->client == NULL || !chatter_client_is_talking (self->client) || text[0] == '\0')
    return;
  if (strlen (text) + strlen (self->settings.name) + 2 > CHAT_MAX_TEXT_BYTES / 2)
    {
      add_note (self, KIND_ERROR, "That line is too long to send.");
      return;
    }
  gtk_editable_set_text (GTK_EDITABLE (self->entry), "");
  /* The server relays it back: it appears in the conversation when it has gone round. */
  chatter_client_say (self->client, text);
}

/* Keys and closing. */

static gboolean
key_connect (GtkWidget *widget, GVariant *args, gpointer data)
{
  chatter_window_open_connect_dialog (CHATTER_WINDOW (widget));
  return TRUE;
}

static gboolean
key_disconnect (GtkWidget *widget, GVariant *args, gpointer data)
{
  disconnect (CHATTER_WINDOW (widget));
  return TRUE;
}

static gboolean
key_cancel (GtkWidget *widget, GVariant *args, gpointer data)
{
  ChatterWindow *self = CHATTER_WINDOW (widget);

  if (!chatter_window_is_blocking (self))
    return FALSE;
  cancel_call (self);
  return TRUE;
}

static gboolean
key_close (GtkWidget *widget, GVariant *args, gpointer data)
{
  gtk_window_close (GTK_WINDOW (widget));
  return TRUE;
}

static gboolean
chatter_window_close_request (GtkWindow *window)
{
  ChatterWindow *self = CHATTER_WINDOW (window);

  if (chatter_window_is_blocking (self))
    {
      /* Closed once the call has returned (after_wait). */
      self->close_requested = TRUE;
      cancel_call (self);
      return TRUE;
    }
  disconnect (self);
  if (self->client != NULL)
    {
      self->close_requested = TRUE; /* the goodbye is blocking: after it */
      return TRUE;
    }
  return GTK_WINDOW_CLASS (chatter_window_parent_class)->close_request (window);
}

/* Frames: counted while a call waits, to show that the window keeps drawing. */

static void
on_paint (GdkFrameClock *clock, ChatterWindow *self)
{
  self->frames++;
  if (self->wait.call != NULL)
    self->wait.frames++;
}

static void
on_update (GdkFrameClock *clock, ChatterWindow *self)
{
  if (self->wait.call != NULL)
    self->wait.ticks++;
}

static void
chatter_window_realize (GtkWidget *widget)
{
  ChatterWindow *self = CHATTER_WINDOW (widget);

  GTK_WIDGET_CLASS (chatter_window_parent_class)->realize (widget);
  self->clock = g_object_ref (gtk_widget_get_frame_clock (widget));
  self->paint_handler = g_signal_connect (self->clock, "paint", G_CALLBACK (on_paint), self);
  self->update_handler = g_signal_connect (self->clock, "update", G_CALLBACK (on_update), self);
}

static void
chatter_window_unrealize (GtkWidget *widget)
{
  ChatterWindow *self = CHATTER_WINDOW (widget);

  if (self->clock != NULL)
    {
      /* By id: GTK's own handlers on the clock have the window as their data too. */
      g_clear_signal_handler (&self->paint_handler, self->clock);
      g_clear_signal_handler (&self->update_handler, self->clock);
      g_clear_object (&self->clock);
    }
  GTK_WIDGET_CLASS (chatter_window_parent_class)->unrealize (widget);
}

/* Construction. */

static void
chatter_window_dispose (GObject *object)
{
  ChatterWindow *self = CHATTER_WINDOW (object);

  forget_client (self);
  g_clear_handle_id (&self->wait_timer, g_source_remove);
  g_clear_handle_id (&self->after_wait_idle, g_source_remove);
  g_clear_handle_id (&self->connect_idle, g_source_remove);
  if (self->dialog != NULL)
    {
      gtk_window_destroy (GTK_WINDOW (self->dialog));
      self->dialog = NULL;
    }
  G_OBJECT_CLASS (chatter_window_parent_class)->dispose (object);
}

static void
chatter_window_finalize (GObject *object)
{
  ChatterWindow *self = CHATTER_WINDOW (object);

  chatter_connect_settings_clear (&self->settings);
  sample_tls_clear (&self->tls);
  G_OBJECT_CLASS (chatter_window_parent_class)->finalize (object);
}

static void
chatter_window_class_init (ChatterWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = chatter_window_dispose;
  object_class->finalize = chatter_window_finalize;
  widget_class->realize = chatter_window_realize;
  widget_class->unrealize = chatter_window_unrealize;
  GTK_WINDOW_CLASS (klass)->close_request = chatter_window_close_request;
  gtk_widget_class_add_binding (widget_class, GDK_KEY_n, GDK_CONTROL_MASK, key_connect, NULL);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_d, GDK_CONTROL_MASK, key_disconnect, NULL);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_Escape, 0, key_cancel, NULL);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_q, GDK_CONTROL_MASK, key_close, NULL);
}

static GtkWidget *
named (GtkWidget *widget, const char *name)
{
  gtk_widget_set_name (widget, name);
  return widget;
}

static void
build_conversation (ChatterWindow *self, GtkBox *box)
{
  GtkWidget *scroller = gtk_scrolled_window_new ();
  GtkTextIter end;

  self->view = GTK_TEXT_VIEW (named (gtk_text_view_new (), "conversation-view"));
  self->buffer = gtk_text_view_get_buffer (self->view);
  gtk_text_view_set_editable (self->view, FALSE);
  gtk_text_view_set_wrap_mode (self->view, GTK_WRAP_WORD_CHAR);
  gtk_text_view_set_left_margin (self->view, 12);
  gtk_text_view_set_right_margin (self->view, 12);
  gtk_text_view_set_top_margin (self->view, 8);
  gtk_text_view_set_bottom_margin (self->view, 8);
  gtk_text_view_set_pixels_below_lines (self->view, 4);
  gtk_text_buffer_create_tag (self->buffer, "name", "weight", PANGO_WEIGHT_BOLD, NULL);
  gtk_text_buffer_create_tag (self->buffer, "own-name", "weight", PANGO_WEIGHT_BOLD, "foreground",
                              "#1a5fb4", NULL);
  gtk_text_buffer_create_tag (self->buffer, "note", "style", PANGO_STYLE_ITALIC, "foreground",
                              "#5e5c64", NULL);
  gtk_text_buffer_create_tag (self->buffer, "error", "style", PANGO_STYLE_ITALIC, "foreground",
                              "#c01c28", NULL);
  gtk_text_buffer_get_end_iter (self->buffer, &end);
  self->end_mark = gtk_text_buffer_create_mark (self->buffer, "end", &end, FALSE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), GTK_WIDGET (self->view));
  gtk_widget_set_vexpand (scroller, TRUE);
  gtk_box_append (box, scroller);
}

static void
build_status (ChatterWindow *self, GtkBox *box)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);

  gtk_widget_add_css_class (row, "toolbar");
  self->spinner = GTK_SPINNER (named (gtk_spinner_new (), "spinner"));
  self->status = GTK_LABEL (named (gtk_label_new (NULL), "status-label"));
  gtk_label_set_xalign (self->status, 0);
  gtk_label_set_ellipsize (self->status, PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (GTK_WIDGET (self->status), TRUE);
  self->cancel_button = named (gtk_button_new_with_mnemonic ("_Cancel"), "cancel-button");
  gtk_widget_add_css_class (self->cancel_button, "destructive-action");
  gtk_widget_set_tooltip_text (self->cancel_button, "Stop waiting (Escape)");
  g_signal_connect_swapped (self->cancel_button, "clicked", G_CALLBACK (cancel_call), self);
  gtk_box_append (GTK_BOX (row), GTK_WIDGET (self->spinner));
  gtk_box_append (GTK_BOX (row), GTK_WIDGET (self->status));
  gtk_box_append (GTK_BOX (row), self->cancel_button);
  gtk_box_append (box, gtk_separator_new (GTK_ORIENTATION_HORIZONTAL));
  gtk_box_append (box, row);
}

static void
build_input (ChatterWindow *self, GtkBox *box)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);

  gtk_widget_add_css_class (row, "toolbar");
  self->entry = GTK_ENTRY (named (gtk_entry_new (), "message-entry"));
  gtk_entry_set_placeholder_text (self->entry, "Say something; Enter sends");
  gtk_widget_set_hexpand (GTK_WIDGET (self->entry), TRUE);
  g_signal_connect_swapped (self->entry, "activate", G_CALLBACK (send_typed), self);
  self->send_button = named (gtk_button_new_with_mnemonic ("_Send"), "send-button");
  g_signal_connect_swapped (self->send_button, "clicked", G_CALLBACK (send_typed), self);
  gtk_box_append (GTK_BOX (row), GTK_WIDGET (self->entry));
  gtk_box_append (GTK_BOX (row), self->send_button);
  gtk_box_append (box, row);
}

static void
chatter_window_init (ChatterWindow *self)
{
  GtkWidget *header = gtk_header_bar_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);

  gtk_window_set_title (GTK_WINDOW (self), "Chatter");
  gtk_window_set_default_size (GTK_WINDOW (self), 640, 420);
  self->open_button = named (gtk_button_new_with_mnemonic ("C_onnect…"), "open-connect-button");
  self->disconnect_button
      = named (gtk_button_new_with_mnemonic ("_Disconnect"), "disconnect-button");
  g_signal_connect_swapped (self->open_button, "clicked",
                            G_CALLBACK (chatter_window_open_connect_dialog), self);
  g_signal_connect_swapped (self->disconnect_button, "clicked", G_CALLBACK (disconnect), self);
  gtk_header_bar_pack_start (GTK_HEADER_BAR (header), self->open_button);
  gtk_header_bar_pack_end (GTK_HEADER_BAR (header), self->disconnect_button);
  gtk_window_set_titlebar (GTK_WINDOW (self), header);

  build_conversation (self, GTK_BOX (box));
  build_status (self, GTK_BOX (box));
  build_input (self, GTK_BOX (box));
  gtk_window_set_child (GTK_WINDOW (self), box);
}

ChatterWindow *
chatter_window_new (const ChatterConnectSettings *initial, const SampleTls *tls, guint timeout_ms)
{
  ChatterWindow *self = g_object_new (CHATTER_TYPE_WINDOW, NULL);

  self->tls.ca = g_strdup (tls->ca);
  self->tls.certificate = g_strdup (tls->certificate);
  self->tls.key = g_strdup (tls->key);
  self->timeout_ms = timeout_ms;
  self->dialog = chatter_connect_dialog_new (GTK_WINDOW (self), initial);
  g_signal_connect (self->dialog, "connect", G_CALLBACK (on_dialog_connect), self);
  g_signal_connect_swapped (self->dialog, "hide", G_CALLBACK (on_dialog_hidden), self);
  update_controls (self);
  return self;
}
