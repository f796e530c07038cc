/* chatter-connect-dialog.c: where to connect, and as whom (CHATTER's connect dialog)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Host, port, name, MFC's archive format, TLS. Keyboard first: every field has a mnemonic
 * (Alt and the underlined letter), Enter in any field connects, Escape closes the dialog.
 * A name or port that cannot be used is said in the dialog, which stays open.
 */
#include "chatter-connect-dialog.h"

#include <string.h>

struct _ChatterConnectDialog
{
  GtkWindow parent_instance;
  GtkEntry *host;
  GtkEntry *port;
  GtkEntry *name;
  GtkCheckButton *mfc;
  GtkCheckButton *tls;
  GtkLabel *problem;
};

G_DEFINE_FINAL_TYPE (ChatterConnectDialog, chatter_connect_dialog, GTK_TYPE_WINDOW)

enum
{
  SIGNAL_CONNECT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

void
chatter_connect_settings_clear (ChatterConnectSettings *settings)
{
  g_clear_pointer (&settings->host, g_free);
  g_clear_pointer (&settings->name, g_free);
}

const char *
chatter_focus_name (GtkWindow *window)
{
  GtkWidget *widget = gtk_root_get_focus (GTK_ROOT (window));

  for (; widget != NULL; widget = gtk_widget_get_parent (widget))
    {
      const char *name = gtk_widget_get_name (widget);
      if (strcmp (name, G_OBJECT_TYPE_NAME (widget)) != 0)
        return name; /* a name of ours, not the type's */
    }
  return "none";
}

static gboolean
parse_port (const char *text, guint *port)
{
  guint64 value;

  if (!g_ascii_string_to_unsigned (text, 10, 1, 65535, &value, NULL))
    return FALSE;
  *port = (guint) value;
  return TRUE;
}

static void
show_problem (ChatterConnectDialog *self, const char *problem, GtkEntry *field)
{
  gtk_label_set_text (self->problem, problem);
  gtk_widget_set_visible (GTK_WIDGET (self->problem), TRUE);
  gtk_widget_grab_focus (GTK_WIDGET (field));
}

static void
try_connect (ChatterConnectDialog *self)
{
  guint port;
  g_autofree char *name = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->name))));
  g_autofree char *host = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->host))));

  if (host[0] == '\0')
    show_problem (self, "Which server? Type its name or address.", self->host);
  else if (!parse_port (gtk_editable_get_text (GTK_EDITABLE (self->port)), &port))
    show_problem (self, "The port is a number from 1 to 65535.", self->port);
  else if (name[0] == '\0')
    show_problem (self, "Type the name the others will see.", self->name);
  else
    {
      gtk_widget_set_visible (GTK_WIDGET (self->problem), FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
      g_signal_emit (self, signals[SIGNAL_CONNECT], 0);
    }
}

void
chatter_connect_dialog_get_settings (ChatterConnectDialog *self, ChatterConnectSettings *settings)
{
  g_return_if_fail (CHATTER_IS_CONNECT_DIALOG (self));

  chatter_connect_settings_clear (settings);
  settings->host = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->host))));
  settings->name = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->name))));
  if (!parse_port (gtk_editable_get_text (GTK_EDITABLE (self->port)), &settings->port))
    settings->port = 0;
  settings->mfc = gtk_check_button_get_active (self->mfc);
  settings->tls = gtk_check_button_get_active (self->tls);
}

void
chatter_connect_dialog_open (ChatterConnectDialog *self)
{
  g_return_if_fail (CHATTER_IS_CONNECT_DIALOG (self));

  gtk_widget_set_visible (GTK_WIDGET (self->problem), FALSE);
  gtk_window_present (GTK_WINDOW (self));
  gtk_widget_grab_focus (GTK_WIDGET (self->name));
}

void
chatter_connect_dialog_describe (ChatterConnectDialog *self, JsonBuilder *builder)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "visible");
  json_builder_add_boolean_value (builder, gtk_widget_get_visible (GTK_WIDGET (self)));
  json_builder_set_member_name (builder, "active");
  json_builder_add_boolean_value (builder, gtk_window_is_active (GTK_WINDOW (self)));
  json_builder_set_member_name (builder, "focus");
  json_builder_add_string_value (builder, chatter_focus_name (GTK_WINDOW (self)));
  json_builder_set_member_name (builder, "host");
  json_builder_add_string_value (builder, gtk_editable_get_text (GTK_EDITABLE (self->host)));
  json_builder_set_member_name (builder, "port");
  json_builder_add_string_value (builder, gtk_editable_get_text (GTK_EDITABLE (self->port)));
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, gtk_editable_get_text (GTK_EDITABLE (self->name)));
  json_builder_set_member_name (builder, "mfc");
  json_builder_add_boolean_value (builder, gtk_check_button_get_active (self->mfc));
  json_builder_set_member_name (builder, "tls");
  json_builder_add_boolean_value (builder, gtk_check_button_get_active (self->tls));
  json_builder_set_member_name (builder, "problem");
  if (gtk_widget_get_visible (GTK_WIDGET (self->problem)))
    json_builder_add_string_value (builder, gtk_label_get_text (self->problem));
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);
}

