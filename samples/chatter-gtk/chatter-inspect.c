/* chatter-inspect.c: the window's state and picture on request (chatter-inspect.h)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The signals are handled on the main loop (g_unix_signal_add), like any other event: a
 * dump requested while a CSocket call blocks is answered during the call, which is itself
 * a sign that the window is alive.
 */
#include "chatter-inspect.h"

#include <glib-unix.h>
#include <glib/gstdio.h>
#include <signal.h>

struct _ChatterInspect
{
  ChatterWindow *window; /* weak */
  char *state_file;
  char *screenshot_file;
  guint dump_source;
  guint screenshot_source;
  guint dumps;
  guint screenshots;
  char *screenshot_problem;
  GdkFrameClock *clock; /* while a screenshot waits for the next paint */
  gulong after_paint;
};

static void
write_state (ChatterInspect *self)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "pid");
  json_builder_add_int_value (builder, getpid ());
  json_builder_set_member_name (builder, "dumps");
  json_builder_add_int_value (builder, self->dumps);
  json_builder_set_member_name (builder, "screenshots");
  json_builder_add_int_value (builder, self->screenshots);
  json_builder_set_member_name (builder, "screenshot_problem");
  if (self->screenshot_problem != NULL)
    json_builder_add_string_value (builder, self->screenshot_problem);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "window");
  if (self->window != NULL)
    chatter_window_describe (self->window, builder);
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  text = json_generator_to_data (generator, NULL);
  if (!g_file_set_contents (self->state_file, text, -1, &error))
    g_printerr ("chatter-gtk: writing the state: %s\n", error->message);
}

/* The window as GTK draws it: its render node, rendered by its own renderer. */
static gboolean
save_screenshot (GtkWidget *widget, const char *path, GError **error)
{
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr (GskRenderNode) node = NULL;
  g_autoptr (GdkTexture) texture = NULL;
  g_autofree char *partial = g_strconcat (path, ".partial", NULL);
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));

  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  if (node == NULL || renderer == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "screenshot: the window has not been drawn yet");
      return FALSE;
    }
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (!gdk_texture_save_to_png (texture, partial))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "screenshot: cannot write %s", partial);
      return FALSE;
    }
  if (g_rename (partial, path) != 0)
    {
      int code = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (code), "screenshot: renaming %s: %s",
                   partial, g_strerror (code));
      return FALSE;
    }
  return TRUE;
}

static gboolean
on_dump (gpointer data)
{
  ChatterInspect *self = data;

  self->dumps++;
  write_state (self);
  return G_SOURCE_CONTINUE;
}

static void
screenshot_answered (ChatterInspect *self, const char *problem)
{
  g_clear_pointer (&self->screenshot_problem, g_free);
  self->screenshot_problem = g_strdup (problem);
  self->screenshots++;
  write_state (self);
}

/* Just after a paint, when the window's render node is the one on the screen (between a
 * change and the next paint, GTK has none to give). */
static void
on_after_paint (GdkFrameClock *clock, ChatterInspect *self)
{
  g_autoptr (GError) error = NULL;

  g_clear_signal_handler (&self->after_paint, self->clock);
  g_clear_object (&self->clock);
  if (self->window == NULL)
    screenshot_answered (self, "the window is gone");
  else if (!save_screenshot (GTK_WIDGET (self->window), self->screenshot_file, &error))
    screenshot_answered (self, error->message);
  else
    screenshot_answered (self, NULL);
}

static gboolean
on_screenshot (gpointer data)
{
  ChatterInspect *self = data;
  GdkFrameClock *clock;

  if (self->after_paint != 0)
    return G_SOURCE_CONTINUE; /* one is coming */
  if (self->screenshot_file == NULL)
    screenshot_answered (self, "no --screenshot-file");
  else if (self->window == NULL
           || (clock = gtk_widget_get_frame_clock (GTK_WIDGET (self->window))) == NULL)
    screenshot_answered (self, "the window is not shown");
  else
    {
      self->clock = g_object_ref (clock);
      self->after_paint
          = g_signal_connect (clock, "after-paint", G_CALLBACK (on_after_paint), self);
      gtk_widget_queue_draw (GTK_WIDGET (self->window));
    }
  return G_SOURCE_CONTINUE;
}

ChatterInspect *
chatter_inspect_new (ChatterWindow *window, const char *state_file, const char *screenshot_file)
{
  ChatterInspect *self = g_new0 (ChatterInspect, 1);

  if (state_file == NULL)
    return self;
  self->window = window;
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &self->window);
  self->state_file = g_strdup (state_file);
  self->screenshot_file = g_strdup (screenshot_file);
  self->dump_source = g_unix_signal_add (SIGUSR1, on_dump, self);
  self->screenshot_source = g_unix_signal_add (SIGUSR2, on_screenshot, self);
  write_state (self);
  return self;
}

void
chatter_inspect_free (ChatterInspect *self)
{
  if (self == NULL)
    return;
  g_clear_handle_id (&self->dump_source, g_source_remove);
  g_clear_handle_id (&self->screenshot_source, g_source_remove);
  if (self->clock != NULL)
    {
      g_clear_signal_handler (&self->after_paint, self->clock);
      g_clear_object (&self->clock);
    }
  if (self->window != NULL)
    g_object_remove_weak_pointer (G_OBJECT (self->window), (gpointer *) &self->window);
  g_free (self->state_file);
  g_free (self->screenshot_file);
  g_free (self->screenshot_problem);
  g_free (self);
}
