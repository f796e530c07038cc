/* sample-options.c: --version for every sample (sample-options.h)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sample-options.h"

#include <afxsock.h>
#include <stdlib.h>

static gboolean
print_version (const char *option, const char *value, gpointer data, GError **error)
{
  /* g_option_context_parse() has set the program name from argv[0] by now. */
  g_print ("%s (afxsock) %d.%d.%d\n", g_get_prgname (), AFXSOCK_MAJOR_VERSION,
           AFXSOCK_MINOR_VERSION, AFXSOCK_MICRO_VERSION);
  exit (EXIT_SUCCESS); /* as --help does */
}

void
sample_add_version_option (GOptionContext *context)
{
  GOptionEntry entries[] = {
    { "version", 0, G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, print_version,
      "Show the version of afxsock this program was built with", NULL },
    { NULL },
  };

  g_option_context_add_main_entries (context, entries, NULL);
}
