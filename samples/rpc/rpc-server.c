/* rpc-server.c: a service whose messages are function calls
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   rpc-server [--port N] [--address A] [--clients N] [--threads N]
 *              [--tls-certificate FILE --tls-key FILE [--tls-client-ca FILE]]
 *
 * Each request is one record (a CArchive: request id, method name, typed arguments, see
 * rpc-protocol.h) and gets one reply record: the result, or an error code and message.
 * Methods: add(a, b), divide(a, b), concat(…), echo(x). Unknown methods, wrong arguments
 * and undecodable requests get error replies; the connection stays usable. Bytes that are
 * not even records (a length prefix over the 1 MiB limit) make afxsock close the
 * connection with a logged reason. Prints "listening on PORT" once ready.
 *
 * With --tls-certificate and --tls-key the calls travel over TLS (sample-tls.h), records
 * and all; --tls-client-ca admits only clients with a certificate from that CA.
 *
 * The service (docs/service.md) accepts each connection as an RpcConnection and holds it
 * until it closes; with --threads N it serves on N threads. Nothing is shared between
 * connections, so each thread answers its own clients alone.
 */
#include <afxsock.h>
#include <locale.h>
#include <stdio.h>

#include "rpc-protocol.h"
#include "sample-options.h"
#include "sample-service.h"
#include "sample-tls.h"

/* The methods: each takes the arguments and returns the result (floating or not), or
 * fails with an RPC_ERROR that becomes the error reply. */

typedef GVariant *(*RpcMethod) (GPtrArray *arguments, GError **error);

static gboolean
is_number (GVariant *value)
{
  return g_variant_is_of_type (value, G_VARIANT_TYPE_INT64)
         || g_variant_is_of_type (value, G_VARIANT_TYPE_DOUBLE);
}

static double
to_double (GVariant *value)
{
  return g_variant_is_of_type (value, G_VARIANT_TYPE_INT64) ? (double) g_variant_get_int64 (value)
                                                            : g_variant_get_double (value);
}

static gboolean
check_count (const char *method, GPtrArray *arguments, guint count, GError **error)
{
  if (arguments->len == count)
    return TRUE;
  g_set_error (error, RPC_ERROR, RPC_ERROR_BAD_ARGUMENTS, "%s takes %u argument%s, got %u", method,
               count, count == 1 ? "" : "s", arguments->len);
  return FALSE;
}

static gboolean
check_numbers (const char *method, GPtrArray *arguments, GError **error)
{
  for (guint i = 0; i < arguments->len; i++)
    if (!is_number (g_ptr_array_index (arguments, i)))
      {
        g_set_error (error, RPC_ERROR, RPC_ERROR_BAD_ARGUMENTS,
                     "%s: argument %u is a string, expected a number", method, i + 1);
        return FALSE;
      }
  return TRUE;
}

static GVariant *
method_add (GPtrArray *arguments, GError **error)
{
  GVariant *a, *b;
  gint64 sum;

  if (!check_count ("add", arguments, 2, error) || !check_numbers ("add", arguments, error))
    return NULL;
  a = g_ptr_array_index (arguments, 0);
  b = g_ptr_array_index (arguments, 1);
  if (!g_variant_is_of_type (a, G_VARIANT_TYPE_INT64)
      || !g_variant_is_of_type (b, G_VARIANT_TYPE_INT64))
    return g_variant_new_double (to_double (a) + to_double (b));
  if (__builtin_add_overflow (g_variant_get_int64 (a), g_variant_get_int64 (b), &sum))
    {
      g_set_error (error, RPC_ERROR, RPC_ERROR_OVERFLOW, "add: the sum does not fit 64 bits");
      return NULL;
    }
  return g_variant_new_int64 (sum);
}

static GVariant *
method_divide (GPtrArray *arguments, GError **error)
{
  double divisor;

  if (!check_count ("divide", arguments, 2, error) || !check_numbers ("divide", arguments, error))
    return NULL;
  divisor = to_double (g_ptr_array_index (arguments, 1));
  if (divisor == 0)
    {
      g_set_error (error, RPC_ERROR, RPC_ERROR_DIVISION_BY_ZERO, "division by zero");
      return NULL;
    }
  return g_variant_new_double (to_double (g_ptr_array_index (arguments, 0)) / divisor);
}

static GVariant *
method_concat (GPtrArray *arguments, GError **error)
{
  g_autoptr (GString) text = g_string_new (NULL);

  for (guint i = 0; i < arguments->len; i++)
    {
      GVariant *value = g_ptr_array_index (arguments, i);
      if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
        g_string_append (text, g_variant_get_string (value, NULL));
      else
        {
          g_autofree char *printed = g_variant_print (value, FALSE);
          g_string_append (text, printed);
        }
    }
  if (text->len > RPC_MAX_STRING_LENGTH)
    {
      g_set_error (error, RPC_ERROR, RPC_ERROR_BAD_ARGUMENTS,
                   "concat: the result would be %zu bytes, over %u", text->len,
                   RPC_MAX_STRING_LENGTH);
      return NULL;
    }
  return g_variant_new_string (text->str);
}

