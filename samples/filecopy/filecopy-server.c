/* filecopy-server.c: receives files from filecopy-client and checks their SHA-256
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   filecopy-server [--port N] [--address A] [--output DIR] [--clients N]
 *                   [--max-size BYTES] [--timeout MS] [--threads N]
 *
 * Serves any number of clients at once. For each, writes its file to DIR/NAME.part while
 * computing the SHA-256 of what arrives, compares it with the digest the client sends after
 * the file, and answers: on OK the file is renamed to DIR/NAME, on MISMATCH it is deleted.
 * Prints "listening on PORT" once ready, and lines for each connection. Exits (after
 * --clients N transfers) with 0 only if every file was verified.
 *
 * The client (filecopy-client.c) uses CSocket's blocking calls: it has one transfer to do.
 * A server that did the same would serve one client at a time, and each blocking call's
 * timeout would restart with every byte, so one client sending a byte now and then could
 * keep all the others waiting for as long as it liked. So here each connection is a
 * CAsyncSocket, all of them served from the main loop, and each transfer goes through
 * stages, each with a deadline of its own:
 *
 *   header    the magic string, the name and the size       --timeout MS (default 30 s)
 *   contents  the file's bytes                               --timeout MS, plus one second
 *                                                            per FILECOPY_MIN_RATE bytes
 *   digest    the SHA-256 string                             --timeout MS
 *   reply     the verdict, taken by the client               --timeout MS
 *
 * The deadline of a stage is fixed when the stage starts: bytes arriving do not move it, so
 * a client that dribbles is dropped when its stage is over, and meanwhile costs the others
 * nothing. The header and the digest are read with a CArchive over what has arrived, only
 * once they are whole (as the chat server reads its messages); the contents are written as
 * they come.
 *
 * The service (docs/service.md) accepts each connection as a FilecopyConnection and holds
 * it until it closes; with --threads N it serves on N threads, each connection with its
 * deadlines on its own thread. Transfers share nothing but the count of failures.
 */
#include <afxsock.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "filecopy.h"
#include "sample-options.h"
#include "sample-service.h"

typedef struct
{
  char *directory;
  guint64 max_size;
  guint timeout_ms;
  gint failures; /* atomic: transfers end on the service's threads */
} Settings;

static Settings settings;

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

/* One transfer. */

typedef enum
{
  STAGE_HEADER,
  STAGE_CONTENTS,
  STAGE_DIGEST,
  STAGE_REPLY,
} Stage;

static const char *const stage_names[]
    = { "the header", "the contents", "the digest", "the reply" };

#define FILECOPY_TYPE_CONNECTION (filecopy_connection_get_type ())
G_DECLARE_FINAL_TYPE (FilecopyConnection, filecopy_connection, FILECOPY, CONNECTION, CAsyncSocket)

struct _FilecopyConnection
{
  CAsyncSocket parent_instance;
  guint id;
  Stage stage;
  GSource *deadline;  /* the timer of the current stage, on the connection's thread */
  guint stage_ms;     /* its length */
  GByteArray *input;  /* received, not used yet */
  CArchive *in;       /* reads the header and the digest from 'input' once whole */
  GError *incomplete; /* why the header or the digest cannot be read yet */
  char *name;         /* from the header */
  guint64 size;       /* from the header */
  guint64 received;   /* bytes of the contents so far */
  GChecksum *checksum;
  GFile *part; /* DIR/NAME.part while the contents arrive */
  GFileOutputStream *output;
  gboolean verified;
  GBytes *reply; /* the verdict, as the client reads it */
  gsize reply_sent;
};

G_DEFINE_FINAL_TYPE (FilecopyConnection, filecopy_connection, C_TYPE_ASYNC_SOCKET)

static void
stop_deadline (FilecopyConnection *self)
{
  if (self->deadline == NULL)
    return;
  g_source_destroy (self->deadline);
  g_clear_pointer (&self->deadline, g_source_unref);
}

/* The end of a connection, whichever way it went. Closing is all: the service holds the
 * connection and lets it go once closed. */
