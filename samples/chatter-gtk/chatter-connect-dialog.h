/* chatter-connect-dialog.h: where to connect, and as whom (CHATTER's connect dialog)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gtk/gtk.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define CHATTER_TYPE_CONNECT_DIALOG (chatter_connect_dialog_get_type ())
G_DECLARE_FINAL_TYPE (ChatterConnectDialog, chatter_connect_dialog, CHATTER, CONNECT_DIALOG,
                      GtkWindow)

typedef struct
{
  char *host;
  guint port;
  char *name;
  gboolean mfc;
  gboolean tls;
} ChatterConnectSettings;

void chatter_connect_settings_clear (ChatterConnectSettings *settings);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ChatterConnectSettings, chatter_connect_settings_clear)

/* A hidden dialog over @parent, filled with @initial. Its "connect" signal comes when the
 * user asks to connect with valid settings; the dialog has hidden itself by then. */
ChatterConnectDialog *chatter_connect_dialog_new (GtkWindow *parent,
                                                  const ChatterConnectSettings *initial);

/* Shows the dialog with the name field focused. */
void chatter_connect_dialog_open (ChatterConnectDialog *self);

/* What the fields say now (call from the "connect" handler). */
void chatter_connect_dialog_get_settings (ChatterConnectDialog *self,
                                          ChatterConnectSettings *settings);

/* The dialog as the state dump shows it (chatter-inspect.c): its fields, its error line. */
void chatter_connect_dialog_describe (ChatterConnectDialog *self, JsonBuilder *builder);

/* The name of the widget that has the keyboard focus in @window ("none" if none): the
 * name set with gtk_widget_set_name() on it or its nearest named ancestor. */
const char *chatter_focus_name (GtkWindow *window);

G_END_DECLS