static GtkEntry *
add_field (ChatterConnectDialog *self, GtkGrid *grid, int row, const char *label, const char *id)
{
  GtkWidget *title = gtk_label_new_with_mnemonic (label);
  GtkWidget *entry = gtk_entry_new ();

  gtk_widget_set_name (entry, id);
  gtk_widget_set_halign (title, GTK_ALIGN_END);
  gtk_label_set_mnemonic_widget (GTK_LABEL (title), entry);
  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  gtk_widget_set_hexpand (entry, TRUE);
  gtk_grid_attach (grid, title, 0, row, 1, 1);
  gtk_grid_attach (grid, entry, 1, row, 1, 1);
  return GTK_ENTRY (entry);
}

static GtkCheckButton *
add_check (GtkGrid *grid, int row, const char *label, const char *id)
{
  GtkWidget *check = gtk_check_button_new_with_mnemonic (label);

  gtk_widget_set_name (check, id);
  gtk_grid_attach (grid, check, 1, row, 1, 1);
  return GTK_CHECK_BUTTON (check);
}

static gboolean
close_on_escape (GtkWidget *widget, GVariant *args, gpointer data)
{
  gtk_window_close (GTK_WINDOW (widget));
  return TRUE;
}

static void
chatter_connect_dialog_class_init (ChatterConnectDialogClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  /* "connect": the user asked to connect with what the fields say (get_settings). */
  signals[SIGNAL_CONNECT] = g_signal_new ("connect", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_Escape, 0, close_on_escape, NULL);
}

static void
chatter_connect_dialog_init (ChatterConnectDialog *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *grid = gtk_grid_new ();
  GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *cancel = gtk_button_new_with_mnemonic ("C_ancel");
  GtkWidget *connect = gtk_button_new_with_mnemonic ("_Connect");

  gtk_window_set_title (GTK_WINDOW (self), "Connect");
  gtk_window_set_modal (GTK_WINDOW (self), TRUE);
  gtk_window_set_hide_on_close (GTK_WINDOW (self), TRUE);
  gtk_window_set_resizable (GTK_WINDOW (self), FALSE);
  gtk_widget_set_margin_start (box, 18);
  gtk_widget_set_margin_end (box, 18);
  gtk_widget_set_margin_top (box, 18);
  gtk_widget_set_margin_bottom (box, 18);
  gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 12);
  self->host = add_field (self, GTK_GRID (grid), 0, "_Server", "host-entry");
  self->port = add_field (self, GTK_GRID (grid), 1, "_Port", "port-entry");
  gtk_entry_set_input_purpose (self->port, GTK_INPUT_PURPOSE_DIGITS);
  self->name = add_field (self, GTK_GRID (grid), 2, "_Name", "name-entry");
  gtk_entry_set_placeholder_text (self->name, "how the others see you");
  self->mfc = add_check (GTK_GRID (grid), 3, "_MFC's archive format", "mfc-check");
  self->tls = add_check (GTK_GRID (grid), 4, "_TLS (verify the server)", "tls-check");
  gtk_box_append (GTK_BOX (box), grid);

  self->problem = GTK_LABEL (gtk_label_new (NULL));
  gtk_widget_set_name (GTK_WIDGET (self->problem), "problem-label");
  gtk_widget_add_css_class (GTK_WIDGET (self->problem), "error");
  gtk_label_set_wrap (self->problem, TRUE);
  gtk_label_set_xalign (self->problem, 0);
  gtk_widget_set_visible (GTK_WIDGET (self->problem), FALSE);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->problem));

  gtk_widget_set_name (cancel, "dialog-cancel-button");
  gtk_widget_set_name (connect, "connect-button");
  gtk_widget_add_css_class (connect, "suggested-action");
  gtk_widget_set_halign (buttons, GTK_ALIGN_END);
  gtk_box_append (GTK_BOX (buttons), cancel);
  gtk_box_append (GTK_BOX (buttons), connect);
  gtk_box_append (GTK_BOX (box), buttons);
  g_signal_connect_swapped (cancel, "clicked", G_CALLBACK (gtk_window_close), self);
  g_signal_connect_swapped (connect, "clicked", G_CALLBACK (try_connect), self);

  gtk_window_set_child (GTK_WINDOW (self), box);
  gtk_window_set_default_widget (GTK_WINDOW (self), connect);
}

ChatterConnectDialog *
chatter_connect_dialog_new (GtkWindow *parent, const ChatterConnectSettings *initial)
{
  ChatterConnectDialog *self = g_object_new (CHATTER_TYPE_CONNECT_DIALOG, NULL);
  g_autofree char *port = g_strdup_printf ("%u", initial->port);

  gtk_window_set_transient_for (GTK_WINDOW (self), parent);
  gtk_window_set_destroy_with_parent (GTK_WINDOW (self), TRUE);
  gtk_editable_set_text (GTK_EDITABLE (self->host), initial->host ? initial->host : "");
  gtk_editable_set_text (GTK_EDITABLE (self->port), port);
  gtk_editable_set_text (GTK_EDITABLE (self->name), initial->name ? initial->name : "");
  gtk_check_button_set_active (self->mfc, initial->mfc);
  gtk_check_button_set_active (self->tls, initial->tls);
  return self;
}
