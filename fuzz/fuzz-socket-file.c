/* fuzz-socket-file.c: libFuzzer target for CArchive reading through a CSocketFile
 *
 * MFC's CHATTER pattern under hostile input: a CArchive loads from a CSocketFile over a
 * CSocket whose peer writes the input in chunks, one chunk per turn of the main loop, then
 * half-closes. The input:
 *
 *   byte 0       flags: bit 0 the MFC format (else network order), bit 1 a 16-byte archive
 *                buffer (else MFC's 4096)
 *   byte 1       k (its low 4 bits): how many chunk sizes follow
 *   k bytes      chunk sizes, 1 to 256 bytes each, used in turn (none: 1 byte per turn)
 *   the rest     an archive that is a series of operations, as for fuzz-archive-load: a BYTE
 *                naming the next read (fuzz-archive-common.h), then the field, objects too
 *
 * The same series is then read from memory. Whatever the bytes, the target must not crash,
 * leak or hang (the socket's blocking calls have a timeout, so a hang would show as a
 * difference), and the two readings must agree value for value, down to the final error's
 * message, which names the field and its offset: chunking, short reads and the main loop
 * must not change what an archive decodes. Any difference aborts.
 *
 * Built with clang's -fsanitize=fuzzer it is a libFuzzer target; built with any compiler and
 * standalone-main.c it runs every file of its seed corpus as a plain test.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz-archive-common.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

#define FLAG_MFC (1 << 0)
#define FLAG_SMALL_BUFFER (1 << 1)
#define MAX_OPS 1024
#define READ_TIMEOUT_MS 5000

/* The peer: writes the archive in chunks from an idle source, then half-closes. */
typedef struct
{
  int fd;
  const guint8 *data;
  gsize size;
  gsize offset;
  const guint8 *chunk_sizes;
  gsize n_chunk_sizes;
  gsize next_chunk;
  GSource *source;
} Writer;

static gboolean
write_next_chunk (gpointer user_data)
{
  Writer *writer = user_data;
  gsize chunk = 1;
  gssize n;

  if (writer->n_chunk_sizes > 0)
    chunk = (gsize) writer->chunk_sizes[writer->next_chunk++ % writer->n_chunk_sizes] + 1;
  chunk = MIN (chunk, writer->size - writer->offset);
  n = send (writer->fd, writer->data + writer->offset, chunk, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n > 0)
    writer->offset += (gsize) n;
  else if (n < 0 && errno != EAGAIN && errno != EINTR)
    writer->offset = writer->size; /* the reader went away: stop */
  if (writer->offset < writer->size)
    return G_SOURCE_CONTINUE;
  shutdown (writer->fd, SHUT_WR);
  g_clear_pointer (&writer->source, g_source_unref);
  return G_SOURCE_REMOVE;
}

/* The reading, as text: one line per value, then the final error and position. */
static void
note_object (GString *log, GObject *object, GPtrArray *keep)
{
  g_string_append_printf (log, "object %s\n", object ? G_OBJECT_TYPE_NAME (object) : "null");
  if (object != NULL)
    g_ptr_array_add (keep, object);
}

/* @text may be NULL: c_archive_read_string() says "end of archive" that way, as MFC does. */
static void
note_string (GString *log, const char *kind, char *text)
{
  if (text == NULL)
    g_string_append_printf (log, "%s none\n", kind);
  else
    g_string_append_printf (log, "%s %zu %s\n", kind, strlen (text), text);
  g_free (text);
}

static void
read_list (CArchive *ar, GString *log)
{
  guint64 count = c_archive_read_count (ar);

  g_string_append_printf (log, "list %" G_GUINT64_FORMAT "\n", count);
  for (guint64 i = 0; i < count && c_archive_get_error (ar) == NULL; i++)
    note_string (log, "item", c_archive_read_cstring (ar));
}

static void
read_raw (CArchive *ar, GString *log)
{
  guint8 buffer[256];
  gsize n = c_archive_read (ar, buffer, c_archive_read_byte (ar));

  g_string_append_printf (log, "raw %zu", n);
  for (gsize i = 0; i < n; i++)
    g_string_append_printf (log, " %02x", buffer[i]);
  g_string_append_c (log, '\n');
}

static void
read_bytes (CArchive *ar, GString *log)
{
  g_autoptr (GBytes) bytes = c_archive_read_bytes (ar);

  g_string_append_printf (log, "bytes %zu %u\n", g_bytes_get_size (bytes), g_bytes_hash (bytes));
}