static void
connection_finished (FilecopyConnection *self)
{
  stop_deadline (self);
  c_async_socket_close (C_ASYNC_SOCKET (self));
  if (!self->verified)
    g_atomic_int_inc (&settings.failures);
  sample_server_connection_finished ();
}

static gboolean stage_deadline_passed (gpointer data);

/* The timer runs on the connection's own context: with --threads, that of its thread. */
static void
start_stage (FilecopyConnection *self, Stage stage, guint duration_ms)
{
  self->stage = stage;
  self->stage_ms = duration_ms;
  stop_deadline (self);
  self->deadline = g_timeout_source_new (duration_ms);
  g_source_set_callback (self->deadline, stage_deadline_passed, self, NULL);
  g_source_attach (self->deadline, c_async_socket_get_context (C_ASYNC_SOCKET (self)));
}

/* Forgets a file that did not arrive intact. */
static void
discard_file (FilecopyConnection *self)
{
  if (self->output != NULL)
    g_output_stream_close (G_OUTPUT_STREAM (self->output), NULL, NULL);
  g_clear_object (&self->output);
  if (self->part != NULL)
    g_file_delete (self->part, NULL, NULL);
  g_clear_object (&self->part);
}

/* Sends what is left of the reply; once the client has it all, the connection ends. */
static void
send_reply (FilecopyConnection *self)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (self->reply, &size);

  while (self->reply_sent < size)
    {
      g_autoptr (GError) error = NULL;
      gssize n = c_async_socket_send (C_ASYNC_SOCKET (self), data + self->reply_sent,
                                      size - self->reply_sent, 0, &error);
      if (n < 0)
        {
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            return; /* on_send continues */
          g_printerr ("connection %u: replying: %s\n", self->id, error->message);
          break;
        }
      self->reply_sent += (gsize) n;
    }
  connection_finished (self);
}

/* The verdict: logged, and sent to the client (the reply stage). */
static void
reply (FilecopyConnection *self, gboolean verified, const char *message)
{
  g_autoptr (CArchive) out = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_NETWORK);

  g_print ("connection %u: %s\n", self->id, message);
  self->verified = verified;
  if (!verified)
    discard_file (self);
  c_archive_write_bool (out, verified);
  c_archive_write_cstring (out, message);
  self->reply = c_archive_steal_bytes (out);
  start_stage (self, STAGE_REPLY, settings.timeout_ms);
  send_reply (self);
}

static void
fail (FilecopyConnection *self, const GError *error)
{
  g_autofree char *message = g_strdup_printf ("FAILED: %s", error->message);

  reply (self, FALSE, message);
}

static gboolean
stage_deadline_passed (gpointer data)
{
  FilecopyConnection *self = data;
  g_autoptr (GError) error = NULL;

  g_clear_pointer (&self->deadline, g_source_unref); /* this source ends here */
  if (self->stage == STAGE_REPLY)
    {
      g_printerr ("connection %u: the reply was not taken within %u ms\n", self->id,
                  self->stage_ms);
      connection_finished (self);
      return G_SOURCE_REMOVE;
    }
  if (self->stage == STAGE_CONTENTS)
    g_set_error (&error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                 "the contents did not arrive within %u ms (%" G_GUINT64_FORMAT
                 " of %" G_GUINT64_FORMAT " bytes came)",
                 self->stage_ms, self->received, self->size);
  else
    g_set_error (&error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "%s did not arrive within %u ms",
                 stage_names[self->stage], self->stage_ms);
  fail (self, error);
  return G_SOURCE_REMOVE;
}

/* The header and the digest are read with the loading archive pointed at what has
 * arrived. A field cut short fails at "end of archive": then nothing is used, and the same
 * fields are read again once more bytes have come. read_fields() points the archive at the
 * input; the caller reads; fields_read() says how it went. */

typedef enum
{
  FIELDS_READ,       /* all there: their bytes are used up */
  FIELDS_INCOMPLETE, /* more bytes to come */
  FIELDS_BAD,        /* not what the protocol says: *error is why */
} FieldsResult;

static CArchive *
read_fields (FilecopyConnection *self)
{
  c_archive_reload_data (self->in, self->input->data, self->input->len);
  return self->in;
}

