/* sample-options.h: what every sample's command line has besides its own options
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   --version   prints "PROGRAM (afxsock) MAJOR.MINOR.MICRO" and exits
 *
 * Every sample also calls setlocale (LC_ALL, "") first thing in main: GLib converts between
 * the locale's encoding and UTF-8 (command-line text, what g_print writes), and without it
 * the locale is "C", where anything but ASCII fails or prints as '?'.
 */
#pragma once

#include <glib.h>

/* Adds --version to the context's main group; call before g_option_context_parse(). */
void sample_add_version_option (GOptionContext *context);
