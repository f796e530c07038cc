/* chatter-window-describe.c: the window as the state dump shows it (chatter-inspect.h)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the widgets show, read from the widgets themselves (the conversation from the text
 * view's buffer, each line's kind from the tag it is drawn with), and the frames the window
 * painted while a blocking call waited.
 */
#include "chatter-window-private.h"

static const char *const link_names[] = { "disconnected", "connecting", "connected" };

static void
describe_wait (JsonBuilder *builder, const char *member, const Wait *wait, gint64 now)
{
  json_builder_set_member_name (builder, member);
  if (wait->call == NULL)
    {
      json_builder_add_null_value (builder);
      return;
    }
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "call");
  json_builder_add_string_value (builder, wait->call);
  json_builder_set_member_name (builder, "ms");
  json_builder_add_double_value (builder,
                                 ((wait->ended ? wait->ended : now) - wait->started) / 1e3);
  json_builder_set_member_name (builder, "frames");
  json_builder_add_int_value (builder, wait->frames);
  json_builder_set_member_name (builder, "ticks");
  json_builder_add_int_value (builder, wait->ticks);
  json_builder_end_object (builder);
}

/* Each line of the conversation as the view shows it, and what kind it is by its look. */
static void
describe_conversation (ChatterWindow *self, JsonBuilder *builder)
{
  GtkTextTagTable *tags = gtk_text_buffer_get_tag_table (self->buffer);
  GtkTextTag *note = gtk_text_tag_table_lookup (tags, "note");
  GtkTextTag *error = gtk_text_tag_table_lookup (tags, "error");
  int lines = gtk_text_buffer_get_char_count (self->buffer) > 0
                  ? gtk_text_buffer_get_line_count (self->buffer)
                  : 0;

  json_builder_begin_array (builder);
  for (int i = 0; i < lines; i++)
    {
      GtkTextIter start, end;
      g_autofree char *text = NULL;

      gtk_text_buffer_get_iter_at_line (self->buffer, &start, i);
      end = start;
      if (!gtk_text_iter_ends_line (&end))
        gtk_text_iter_forward_to_line_end (&end);
      text = gtk_text_buffer_get_text (self->buffer, &start, &end, FALSE);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "kind");
      json_builder_add_string_value (builder, gtk_text_iter_has_tag (&start, note)    ? "note"
                                              : gtk_text_iter_has_tag (&start, error) ? "error"
                                                                                      : "line");
      json_builder_set_member_name (builder, "text");
      json_builder_add_string_value (builder, text);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

/* The text selected in the conversation, or null. */
static void
describe_selection (ChatterWindow *self, JsonBuilder *builder)
{
  GtkTextIter start, end;
  g_autofree char *text = NULL;

  if (!gtk_text_buffer_get_selection_bounds (self->buffer, &start, &end))
    {
      json_builder_add_null_value (builder);
      return;
    }
  text = gtk_text_buffer_get_text (self->buffer, &start, &end, FALSE);
  json_builder_add_string_value (builder, text);
}

void
chatter_window_describe (ChatterWindow *self, JsonBuilder *builder)
{
  gint64 now = g_get_monotonic_time ();

  g_return_if_fail (CHATTER_IS_WINDOW (self));

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "active");
  json_builder_add_boolean_value (builder, gtk_window_is_active (GTK_WINDOW (self)));
  json_builder_set_member_name (builder, "focus");
  json_builder_add_string_value (builder, chatter_focus_name (GTK_WINDOW (self)));
  json_builder_set_member_name (builder, "link");
  json_builder_add_string_value (builder, link_names[self->link]);
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, gtk_label_get_text (self->status));
  json_builder_set_member_name (builder, "spinning");
  json_builder_add_boolean_value (builder, gtk_widget_get_visible (GTK_WIDGET (self->spinner))
                                               && gtk_spinner_get_spinning (self->spinner));
  json_builder_set_member_name (builder, "cancel_shown");
  json_builder_add_boolean_value (builder, gtk_widget_get_visible (self->cancel_button));
  json_builder_set_member_name (builder, "entry");
  json_builder_add_string_value (builder, gtk_editable_get_text (GTK_EDITABLE (self->entry)));
  json_builder_set_member_name (builder, "entry_sensitive");
  json_builder_add_boolean_value (builder, gtk_widget_is_sensitive (GTK_WIDGET (self->entry)));
  json_builder_set_member_name (builder, "selection");
  describe_selection (self, builder);
  json_builder_set_member_name (builder, "blocking");
  json_builder_add_boolean_value (builder, chatter_window_is_blocking (self));
  describe_wait (builder, "wait", &self->wait, now);
  describe_wait (builder, "last_wait", &self->last_wait, now);
  json_builder_set_member_name (builder, "waits");
  json_builder_add_int_value (builder, self->waits);
  json_builder_set_member_name (builder, "frames");
  json_builder_add_int_value (builder, (gint64) self->frames);
  json_builder_set_member_name (builder, "conversation");
  describe_conversation (self, builder);
  json_builder_set_member_name (builder, "dialog");
  chatter_connect_dialog_describe (self->dialog, builder);
  json_builder_end_object (builder);
}