static GVariant *
method_echo (GPtrArray *arguments, GError **error)
{
  if (!check_count ("echo", arguments, 1, error))
    return NULL;
  return g_variant_ref (g_ptr_array_index (arguments, 0));
}

static const struct
{
  const char *name;
  RpcMethod function;
} methods[] = {
  { "add", method_add },
  { "divide", method_divide },
  { "concat", method_concat },
  { "echo", method_echo },
};

static GVariant *
call (const char *method, GPtrArray *arguments, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (methods); i++)
    if (g_str_equal (methods[i].name, method))
      {
        GVariant *result = methods[i].function (arguments, error);
        return result != NULL ? g_variant_take_ref (result) : NULL;
      }
  g_set_error (error, RPC_ERROR, RPC_ERROR_UNKNOWN_METHOD, "unknown method '%s'", method);
  return NULL;
}

/* Decoding a request with the connection's loading archive, pointed at this record:
 * everything in it comes from the network, so every count and length is checked before it
 * is used. Returns FALSE with an error when the record is not a request; *id is then 0 if
 * even the id could not be read. */
static gboolean
read_request (CArchive *archive, GBytes *record, guint32 *id, char **method, GPtrArray *arguments,
              GError **error)
{
  g_autoptr (GError) archive_error = NULL;
  guint64 count;

  /* A fresh start: no position, error or objects left from the previous request. */
  c_archive_reload (archive, record);
  *id = c_archive_read_dword (archive);
  if (c_archive_get_error (archive) != NULL)
    *id = 0;
  *method = c_archive_read_cstring (archive);
  count = c_archive_read_count (archive);
  for (guint64 i = 0; i < count && c_archive_get_error (archive) == NULL; i++)
    {
      GVariant *value = rpc_read_value (archive, error);
      if (value == NULL)
        {
          g_prefix_error (error, "malformed request: argument %u: ", (guint) i + 1);
          return FALSE;
        }
      g_ptr_array_add (arguments, value);
    }
  /* Errors are sticky: one check covers every field read above. */
  if (!c_archive_check (archive, &archive_error))
    {
      g_set_error (error, RPC_ERROR, RPC_ERROR_MALFORMED, "malformed request: %s",
                   archive_error->message);
      return FALSE;
    }
  if (!c_archive_is_buffer_empty (archive))
    {
      g_set_error (error, RPC_ERROR, RPC_ERROR_MALFORMED,
                   "malformed request: bytes after the last argument");
      return FALSE;
    }
  return TRUE;
}

/* One connection: a request in, a reply out. */

#define RPC_TYPE_CONNECTION (rpc_connection_get_type ())
G_DECLARE_FINAL_TYPE (RpcConnection, rpc_connection, RPC, CONNECTION, CAsyncSocket)

struct _RpcConnection
{
  CAsyncSocket parent_instance;
  guint id;
  CArchive *in;  /* reloaded with each request */
  CArchive *out; /* emptied by each reply's c_async_socket_send_archive() */
};

G_DEFINE_FINAL_TYPE (RpcConnection, rpc_connection, C_TYPE_ASYNC_SOCKET)

/* Closing is all: the service holds the connection and lets it go once closed. */
static void
connection_finished (RpcConnection *self, const char *why)
{
  g_print ("connection %u: %s\n", self->id, why);
  c_async_socket_close (C_ASYNC_SOCKET (self));
  sample_server_connection_finished ();
}

static char *
describe_call (const char *method, GPtrArray *arguments)
{
  GString *text = g_string_new (method);

  g_string_append_c (text, '(');
  for (guint i = 0; i < arguments->len; i++)
    {
      g_autofree char *printed = g_variant_print (g_ptr_array_index (arguments, i), FALSE);
      g_string_append_printf (text, "%s%s", i > 0 ? ", " : "", printed);
    }
  g_string_append_c (text, ')');
  return g_string_free (text, FALSE);
}

static void
send_reply (RpcConnection *self, guint32 id, GVariant *result, const GError *failure)
{
  CArchive *reply = self->out;
  g_autoptr (GError) error = NULL;

  c_archive_write_dword (reply, id);
  c_archive_write_byte (reply, result != NULL ? 0 : 1);
  if (result != NULL)
    rpc_write_value (reply, result);
  else
    {
      c_archive_write_long (reply, failure->domain == RPC_ERROR ? failure->code : 0);
      c_archive_write_cstring (reply, failure->message);
    }
  /* A client that sends requests without reading the replies fills the write queue: the
   * listener set overflow_closes, so afxsock then closes the connection (on_close). */
  if (!c_async_socket_send_archive (C_ASYNC_SOCKET (self), reply, &error))
    {
      g_printerr ("connection %u: reply %u not sent: %s\n", self->id, id, error->message);
      /* What a failed reply left behind (its bytes, a sticky archive error) must not reach
       * the next one: that one starts on a new archive. */
      g_object_unref (self->out);
      self->out = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_NETWORK);
    }
}