static FieldsResult
fields_read (FilecopyConnection *self, GError **error)
{
  g_autoptr (GError) archive_error = NULL;
  FieldsResult result = FIELDS_READ;

  if (!c_archive_check (self->in, &archive_error))
    {
      if (g_error_matches (archive_error, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_END_OF_FILE))
        {
          result = FIELDS_INCOMPLETE;
          g_clear_error (&self->incomplete);
          self->incomplete = g_steal_pointer (&archive_error);
        }
      else
        {
          result = FIELDS_BAD;
          g_propagate_error (error, g_steal_pointer (&archive_error));
        }
    }
  else
    {
      g_byte_array_remove_range (self->input, 0, (guint) c_archive_get_position (self->in));
      g_clear_error (&self->incomplete);
    }
  c_archive_reload_data (self->in, NULL, 0); /* it borrowed 'input', which may change */
  return result;
}

/* The header stage is over: check it, open DIR/NAME.part and start the contents stage. */
static gboolean
start_contents (FilecopyConnection *self, const char *magic, char *name, guint64 size,
                GError **error)
{
  g_autofree char *final_path = NULL;
  g_autofree char *part_path = NULL;
  guint64 contents_ms;

  if (!g_str_equal (magic, FILECOPY_MAGIC))
    {
      g_free (name);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "not a filecopy client");
      return FALSE;
    }
  self->name = name;
  self->size = size;
  if (!check_name (name, error))
    return FALSE;
  if (size > settings.max_size)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   "%s: %" G_GUINT64_FORMAT " bytes is over the limit of %" G_GUINT64_FORMAT, name,
                   size, settings.max_size);
      return FALSE;
    }
  g_print ("connection %u: receiving %s (%" G_GUINT64_FORMAT " bytes)\n", self->id, name, size);

  /* The file gets its name only once verified. */
  final_path = g_build_filename (settings.directory, name, NULL);
  part_path = g_strconcat (final_path, ".part", NULL);
  self->part = g_file_new_for_path (part_path);
  self->output = g_file_replace (self->part, NULL, FALSE, G_FILE_CREATE_NONE, NULL, error);
  if (self->output == NULL)
    {
      g_clear_object (&self->part); /* not made: nothing to delete */
      return FALSE;
    }
  self->checksum = g_checksum_new (G_CHECKSUM_SHA256);
  contents_ms = settings.timeout_ms + size / FILECOPY_MIN_RATE * 1000;
  start_stage (self, STAGE_CONTENTS, (guint) MIN (contents_ms, G_MAXUINT));
  return TRUE;
}

/* Writes what has arrived of the contents (written to disk as it comes, hashed on the way). */
static gboolean
write_contents (FilecopyConnection *self, GError **error)
{
  gsize n = (gsize) MIN (self->input->len, self->size - self->received);

  if (n > 0)
    {
      g_checksum_update (self->checksum, self->input->data, n);
      if (!g_output_stream_write_all (G_OUTPUT_STREAM (self->output), self->input->data, n, NULL,
                                      NULL, error))
        return FALSE;
      g_byte_array_remove_range (self->input, 0, (guint) n);
      self->received += n;
    }
  if (self->received == self->size)
    {
      if (!g_output_stream_close (G_OUTPUT_STREAM (self->output), NULL, error))
        return FALSE;
      g_clear_object (&self->output);
      start_stage (self, STAGE_DIGEST, settings.timeout_ms);
    }
  return TRUE;
}

