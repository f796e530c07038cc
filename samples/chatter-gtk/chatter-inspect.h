/* chatter-inspect.h: the window's state and picture on request, for tests and scripts
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * With --state-file FILE, SIGUSR1 makes chatter-gtk write FILE: a JSON object with what the
 * window's widgets show (chatter_window_describe), written whole (a new file renamed over
 * the old one). With --screenshot-file PNG too, SIGUSR2 renders the window as GTK draws it
 * into PNG, just after its next paint, then writes FILE. Each FILE counts the requests
 * served ("dumps", "screenshots"), so that a script that sent a signal knows when its answer
 * is there. FILE is written once at start, when the handlers are in place: signals may be
 * sent from then on.
 */
#pragma once

#include "chatter-window.h"

G_BEGIN_DECLS

typedef struct _ChatterInspect ChatterInspect;

/* Installs the signal handlers (nothing when @state_file is NULL) and writes the first
 * state. */
ChatterInspect *chatter_inspect_new (ChatterWindow *window, const char *state_file,
                                     const char *screenshot_file);
void chatter_inspect_free (ChatterInspect *self);

G_END_DECLS
