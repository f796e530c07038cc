/* filecopy-client.c: sends a file to filecopy-server, with a progress bar
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   filecopy-client [--host H] [--port N] FILE
 *
 * --port is the server's port: 7779 unless filecopy-server was started with another one
 * (tests start it with --port 0 and read the port it prints).
 *
 * Sends FILE, then its SHA-256; the server computes the digest of what it received,
 * compares, and answers OK or MISMATCH. Exits with 0 only on OK. On a terminal the
 * progress is a bar redrawn in place; otherwise one line per tenth of the file.
 *
 * Why CSocket and not the record path: a file is one long stream, not a series of
 * messages, and the client has nothing else to do while it goes. CSocket's blocking calls
 * let the transfer read from top to bottom — connect, write, read the verdict — with a
 * CArchive over a CSocketFile framing the header and the trailer (MFC's own pattern),
 * while the thread's main context keeps running and every call has a timeout. A program
 * that serves many connections at once must not block on any one of them: filecopy-server
 * reads the same stream from the main loop, and the record path (samples/echo,
 * samples/rpc) frames messages for such programs.
 */
#include <afxsock.h>
#include <locale.h>
#include <stdio.h>
#include <unistd.h>

#include "filecopy.h"
#include "sample-options.h"

typedef struct
{
  guint64 total;
  guint64 done;
  gint64 started;
  gint64 last_drawn;
  guint last_tenth;
  gboolean terminal;
} Progress;

/* "3.0 MiB": GLib's size formatting, in powers of 1024 as the byte counts are. */
static char *
format_size (guint64 bytes)
{
  g_autofree char *text = g_format_size_full (bytes, G_FORMAT_SIZE_IEC_UNITS);
  g_auto (GStrv) parts = g_strsplit (text, "\u00a0", -1);

  /* GLib joins number and unit with a no-break space, which a non-UTF-8 locale prints as '?':
   * a plain space reads the same everywhere. */
  return g_strjoinv (" ", parts);
}

static void
progress_show (Progress *progress, guint64 done)
{
  gint64 now = g_get_monotonic_time ();
  guint percent = progress->total > 0 ? (guint) (done * 100 / progress->total) : 100;

  progress->done = done;
  if (!progress->terminal)
    {
      /* Plain lines for logs and pipes: one per tenth. */
      if (percent / 10 > progress->last_tenth)
        {
          progress->last_tenth = percent / 10;
          g_print ("progress: %u%% (%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes)\n",
                   percent, done, progress->total);
        }
      return;
    }
  /* A bar, redrawn in place at most ten times a second (and at the end). */
  if (now - progress->last_drawn >= G_USEC_PER_SEC / 10 || done == progress->total)
    {
      char bar[31];
      guint filled = percent * (sizeof bar - 1) / 100;
      double seconds = MAX ((double) (now - progress->started) / G_USEC_PER_SEC, 1e-3);
      g_autofree char *done_text = format_size (done);
      g_autofree char *total_text = format_size (progress->total);
      g_autofree char *rate = format_size ((guint64) ((double) done / seconds));

      for (guint i = 0; i < sizeof bar - 1; i++)
        bar[i] = i < filled ? '#' : '-';
      bar[sizeof bar - 1] = '\0';
      g_print ("\r[%s] %3u%%  %s of %s  %s/s  ", bar, percent, done_text, total_text, rate);
      progress->last_drawn = now;
      if (done == progress->total)
        g_print ("\n");
    }
}

/* Writes the header, the file and its digest into the archive. */
static gboolean
send_file (CArchive *archive, GInputStream *file, const char *name, guint64 size, gboolean corrupt,
           char **digest, GError **error)
{
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guint8 *chunk = g_malloc (FILECOPY_CHUNK_SIZE);
  Progress progress = { size, 0, g_get_monotonic_time (), 0, 0, isatty (STDOUT_FILENO) };
  guint64 sent = 0;

  c_archive_write_cstring (archive, FILECOPY_MAGIC);
  c_archive_write_cstring (archive, name);
  c_archive_write_uint64 (archive, size);
  progress_show (&progress, 0);
  while (sent < size)
    {
      gssize n
          = g_input_stream_read (file, chunk, MIN (FILECOPY_CHUNK_SIZE, size - sent), NULL, error);
      if (n <= 0)
        {
          if (n == 0)
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                         "%s shrank to %" G_GUINT64_FORMAT " bytes while being sent", name, sent);
          return FALSE;
        }
      g_checksum_update (checksum, chunk, n);
      if (corrupt && sent <= size / 2 && size / 2 < sent + (guint64) n)
        chunk[size / 2 - sent] ^= 0x01; /* after the digest: the server must notice */
      /* The archive sends through its buffer with blocking CSocket sends; its errors are
       * sticky, so one look per chunk stops a transfer the server gave up on. */
      c_archive_write (archive, chunk, (gsize) n);
      if (!c_archive_check (archive, error))
        return FALSE;
      sent += (guint64) n;
      progress_show (&progress, sent);
    }
  *digest = g_strdup (g_checksum_get_string (checksum));
  c_archive_write_cstring (archive, *digest);
  return c_archive_flush (archive, error);
}

