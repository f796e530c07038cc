/* rpc-client.c: makes function calls to rpc-server and prints their results
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   rpc-client [--host H] [--port N] [--timeout SECONDS] METHOD [ARGUMENT…]
 *   rpc-client [--host H] [--port N] [--timeout SECONDS] < CALLS
 *   (and, before METHOD, [--tls [--tls-ca FILE] [--tls-certificate FILE --tls-key FILE]])
 *
 * An argument that reads as an integer is sent as a 64-bit integer, one that reads as a
 * number as a double, anything else as a string. Without a METHOD, each line of standard
 * input is a call (words split as a shell does, so "hello world" is one argument); all
 * the calls are sent at once and the replies matched to them by request id. Prints
 * "add(2, 3) = 5" or "divide(1, 0): error 4: division by zero" for each call, and exits
 * with 0 only if every call succeeded.
 *
 * With --tls the calls travel over TLS (sample-tls.h): the server's certificate is
 * verified against the system's CAs and --tls-ca's, and must be for the host of --host. A
 * failed handshake exits with its reason.
 */
#include <afxsock.h>
#include <locale.h>
#include <stdio.h>

#include "rpc-protocol.h"
#include "sample-options.h"
#include "sample-tls.h"

typedef struct
{
  guint32 id;
  char *description; /* "add(2, 3)" */
  GBytes *record;
} Call;

static void
call_free (gpointer data)
{
  Call *call = data;

  g_free (call->description);
  g_bytes_unref (call->record);
  g_free (call);
}

static GVariant *
parse_argument (const char *text)
{
  gint64 integer;
  char *end = NULL;
  double number;

  if (g_ascii_string_to_signed (text, 10, G_MININT64, G_MAXINT64, &integer, NULL))
    return g_variant_new_int64 (integer);
  number = g_ascii_strtod (text, &end);
  if (text[0] != '\0' && *end == '\0')
    return g_variant_new_double (number);
  return g_variant_new_string (text);
}

/* Encodes one call as a request record. */
static Call *
make_call (guint32 id, char **words, GError **error)
{
  g_autoptr (CArchive) archive = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_NETWORK);
  g_autoptr (GString) description = g_string_new (words[0]);
  guint count = g_strv_length (words) - 1;
  Call *call;

  c_archive_write_dword (archive, id);
  c_archive_write_cstring (archive, words[0]);
  c_archive_write_count (archive, count);
  g_string_append_c (description, '(');
  for (guint i = 1; i <= count; i++)
    {
      g_autoptr (GVariant) value = g_variant_ref_sink (parse_argument (words[i]));
      g_autofree char *printed = g_variant_print (value, FALSE);

      rpc_write_value (archive, value);
      g_string_append_printf (description, "%s%s", i > 1 ? ", " : "", printed);
    }
  g_string_append_c (description, ')');
  if (!c_archive_check (archive, error))
    return NULL;
  call = g_new0 (Call, 1);
  call->id = id;
  call->description = g_string_free (g_steal_pointer (&description), FALSE);
  call->record = c_archive_steal_bytes (archive);
  return call;
}

/* The connection: sends the calls, prints the replies. */

#define RPC_TYPE_CLIENT (rpc_client_get_type ())
G_DECLARE_FINAL_TYPE (RpcClient, rpc_client, RPC, CLIENT, CAsyncSocket)

struct _RpcClient
{
  CAsyncSocket parent_instance;
  GPtrArray *calls;   /* Call, in id order: calls->pdata[id - 1] */
  guint next_to_send; /* index into calls */
  guint answered;
  guint failed;
  int status;
  GMainLoop *loop;
};

G_DEFINE_FINAL_TYPE (RpcClient, rpc_client, C_TYPE_ASYNC_SOCKET)

static void
finish (RpcClient *self, int status)
{
  self->status = status;
  c_async_socket_close (C_ASYNC_SOCKET (self));
  g_main_loop_quit (self->loop);
}

