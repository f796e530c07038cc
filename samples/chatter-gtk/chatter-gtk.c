/* chatter-gtk.c: MFC's CHATTER as a GTK 4 window, on CSocket, CSocketFile and CArchive
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   chatter-gtk [--host H] [--port N] [--name NAME] [--mfc] [--timeout MS]
 *               [--tls [--tls-ca FILE] [--tls-certificate FILE --tls-key FILE]]
 *               [--state-file FILE [--screenshot-file PNG]]
 *
 * Opens the window and the connect dialog, filled with the options (the dialog can change
 * any of them but the TLS files). Talks to chat-server with the messages chat-client
 * sends: a GUI and a terminal client share a conversation. The point of the sample is
 * CSocket's: its calls block the code that made them, not the program: while a connect, a
 * send or the read of a message cut short waits, the window keeps drawing and answering,
 * and Cancel ends the wait (docs/howto-chatter.md).
 *
 * --state-file and --screenshot-file are for tests and scripts (chatter-inspect.h): SIGUSR1
 * writes the window's state as JSON, SIGUSR2 a PNG of the window.
 */
#include "chatter-client.h"
#include "chatter-inspect.h"
#include "sample-options.h"

#include <locale.h>

static struct
{
  char *host;
  int port;
  char *name;
  gboolean mfc;
  int timeout_ms;
  char *state_file;
  char *screenshot_file;
  SampleTls tls;
} options = { NULL, 7778, NULL, FALSE, 10000, NULL, NULL, { 0 } };

static gboolean
parse_options (int *argc, char ***argv)
{
  GOptionEntry entries[] = {
    { "host", 'H', 0, G_OPTION_ARG_STRING, &options.host, "Server (default: localhost)", "H" },
    { "port", 'p', 0, G_OPTION_ARG_INT, &options.port, "Server port (default: 7778)", "N" },
    { "name", 'n', 0, G_OPTION_ARG_STRING, &options.name, "Your name (the dialog asks otherwise)",
      "NAME" },
    { "mfc", 0, 0, G_OPTION_ARG_NONE, &options.mfc,
      "Use MFC's archive format (default: network order)", NULL },
    { "timeout", 't', 0, G_OPTION_ARG_INT, &options.timeout_ms,
      "Milliseconds a blocking call may take (default 10000, 0: no limit)", "MS" },
    { "state-file", 0, 0, G_OPTION_ARG_FILENAME, &options.state_file,
      "On SIGUSR1, write the window's state to FILE as JSON", "FILE" },
    { "screenshot-file", 0, 0, G_OPTION_ARG_FILENAME, &options.screenshot_file,
      "On SIGUSR2, draw the window into this PNG file (needs --state-file)", "PNG" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- CHATTER in a GTK window");
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  sample_add_version_option (context);
  sample_tls_add_client_options (context, &options.tls);
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      g_printerr ("chatter-gtk: %s\n", error->message);
      return FALSE;
    }
  if (options.port <= 0 || options.port > 65535 || options.timeout_ms < 0)
    {
      g_printerr ("chatter-gtk: --port or --timeout is out of range\n");
      return FALSE;
    }
  if ((options.tls.certificate == NULL) != (options.tls.key == NULL))
    {
      g_printerr ("chatter-gtk: --tls-certificate and --tls-key go together\n");
      return FALSE;
    }
  if (options.screenshot_file != NULL && options.state_file == NULL)
    {
      g_printerr ("chatter-gtk: --screenshot-file needs --state-file\n");
      return FALSE;
    }
  return TRUE;
}

static void
clear_options (void)
{
  g_free (options.host);
  g_free (options.name);
  g_free (options.state_file);
  g_free (options.screenshot_file);
  sample_tls_clear (&options.tls);
}

int
main (int argc, char **argv)
{
  ChatterConnectSettings initial = { 0 };
  g_autoptr (GMainLoop) loop = NULL;
  ChatterWindow *window;
  ChatterInspect *inspect;

  setlocale (LC_ALL, ""); /* the command line in the locale's encoding (sample-options.h) */
  if (!parse_options (&argc, &argv))
    {
      clear_options ();
      return 2;
    }
  if (!gtk_init_check ())
    {
      g_printerr ("chatter-gtk: cannot open a display (is DISPLAY or WAYLAND_DISPLAY set?)\n");
      clear_options ();
      return 1;
    }

  initial.host = options.host ? options.host : "localhost";
  initial.port = (guint) options.port;
  initial.name = options.name;
  initial.mfc = options.mfc;
  initial.tls = options.tls.enabled;
  window = chatter_window_new (&initial, &options.tls, (guint) options.timeout_ms);
  loop = g_main_loop_new (NULL, FALSE);
  g_signal_connect_swapped (window, "destroy", G_CALLBACK (g_main_loop_quit), loop);
  gtk_window_present (GTK_WINDOW (window));
  chatter_window_open_connect_dialog (window);
  inspect = chatter_inspect_new (window, options.state_file, options.screenshot_file);

  /* The program's main loop: CSocket's blocking calls run this same context while they
   * wait, which is what keeps the window alive. */
  g_main_loop_run (loop);

  chatter_inspect_free (inspect);
  /* A client that said goodbye waits (without blocking) for the server to hang up; give it
   * the time it allows itself. */
  while (chatter_client_count_alive () > 0)
    g_main_context_iteration (NULL, TRUE);
  clear_options ();
  return 0;
}
