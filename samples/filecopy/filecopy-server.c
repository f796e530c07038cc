/* filecopy-server.c: receives files from filecopy-client and checks their SHA-256
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   filecopy-server [--port N] [--address A] [--output DIR] [--clients N]
 *                   [--max-size BYTES]
 *
 * Accepts one client at a time, writes its file to DIR/NAME.part while computing the
 * SHA-256 of what arrives, compares it with the digest the client sends after the file,
 * and answers: on OK the file is renamed to DIR/NAME, on MISMATCH it is deleted. Prints
 * "listening on PORT" once ready, and one line per file. Exits (after --clients N files)
 * with 0 only if every file was verified.
 *
 * Like the client, the server uses CSocket's blocking calls (see filecopy-client.c for
 * why): without a main loop of its own, accept, the reads and the reply are plain
 * sequential code, each call bounded by a timeout. Serving one client at a time is the
 * price; the record path of CAsyncSocket serves many at once.
 */
#include <afxsock.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "filecopy.h"

typedef struct
{
  char *directory;
  guint64 max_size;
} Settings;

/* The name comes from the network: a plain file name, nothing that leaves DIR. */
static gboolean
check_name (const char *name, GError **error)
{
  if (name[0] == '\0' || g_str_equal (name, ".") || g_str_equal (name, "..")
      || strchr (name, '/') != NULL || strlen (name) > FILECOPY_MAX_NAME_LENGTH)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_FILENAME, "refused file name \"%s\"",
                   name);
      return FALSE;
    }
  return TRUE;
}

/* Copies @size bytes from the archive to @output, hashing them. */
static gboolean
receive_contents (CArchive *archive, GOutputStream *output, guint64 size, GChecksum *checksum,
                  GError **error)
{
  g_autofree guint8 *chunk = g_malloc (FILECOPY_CHUNK_SIZE);
  guint64 received = 0;

  while (received < size)
    {
      gsize n = c_archive_read (archive, chunk, MIN (FILECOPY_CHUNK_SIZE, size - received));

      if (!c_archive_check (archive, error))
        return FALSE;
      if (n == 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                       "the client stopped after %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                       " bytes",
                       received, size);
          return FALSE;
        }
      g_checksum_update (checksum, chunk, n);
      if (!g_output_stream_write_all (output, chunk, n, NULL, NULL, error))
        return FALSE;
      received += n;
    }
  return TRUE;
}

/* One transfer. Returns TRUE when a file arrived intact; *reply is what to tell the
 * client. */
static gboolean
receive_file (CSocket *socket, const Settings *settings, char **reply, GError **error)
{
  g_autoptr (CSocketFile) stream = c_socket_file_new (socket);
  g_autoptr (CArchive) in
      = c_archive_new_load_from_stream (g_io_stream_get_input_stream (G_IO_STREAM (stream)),
                                        C_ARCHIVE_FORMAT_NETWORK, FILECOPY_CHUNK_SIZE);
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree char *magic = NULL;
  g_autofree char *name = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *final_path = NULL;
  g_autofree char *part_path = NULL;
  g_autoptr (GFile) part = NULL;
  g_autoptr (GFileOutputStream) output = NULL;
  guint64 size;

  c_archive_set_limit (in, C_ARCHIVE_LIMIT_STRING_LENGTH, FILECOPY_MAX_NAME_LENGTH);
  magic = c_archive_read_cstring (in);
  name = c_archive_read_cstring (in);
  size = c_archive_read_uint64 (in);
  if (!c_archive_check (in, error))
    return FALSE;
  if (!g_str_equal (magic, FILECOPY_MAGIC))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "not a filecopy client");
      return FALSE;
    }
  if (!check_name (name, error))
    return FALSE;
  if (size > settings->max_size)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   "%s: %" G_GUINT64_FORMAT " bytes is over the limit of %" G_GUINT64_FORMAT, name,
                   size, settings->max_size);
      return FALSE;
    }
  g_print ("receiving %s (%" G_GUINT64_FORMAT " bytes)\n", name, size);

  /* The file gets its name only once verified. */
  final_path = g_build_filename (settings->directory, name, NULL);
  part_path = g_strconcat (final_path, ".part", NULL);
  part = g_file_new_for_path (part_path);
  output = g_file_replace (part, NULL, FALSE, G_FILE_CREATE_NONE, NULL, error);
  if (output == NULL || !receive_contents (in, G_OUTPUT_STREAM (output), size, checksum, error)
      || !g_output_stream_close (G_OUTPUT_STREAM (output), NULL, error))
    {
      g_file_delete (part, NULL, NULL);
      return FALSE;
    }

  expected = c_archive_read_cstring (in);
  if (!c_archive_check (in, error))
    {
      g_file_delete (part, NULL, NULL);
      return FALSE;
    }
  if (g_ascii_strcasecmp (expected, g_checksum_get_string (checksum)) != 0)
    {
      g_file_delete (part, NULL, NULL);
      *reply = g_strdup_printf ("MISMATCH: %s has SHA-256 %s here, %s at the sender; discarded",
                                name, g_checksum_get_string (checksum), expected);
      return FALSE;
    }
  if (g_rename (part_path, final_path) != 0)
    {
      int error_code = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (error_code), "renaming to %s: %s",
                   final_path, g_strerror (error_code));
      g_file_delete (part, NULL, NULL);
      return FALSE;
    }
  *reply = g_strdup_printf ("OK: %s, %" G_GUINT64_FORMAT " bytes, SHA-256 %s", final_path, size,
                            g_checksum_get_string (checksum));
  return TRUE;
}