/* A full write queue refuses a record like a send that would block: wait for on_drain. */
static gboolean
is_queue_full (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
}

/* Hands the requests to the write queue; when it is full, on_drain resumes. */
static void
send_calls (RpcClient *self)
{
  while (self->next_to_send < self->calls->len)
    {
      Call *call = g_ptr_array_index (self->calls, self->next_to_send);
      g_autoptr (GError) error = NULL;

      if (!c_async_socket_send_record (C_ASYNC_SOCKET (self), call->record, &error))
        {
          if (is_queue_full (error))
            return;
          g_printerr ("rpc-client: %s\n", error->message);
          finish (self, 1);
          return;
        }
      self->next_to_send++;
    }
}

static void
rpc_client_on_connect (CAsyncSocket *socket, int error_code)
{
  if (error_code != 0)
    {
      g_printerr ("rpc-client: connect: %s\n", sample_failure_message (socket, error_code));
      finish (RPC_CLIENT (socket), 1);
    }
}

static void
rpc_client_on_send (CAsyncSocket *socket, int error_code)
{
  send_calls (RPC_CLIENT (socket));
}

static void
rpc_client_on_drain (CAsyncSocket *socket)
{
  send_calls (RPC_CLIENT (socket));
}

/* Decodes a reply, checking it as carefully as the server checks requests. */
static void
rpc_client_on_record (CAsyncSocket *socket, GBytes *record)
{
  RpcClient *self = RPC_CLIENT (socket);
  g_autoptr (CArchive) reply = c_archive_new_load_from_bytes (record, C_ARCHIVE_FORMAT_NETWORK);
  g_autoptr (GVariant) result = NULL;
  g_autofree char *message = NULL;
  g_autoptr (GError) error = NULL;
  guint32 id = c_archive_read_dword (reply);
  guint8 status = c_archive_read_byte (reply);
  gint32 code = 0;
  Call *call;

  if (status == 0)
    result = rpc_read_value (reply, &error);
  else
    {
      code = c_archive_read_long (reply);
      message = c_archive_read_cstring (reply);
    }
  if (error == NULL)
    c_archive_check (reply, &error);
  if (error == NULL && (id == 0 || id > self->calls->len || status > 1))
    g_set_error (&error, RPC_ERROR, RPC_ERROR_MALFORMED, "reply to unknown request %u", id);
  if (error != NULL)
    {
      g_printerr ("rpc-client: bad reply: %s\n", error->message);
      finish (self, 1);
      return;
    }

  call = g_ptr_array_index (self->calls, id - 1);
  if (result != NULL)
    {
      g_autofree char *printed = g_variant_print (result, FALSE);
      g_print ("%s = %s\n", call->description, printed);
    }
  else
    {
      g_print ("%s: error %d: %s\n", call->description, code, message);
      self->failed++;
    }
  if (++self->answered == self->calls->len)
    finish (self, self->failed > 0 ? 1 : 0);
}

static void
rpc_client_on_close (CAsyncSocket *socket, int error_code)
{
  RpcClient *self = RPC_CLIENT (socket);

  g_printerr ("rpc-client: the server closed the connection with %u of %u replies%s%s\n",
              self->answered, self->calls->len, error_code ? ": " : "",
              error_code ? sample_failure_message (socket, error_code) : "");
  finish (self, 1);
}

static void
rpc_client_finalize (GObject *object)
{
  g_ptr_array_unref (RPC_CLIENT (object)->calls);
  G_OBJECT_CLASS (rpc_client_parent_class)->finalize (object);
}

static void
rpc_client_class_init (RpcClientClass *klass)
{
  CAsyncSocketClass *socket_class = C_ASYNC_SOCKET_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = rpc_client_finalize;
  socket_class->on_connect = rpc_client_on_connect;
  socket_class->on_send = rpc_client_on_send;
  socket_class->on_drain = rpc_client_on_drain;
  socket_class->on_record = rpc_client_on_record;
  socket_class->on_close = rpc_client_on_close;
}