static void
read_objects (CArchive *ar, FuzzOp op, GString *log, GPtrArray *keep)
{
  GObject *object;
  guint schema = 0;
  GType type;

  switch (op)
    {
      case FUZZ_OP_OBJECT:
        note_object (log, c_archive_read_object (ar, G_TYPE_INVALID), keep);
        break;
      case FUZZ_OP_NODE:
        note_object (log, c_archive_read_object (ar, FUZZ_TYPE_NODE), keep);
        break;
      case FUZZ_OP_CLASS:
        type = c_archive_read_class (ar, G_TYPE_INVALID, &schema);
        g_string_append_printf (log, "class %s %u\n", type ? g_type_name (type) : "none", schema);
        break;
      default:
        object = g_object_new (G_TYPE_OBJECT, NULL);
        c_archive_map_object (ar, object);
        g_ptr_array_add (keep, object);
        g_string_append (log, "map\n");
    }
}

static void
read_number (CArchive *ar, FuzzOp op, GString *log)
{
  switch (op)
    {
      case FUZZ_OP_BYTE:
        g_string_append_printf (log, "byte %u\n", c_archive_read_byte (ar));
        break;
      case FUZZ_OP_WORD:
        g_string_append_printf (log, "word %u\n", c_archive_read_word (ar));
        break;
      case FUZZ_OP_LONG:
        g_string_append_printf (log, "long %d\n", c_archive_read_long (ar));
        break;
      case FUZZ_OP_DWORD:
        g_string_append_printf (log, "dword %u\n", c_archive_read_dword (ar));
        break;
      case FUZZ_OP_INT:
        g_string_append_printf (log, "int %d\n", c_archive_read_int (ar));
        break;
      case FUZZ_OP_UINT:
        g_string_append_printf (log, "uint %u\n", c_archive_read_uint (ar));
        break;
      case FUZZ_OP_SHORT:
        g_string_append_printf (log, "short %d\n", c_archive_read_short (ar));
        break;
      case FUZZ_OP_CHAR:
        g_string_append_printf (log, "char %d\n", c_archive_read_char (ar));
        break;
      case FUZZ_OP_WCHAR:
        g_string_append_printf (log, "wchar %u\n", c_archive_read_wchar (ar));
        break;
      case FUZZ_OP_BOOL:
        g_string_append_printf (log, "bool %d\n", c_archive_read_bool (ar));
        break;
      case FUZZ_OP_FLOAT:
        g_string_append_printf (log, "float %a\n", (double) c_archive_read_float (ar));
        break;
      case FUZZ_OP_DOUBLE:
        g_string_append_printf (log, "double %a\n", c_archive_read_double (ar));
        break;
      case FUZZ_OP_INT64:
        g_string_append_printf (log, "int64 %" G_GINT64_FORMAT "\n", c_archive_read_int64 (ar));
        break;
      default:
        g_string_append_printf (log, "uint64 %" G_GUINT64_FORMAT "\n", c_archive_read_uint64 (ar));
    }
}

static void
run_op (CArchive *ar, FuzzOp op, GString *log, GPtrArray *keep)
{
  if (op <= FUZZ_OP_UINT64)
    read_number (ar, op, log);
  else if (op == FUZZ_OP_CSTRING)
    note_string (log, "cstring", c_archive_read_cstring (ar));
  else if (op == FUZZ_OP_BYTES)
    read_bytes (ar, log);
  else if (op == FUZZ_OP_STRING_LIST)
    read_list (ar, log);
  else if (op == FUZZ_OP_LINE)
    note_string (log, "line", c_archive_read_string (ar));
  else if (op == FUZZ_OP_RAW)
    read_raw (ar, log);
  else
    read_objects (ar, op, log, keep);
}