/* The digest stage is over: compare, keep the file or not, and reply. */
static void
finish_transfer (FilecopyConnection *self, const char *expected)
{
  const char *digest = g_checksum_get_string (self->checksum);
  g_autofree char *final_path = g_build_filename (settings.directory, self->name, NULL);
  g_autofree char *message = NULL;

  if (g_ascii_strcasecmp (expected, digest) != 0)
    {
      message = g_strdup_printf ("MISMATCH: %s has SHA-256 %s here, %s at the sender; discarded",
                                 self->name, digest, expected);
      reply (self, FALSE, message);
      return;
    }
  if (g_rename (g_file_peek_path (self->part), final_path) != 0)
    {
      int error_code = errno;
      g_autoptr (GError) error = NULL;

      g_set_error (&error, G_IO_ERROR, g_io_error_from_errno (error_code), "renaming to %s: %s",
                   final_path, g_strerror (error_code));
      fail (self, error);
      return;
    }
  g_clear_object (&self->part);
  message = g_strdup_printf ("OK: %s, %" G_GUINT64_FORMAT " bytes, SHA-256 %s", final_path,
                             self->size, digest);
  reply (self, TRUE, message);
}

/* Moves the transfer on with what has arrived, stage after stage. */
static void
use_input (FilecopyConnection *self)
{
  g_autoptr (GError) error = NULL;
  FieldsResult result;

  if (self->stage == STAGE_HEADER)
    {
      CArchive *in = read_fields (self);
      g_autofree char *magic = c_archive_read_cstring (in);
      char *name = c_archive_read_cstring (in);
      guint64 size = c_archive_read_uint64 (in);

      result = fields_read (self, &error);
      if (result != FIELDS_READ)
        g_free (name);
      if (result == FIELDS_INCOMPLETE)
        return;
      if (result == FIELDS_BAD || !start_contents (self, magic, name, size, &error))
        {
          fail (self, error);
          return;
        }
    }
  if (self->stage == STAGE_CONTENTS && !write_contents (self, &error))
    {
      fail (self, error);
      return;
    }
  if (self->stage == STAGE_DIGEST)
    {
      g_autofree char *expected = c_archive_read_cstring (read_fields (self));

      result = fields_read (self, &error);
      if (result == FIELDS_INCOMPLETE)
        return;
      if (result == FIELDS_BAD)
        fail (self, error);
      else
        finish_transfer (self, expected);
    }
}

static void
filecopy_connection_on_receive (CAsyncSocket *socket, int error_code)
{
  FilecopyConnection *self = FILECOPY_CONNECTION (socket);
  g_autoptr (GError) error = NULL;
  guint8 buffer[FILECOPY_CHUNK_SIZE];
  gssize n;

  if (self->stage == STAGE_REPLY)
    return; /* what a client sends after its digest, or after a refusal, is not read */
  n = c_async_socket_receive (socket, buffer, sizeof buffer, 0, &error);
  if (n < 0)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        fail (self, error);
      return;
    }
  g_byte_array_append (self->input, buffer, (guint) n);
  use_input (self);
}

static void
filecopy_connection_on_send (CAsyncSocket *socket, int error_code)
{
  FilecopyConnection *self = FILECOPY_CONNECTION (socket);

  if (self->stage == STAGE_REPLY)
    send_reply (self);
}

static void
filecopy_connection_on_close (CAsyncSocket *socket, int error_code)
{
  FilecopyConnection *self = FILECOPY_CONNECTION (socket);
  g_autoptr (GError) error = NULL;

  if (self->stage == STAGE_REPLY)
    return; /* the reply is on its way; on_send or its deadline ends the connection */
  if (error_code != 0)
    {
      /* Reset: there is nobody to reply to. */
      g_print ("connection %u: FAILED: %s\n", self->id, g_strerror (error_code));
      discard_file (self);
      connection_finished (self);
      return;
    }
  /* The client half-closed before the end of the transfer: it still reads the reply. */
  if (self->stage == STAGE_CONTENTS)
    g_set_error (&error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                 "the client stopped after %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes",
                 self->received, self->size);
  else if (self->incomplete != NULL)
    error = g_error_copy (self->incomplete);
  else
    g_set_error (&error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT, "the client stopped before %s",
                 stage_names[self->stage]);
  fail (self, error);
}

static void
filecopy_connection_dispose (GObject *object)
{
  FilecopyConnection *self = FILECOPY_CONNECTION (object);

  stop_deadline (self);
  discard_file (self);
  g_clear_object (&self->in);
  G_OBJECT_CLASS (filecopy_connection_parent_class)->dispose (object);
}