static void
rpc_client_init (RpcClient *self)
{
  self->calls = g_ptr_array_new_with_free_func (call_free);
}

/* The calls: from the command line, or one per line of standard input. */
static gboolean
add_call (RpcClient *self, char **words, GError **error)
{
  Call *call = make_call (self->calls->len + 1, words, error);

  if (call == NULL)
    return FALSE;
  g_ptr_array_add (self->calls, call);
  return TRUE;
}

static gboolean
read_calls (RpcClient *self, GError **error)
{
  g_autoptr (GIOChannel) input = g_io_channel_unix_new (0);
  g_autofree char *line = NULL;
  gsize terminator;
  guint number = 0;

  /* A batch tool may read all its input before it starts talking. */
  while (g_io_channel_read_line (input, &line, NULL, &terminator, error) == G_IO_STATUS_NORMAL)
    {
      g_auto (GStrv) words = NULL;

      number++;
      line[terminator] = '\0';
      if (g_strstrip (line)[0] != '\0' && line[0] != '#'
          && (!g_shell_parse_argv (line, NULL, &words, error) || !add_call (self, words, error)))
        {
          g_prefix_error (error, "line %u: ", number);
          return FALSE;
        }
      g_clear_pointer (&line, g_free);
    }
  return error == NULL || *error == NULL;
}

static gboolean
on_timeout (gpointer data)
{
  RpcClient *self = data;

  g_printerr ("rpc-client: timed out with %u of %u replies\n", self->answered, self->calls->len);
  finish (self, 1);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  int port = 7778, timeout = 30;
  g_autofree char *host = NULL;
  GOptionEntry entries[] = {
    { "host", 0, 0, G_OPTION_ARG_STRING, &host, "Server address or name", "H" },
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, "Server port", "N" },
    { "timeout", 't', 0, G_OPTION_ARG_INT, &timeout, "Give up after SECONDS (default 30)",
      "SECONDS" },
    { NULL },
  };
  g_autoptr (GOptionContext) options
      = g_option_context_new ("[METHOD [ARGUMENT…]] - call rpc-server");
  g_autoptr (GError) error = NULL;
  g_autoptr (RpcClient) client = NULL;
  g_auto (SampleTls) tls = { 0 };
  int status;

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (options, entries, NULL);
  sample_add_version_option (options);
  sample_tls_add_client_options (options, &tls);
  /* Options end at the METHOD, so that "add -1 2" passes -1 as an argument. */
  g_option_context_set_strict_posix (options, TRUE);
  if (!g_option_context_parse (options, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }

  client = g_object_new (RPC_TYPE_CLIENT, NULL);
  if (argc > 1 ? !add_call (client, argv + 1, &error) : !read_calls (client, &error))
    {
      g_printerr ("rpc-client: %s\n", error->message);
      return 2;
    }
  if (client->calls->len == 0)
    return 0;

  if (port <= 0 || port > 65535
      || !c_async_socket_create (C_ASYNC_SOCKET (client), 0, C_SOCK_STREAM, C_FD_ALL, NULL, &error)
      || !c_async_socket_set_record_mode (C_ASYNC_SOCKET (client), TRUE, &error)
      || !sample_tls_set_up_client (&tls, C_ASYNC_SOCKET (client), host ? host : "127.0.0.1",
                                    &error)
      || !c_async_socket_connect (C_ASYNC_SOCKET (client), host ? host : "127.0.0.1", (guint) port,
                                  &error))
    {
      g_printerr ("rpc-client: %s\n", error ? error->message : "port out of range");
      return 1;
    }
  client->loop = g_main_loop_new (NULL, FALSE);
  if (timeout > 0)
    g_timeout_add_seconds ((guint) timeout, on_timeout, client);
  g_main_loop_run (client->loop);
  status = client->status;
  g_main_loop_unref (client->loop);
  return status;
}