static gboolean
send_reply (CSocket *socket, gboolean verified, const char *message, GError **error)
{
  g_autoptr (CSocketFile) stream = c_socket_file_new (socket);
  g_autoptr (CArchive) out = c_archive_new_store_to_stream (
      g_io_stream_get_output_stream (G_IO_STREAM (stream)), C_ARCHIVE_FORMAT_NETWORK, 0);

  c_archive_write_bool (out, verified);
  c_archive_write_cstring (out, message);
  return c_archive_flush (out, error);
}

/* Accepts one client and serves it; returns TRUE if its file was verified. */
static gboolean
serve_one (CSocket *listener, const Settings *settings)
{
  g_autoptr (CSocket) connection = c_socket_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *peer = NULL;
  g_autofree char *reply = NULL;
  guint port = 0;
  gboolean verified;

  if (!c_socket_accept (listener, C_ASYNC_SOCKET (connection), NULL, &error))
    {
      g_printerr ("filecopy-server: %s\n", error->message);
      return FALSE;
    }
  c_socket_set_timeout (connection, FILECOPY_TIMEOUT_MS);
  c_async_socket_get_peer_name (C_ASYNC_SOCKET (connection), &peer, &port, NULL);
  g_print ("connection from %s port %u\n", peer, port);

  verified = receive_file (connection, settings, &reply, &error);
  if (reply == NULL)
    reply = g_strdup_printf ("FAILED: %s", error->message);
  g_print ("%s\n", reply);
  g_clear_error (&error);
  if (!send_reply (connection, verified, reply, &error))
    g_printerr ("filecopy-server: replying: %s\n", error->message);
  c_async_socket_close (C_ASYNC_SOCKET (connection));
  return verified;
}

int
main (int argc, char **argv)
{
  int port = 7779, clients = 0;
  gint64 max_size = G_GINT64_CONSTANT (1) << 32;
  g_autofree char *address = NULL;
  Settings settings = { 0 };
  GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, "Port to listen on (0: any)", "N" },
    { "address", 'a', 0, G_OPTION_ARG_STRING, &address, "Address to listen on (default: all)",
      "A" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &settings.directory,
      "Directory for the files (default: current)", "DIR" },
    { "clients", 'n', 0, G_OPTION_ARG_INT, &clients, "Exit after N clients", "N" },
    { "max-size", 0, 0, G_OPTION_ARG_INT64, &max_size, "Largest file accepted (default 4 GiB)",
      "BYTES" },
    { NULL },
  };
  g_autoptr (GOptionContext) options = g_option_context_new ("- receive files");
  g_autoptr (GError) error = NULL;
  g_autoptr (CSocket) listener = c_socket_new ();
  guint bound_port = 0;
  int failures = 0;

  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error) || clients < 0 || max_size < 0)
    {
      g_printerr ("filecopy-server: %s\n", error ? error->message : "negative count or size");
      return 2;
    }
  if (settings.directory == NULL)
    settings.directory = g_strdup (".");
  settings.max_size = (guint64) max_size;
  if (!g_file_test (settings.directory, G_FILE_TEST_IS_DIR))
    {
      g_printerr ("filecopy-server: %s is not a directory\n", settings.directory);
      return 2;
    }

  if (port < 0 || port > 65535
      || !c_async_socket_create (C_ASYNC_SOCKET (listener), (guint) port, C_SOCK_STREAM, C_FD_ALL,
                                 address, &error)
      || !c_async_socket_listen (C_ASYNC_SOCKET (listener), 0, &error)
      || !c_async_socket_get_sock_name (C_ASYNC_SOCKET (listener), NULL, &bound_port, &error))
    {
      g_printerr ("filecopy-server: %s\n", error ? error->message : "port out of range");
      return 1;
    }
  g_print ("listening on %u\n", bound_port);
  fflush (stdout);

  for (int served = 0; clients == 0 || served < clients; served++)
    if (!serve_one (listener, &settings))
      failures++;
  g_free (settings.directory);
  return failures > 0 ? 1 : 0;
}