/* Reads the server's verdict. */
static gboolean
receive_verdict (CArchive *archive, char **message, GError **error)
{
  gboolean verified;

  c_archive_set_limit (archive, C_ARCHIVE_LIMIT_STRING_LENGTH, 4096);
  verified = c_archive_read_bool (archive);
  *message = c_archive_read_cstring (archive);
  return c_archive_check (archive, error) && verified;
}

int
main (int argc, char **argv)
{
  int port = 7779;
  g_autofree char *host = NULL;
  gboolean corrupt = FALSE;
  GOptionEntry entries[] = {
    { "host", 0, 0, G_OPTION_ARG_STRING, &host, "Server address or name (default 127.0.0.1)", "H" },
    { "port", 'p', 0, G_OPTION_ARG_INT, &port,
      "The port filecopy-server listens on (default 7779, as the server's)", "N" },
    { "simulate-corruption", 0, 0, G_OPTION_ARG_NONE, &corrupt,
      "Flip a bit after computing the digest (to see the server's check fail)", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) options = g_option_context_new ("FILE - send a file");
  g_autoptr (GError) error = NULL;
  g_autoptr (GFile) path = NULL;
  g_autoptr (GFileInputStream) file = NULL;
  g_autoptr (GFileInfo) info = NULL;
  g_autoptr (CSocket) socket = NULL;
  g_autoptr (CSocketFile) stream = NULL;
  g_autoptr (CArchive) out = NULL;
  g_autoptr (CArchive) in = NULL;
  g_autofree char *name = NULL;
  g_autofree char *digest = NULL;
  g_autofree char *verdict = NULL;
  g_autofree char *size_text = NULL;
  g_autofree char *rate_text = NULL;
  gint64 started;
  double seconds;
  guint64 size;

  setlocale (LC_ALL, ""); /* text in the locale's encoding: GLib converts (sample-options.h) */
  g_option_context_add_main_entries (options, entries, NULL);
  sample_add_version_option (options);
  if (!g_option_context_parse (options, &argc, &argv, &error))
    {
      g_printerr ("filecopy-client: %s\n", error->message);
      return 2;
    }
  if (argc != 2)
    {
      g_printerr ("filecopy-client: %s (try --help)\n",
                  argc < 2 ? "which FILE? Give the file to send" : "give one FILE at a time");
      return 2;
    }
  if (port <= 0 || port > 65535)
    {
      g_printerr ("filecopy-client: --port %d is not a port (1 to 65535; the server prints "
                  "its own when it starts)\n",
                  port);
      return 2;
    }

  path = g_file_new_for_commandline_arg (argv[1]);
  name = g_file_get_basename (path);
  file = g_file_read (path, NULL, &error);
  info = file ? g_file_input_stream_query_info (file, G_FILE_ATTRIBUTE_STANDARD_SIZE, NULL, &error)
              : NULL;
  if (info == NULL)
    {
      g_printerr ("filecopy-client: %s\n", error->message);
      return 1;
    }
  size = (guint64) g_file_info_get_size (info);

  socket = c_socket_new ();
  c_socket_set_timeout (socket, FILECOPY_TIMEOUT_MS);
  if (!c_async_socket_create (C_ASYNC_SOCKET (socket), 0, C_SOCK_STREAM, C_FD_ALL, NULL, &error)
      || !c_socket_connect (socket, host ? host : "127.0.0.1", (guint) port, &error))
    {
      g_printerr ("filecopy-client: %s\n", error->message);
      return 1;
    }
  size_text = format_size (size);
  g_print ("sending %s (%s) to %s port %d\n", name, size_text, host ? host : "127.0.0.1", port);

  stream = c_socket_file_new (socket);
  out = c_archive_new_store_to_stream (g_io_stream_get_output_stream (G_IO_STREAM (stream)),
                                       C_ARCHIVE_FORMAT_NETWORK, FILECOPY_CHUNK_SIZE);
  in = c_archive_new_load_from_stream (g_io_stream_get_input_stream (G_IO_STREAM (stream)),
                                       C_ARCHIVE_FORMAT_NETWORK, 0);
  started = g_get_monotonic_time ();
  if (!send_file (out, G_INPUT_STREAM (file), name, size, corrupt, &digest, &error))
    {
      /* A server that refuses the file says why before it closes: show that if it came. */
      receive_verdict (in, &verdict, NULL);
      if (verdict != NULL && verdict[0] != '\0')
        g_print ("\nserver: %s\n", verdict);
      else
        g_printerr ("\nfilecopy-client: sending %s: %s\n", name, error->message);
      return 1;
    }
  seconds = MAX ((double) (g_get_monotonic_time () - started) / G_USEC_PER_SEC, 1e-6);
  rate_text = format_size ((guint64) ((double) size / seconds));
  g_print ("sent %" G_GUINT64_FORMAT " bytes in %.2f s (%s/s)\n", size, seconds, rate_text);
  g_print ("SHA-256 %s\n", digest);

  if (!receive_verdict (in, &verdict, &error))
    {
      if (error != NULL)
        g_printerr ("filecopy-client: waiting for the verdict: %s\n", error->message);
      else
        g_print ("server: %s\n", verdict);
      return 1;
    }
  g_print ("server: %s\n", verdict);
  return 0;
}