/* Reads the series of operations; returns the log of what was read. */
static GString *
read_archive (CArchive *ar)
{
  GString *log = g_string_new (NULL);
  GPtrArray *keep = g_ptr_array_new_with_free_func (g_object_unref);
  const GError *error;

  /* Smaller limits than the defaults keep each run fast; the code paths are the same. */
  c_archive_set_limit (ar, C_ARCHIVE_LIMIT_STRING_LENGTH, 1 << 20);
  c_archive_set_limit (ar, C_ARCHIVE_LIMIT_COUNT, 1 << 16);
  c_archive_set_limit (ar, C_ARCHIVE_LIMIT_OBJECTS, 1 << 12);
  for (int i = 0; i < MAX_OPS && c_archive_get_error (ar) == NULL; i++)
    {
      guint8 op;

      if (c_archive_read (ar, &op, 1) != 1)
        break;
      run_op (ar, (FuzzOp) (op % FUZZ_N_OPS), log, keep);
    }
  /* After a failed field the position is not comparable: a memory archive refuses a
   * length it cannot hold before consuming anything, a stream has consumed what arrived.
   * The error names the field's own offset instead. */
  error = c_archive_get_error (ar);
  if (error != NULL)
    g_string_append_printf (log, "error %s %d: %s\n", g_quark_to_string (error->domain),
                            error->code, error->message);
  else
    g_string_append_printf (log, "end at %" G_GUINT64_FORMAT "\n", c_archive_get_position (ar));
  g_ptr_array_unref (keep);
  return log;
}

static GString *
read_through_socket (CArchiveFormat format, gsize buffer_size, Writer *writer)
{
  g_autoptr (CSocket) reader = c_socket_new ();
  g_autoptr (CSocketFile) file = NULL;
  g_autoptr (CArchive) ar = NULL;
  g_autoptr (GError) error = NULL;
  int fds[2];
  GString *log;

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
    g_error ("socketpair: %s", g_strerror (errno));
  if (!c_async_socket_attach (C_ASYNC_SOCKET (reader), fds[0], C_FD_ALL, &error))
    g_error ("attach: %s", error->message);
  c_socket_set_timeout (reader, READ_TIMEOUT_MS);
  file = c_socket_file_new (reader);
  ar = c_archive_new_load_from_stream (g_io_stream_get_input_stream (G_IO_STREAM (file)), format,
                                       buffer_size);

  writer->fd = fds[1];
  writer->source = g_idle_source_new ();
  g_source_set_callback (writer->source, write_next_chunk, writer, NULL);
  g_source_attach (writer->source, NULL);

  log = read_archive (ar);

  if (writer->source != NULL)
    {
      g_source_destroy (writer->source);
      g_clear_pointer (&writer->source, g_source_unref);
    }
  close (fds[1]);
  return log;
}

static void
report_difference (const char *socket_log, const char *memory_log)
{
  gsize line = 1;

  for (gsize i = 0; socket_log[i] == memory_log[i]; i++)
    if (socket_log[i] == '\n')
      line++;
  fprintf (stderr,
           "fuzz-socket-file: the readings differ at line %zu\n--- socket:\n%s--- memory:\n%s",
           line, socket_log, memory_log);
  abort ();
}

/* The library says why it closes a connection (a message); here that is every other input.
 * Warnings and criticals are bugs: abort. */
static GLogWriterOutput
quiet_log (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  if (!(level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)))
    return G_LOG_WRITER_HANDLED;
  g_log_writer_default (level, fields, n_fields, data);
  abort ();
}

static void
setup (void)
{
  static gboolean done;

  if (done)
    return;
  done = TRUE;
  fuzz_register_classes ();
  g_log_set_writer_func (quiet_log, NULL, NULL);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  GMainContext *context = g_main_context_default ();
  CArchiveFormat format;
  gsize buffer_size, header;
  Writer writer = { 0 };
  GString *socket_log, *memory_log;
  CArchive *ar;

  if (size < 2)
    return 0;
  setup ();
  format = (data[0] & FLAG_MFC) ? C_ARCHIVE_FORMAT_MFC : C_ARCHIVE_FORMAT_NETWORK;
  buffer_size = (data[0] & FLAG_SMALL_BUFFER) ? 16 : 0;
  writer.n_chunk_sizes = MIN ((gsize) (data[1] & 15), size - 2);
  writer.chunk_sizes = data + 2;
  header = 2 + writer.n_chunk_sizes;
  writer.data = data + header;
  writer.size = size - header;

  socket_log = read_through_socket (format, buffer_size, &writer);
  ar = c_archive_new_load_from_data (writer.data, writer.size, format);
  memory_log = read_archive (ar);
  g_object_unref (ar);
  if (!g_string_equal (socket_log, memory_log))
    report_difference (socket_log->str, memory_log->str);
  g_string_free (socket_log, TRUE);
  g_string_free (memory_log, TRUE);
  /* Deferred work of the closed socket. */
  for (int i = 0; i < 100 && g_main_context_iteration (context, FALSE); i++)
    ;
  return 0;
}