static void
filecopy_connection_finalize (GObject *object)
{
  FilecopyConnection *self = FILECOPY_CONNECTION (object);

  g_byte_array_unref (self->input);
  g_clear_error (&self->incomplete);
  g_free (self->name);
  g_clear_pointer (&self->checksum, g_checksum_free);
  g_clear_pointer (&self->reply, g_bytes_unref);
  G_OBJECT_CLASS (filecopy_connection_parent_class)->finalize (object);
}

static void
filecopy_connection_class_init (FilecopyConnectionClass *klass)
{
  CAsyncSocketClass *socket_class = C_ASYNC_SOCKET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = filecopy_connection_dispose;
  G_OBJECT_CLASS (klass)->finalize = filecopy_connection_finalize;
  socket_class->on_receive = filecopy_connection_on_receive;
  socket_class->on_send = filecopy_connection_on_send;
  socket_class->on_close = filecopy_connection_on_close;
}

static void
filecopy_connection_init (FilecopyConnection *self)
{
  self->input = g_byte_array_new ();
  /* One loading archive for the connection, pointed at the input for each read. Every
   * string of the header and the digest is short. */
  self->in = c_archive_new_load_from_data (NULL, 0, C_ARCHIVE_FORMAT_NETWORK);
  c_archive_set_limit (self->in, C_ARCHIVE_LIMIT_STRING_LENGTH, FILECOPY_MAX_NAME_LENGTH);
}

/* The service (sample-service.h): each connection accepted starts at the header stage. */

static void
accepted (CAsyncSocket *socket, guint number)
{
  FilecopyConnection *connection = FILECOPY_CONNECTION (socket);

  connection->id = number;
  start_stage (connection, STAGE_HEADER, settings.timeout_ms);
}

int
main (int argc, char **argv)
{
  SampleServer server = {
    .connection_type = FILECOPY_TYPE_CONNECTION, .port = 7779, .threads = 1, .accepted = accepted
  };
  int timeout_ms = FILECOPY_TIMEOUT_MS;
  gint64 max_size = G_GINT64_CONSTANT (1) << 32;
  g_autofree char *address = NULL;
  GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, &server.port,
      "Port to listen on (default 7779; 0: any, printed)", "N" },
    { "address", 'a', 0, G_OPTION_ARG_STRING, &address, "Address to listen on (default: all)",
      "A" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &settings.directory,
      "Directory for the files (default: current)", "DIR" },
    { "clients", 'n', 0, G_OPTION_ARG_INT, &server.clients, "Exit after N clients", "N" },
    { "max-size", 0, 0, G_OPTION_ARG_INT64, &max_size, "Largest file accepted (default 4 GiB)",
      "BYTES" },
    { "timeout", 't', 0, G_OPTION_ARG_INT, &timeout_ms,
      "Milliseconds each stage of a transfer may take (default 30000)", "MS" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &server.threads,
      "Serve on N threads, each with its own listener (default 1: this one)", "N" },
    { NULL },
  };
  g_autoptr (GOptionContext) options = g_option_context_new ("- receive files");
  g_autoptr (GError) error = NULL;
  int status;

  setlocale (LC_ALL, ""); /* text in the locale's encoding: GLib converts (sample-options.h) */
  g_option_context_add_main_entries (options, entries, NULL);
  sample_add_version_option (options);
  if (!g_option_context_parse (options, &argc, &argv, &error) || max_size < 0 || timeout_ms <= 0)
    {
      g_printerr ("filecopy-server: %s\n", error ? error->message : "negative size, or no timeout");
      return 2;
    }
  if (settings.directory == NULL)
    settings.directory = g_strdup (".");
  settings.max_size = (guint64) max_size;
  settings.timeout_ms = (guint) timeout_ms;
  if (!g_file_test (settings.directory, G_FILE_TEST_IS_DIR))
    {
      g_printerr ("filecopy-server: %s is not a directory\n", settings.directory);
      return 2;
    }

  server.address = address;
  status = sample_server_serve (&server);
  g_free (settings.directory);
  if (status == 0 && g_atomic_int_get (&settings.failures) > 0)
    status = 1;
  return status;
}