static void
rpc_connection_on_record (CAsyncSocket *socket, GBytes *record)
{
  RpcConnection *self = RPC_CONNECTION (socket);
  g_autoptr (GPtrArray) arguments
      = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  g_autofree char *method = NULL;
  g_autofree char *described = NULL;
  g_autoptr (GVariant) result = NULL;
  g_autoptr (GError) error = NULL;
  guint32 id;

  if (!read_request (self->in, record, &id, &method, arguments, &error))
    {
      g_print ("connection %u: request %u: %s\n", self->id, id, error->message);
      send_reply (self, id, NULL, error);
      return;
    }
  described = describe_call (method, arguments);
  result = call (method, arguments, &error);
  if (result != NULL)
    {
      g_autofree char *printed = g_variant_print (result, FALSE);
      g_print ("connection %u: request %u: %s = %s\n", self->id, id, described, printed);
    }
  else
    g_print ("connection %u: request %u: %s failed: %s\n", self->id, id, described, error->message);
  send_reply (self, id, result, error);
}

static void
rpc_connection_on_close (CAsyncSocket *socket, int error_code)
{
  RpcConnection *self = RPC_CONNECTION (socket);
  g_autofree char *why = NULL;

  if (error_code == 0)
    why = g_strdup ("closed by the client");
  else
    why = g_strdup_printf ("closed: %s", sample_failure_message (socket, error_code));
  connection_finished (self, why);
}

static void
rpc_connection_finalize (GObject *object)
{
  RpcConnection *self = RPC_CONNECTION (object);

  g_clear_object (&self->in);
  g_clear_object (&self->out);
  G_OBJECT_CLASS (rpc_connection_parent_class)->finalize (object);
}

static void
rpc_connection_class_init (RpcConnectionClass *klass)
{
  CAsyncSocketClass *socket_class = C_ASYNC_SOCKET_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = rpc_connection_finalize;
  socket_class->on_record = rpc_connection_on_record;
  socket_class->on_close = rpc_connection_on_close;
}

static void
rpc_connection_init (RpcConnection *self)
{
  /* One archive each way for the connection's life. The limits stay across reloads: the
   * archive refuses longer strings and larger counts itself, before allocating. */
  self->in = c_archive_new_load_from_data (NULL, 0, C_ARCHIVE_FORMAT_NETWORK);
  c_archive_set_limit (self->in, C_ARCHIVE_LIMIT_STRING_LENGTH, RPC_MAX_STRING_LENGTH);
  c_archive_set_limit (self->in, C_ARCHIVE_LIMIT_COUNT, RPC_MAX_ARGUMENTS);
  self->out = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_NETWORK);
}

/* The service (sample-service.h): the listeners' record mode, limits and TLS, which the
 * connections inherit. Accepted connections inherit the record mode and its limits: small
 * records, a client that does not read its replies is dropped, and so is one idle for a
 * minute or taking over ten seconds to send one request. */

static SampleTls tls;

static gboolean
set_up_listener (CAsyncSocket *listener, gpointer data, GError **error)
{
  c_async_socket_set_max_record_size (listener, RPC_MAX_RECORD_SIZE);
  c_async_socket_set_overflow_closes (listener, TRUE);
  c_async_socket_set_idle_timeout (listener, 60 * 1000);
  c_async_socket_set_record_timeout (listener, 10 * 1000);
  return c_async_socket_set_record_mode (listener, TRUE, error)
         && sample_tls_set_up_server (&tls, listener, error);
}

static void
accepted (CAsyncSocket *socket, guint number)
{
  RPC_CONNECTION (socket)->id = number;
}

int
main (int argc, char **argv)
{
  SampleServer server = { .connection_type = RPC_TYPE_CONNECTION,
                          .port = 7778,
                          .threads = 1,
                          .set_up = set_up_listener,
                          .accepted = accepted };
  g_autofree char *address = NULL;
  GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, &server.port, "Port to listen on (0: any)", "N" },
    { "address", 'a', 0, G_OPTION_ARG_STRING, &address, "Address to listen on (default: all)",
      "A" },
    { "clients", 'n', 0, G_OPTION_ARG_INT, &server.clients, "Exit after serving N clients", "N" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &server.threads,
      "Serve on N threads, each with its own listener (default 1: this one)", "N" },
    { NULL },
  };
  g_autoptr (GOptionContext) options = g_option_context_new ("- answer function calls");
  g_autoptr (GError) error = NULL;
  int status;

  setlocale (LC_ALL, ""); /* strings in the log: g_print converts them for the terminal */
  g_option_context_add_main_entries (options, entries, NULL);
  sample_add_version_option (options);
  sample_tls_add_server_options (options, &tls);
  if (!g_option_context_parse (options, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  server.address = address;
  status = sample_server_serve (&server);
  sample_tls_clear (&tls);
  return status;
}
