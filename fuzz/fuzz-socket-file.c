/* fuzz-socket-file.c: libFuzzer target for CArchive reading through a CSocketFile
 *
 * MFC's CHATTER pattern under hostile input: a CArchive loads from a CSocketFile over a
 * CSocket whose bytes arrive in chunks, then the end of the stream. The input:
 *
 *   byte 0       flags: bit 0 the MFC format (else network order), bit 1 a 16-byte archive
 *                buffer (else MFC's 4096), bit 2 wide strings, bits 3-4 a code page (none,
 *                CP949, CP932, CP1252: fuzz_set_text_options())
 *   byte 1       k (its low 4 bits): how many chunk sizes follow
 *   k bytes      chunk sizes, 1 to 256 bytes each, used in turn (none: 1 byte at a time)
 *   the rest     an archive that is a series of operations, as for fuzz-archive-load: a BYTE
 *                naming the next read (fuzz-archive-common.h), then the field, objects too
 *
 * The socket reads the archive through the in-memory transport (fuzz-transport.c), each
 * read returning at most the next chunk size. The same series is then read from memory.
 * Whatever the bytes, the target must not crash, leak or hang, and the two readings must
 * agree value for value, down to the final error's message, which names the field and its
 * offset: chunking and short reads must not change what an archive decodes. The socket's
 * blocking calls must never wait: the transport always has bytes or the end of the stream
 * to give, so a call that waits for the kernel to report readiness would hang with a real
 * peer that sent everything (FuzzSocket below). Any difference aborts.
 *
 * Built with clang's -fsanitize=fuzzer it is a libFuzzer target; built with any compiler and
 * standalone-main.c it runs every file of its seed corpus as a plain test.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-archive-common.h"
#include "fuzz-transport.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

#define FLAG_MFC (1 << 0)
#define FLAG_SMALL_BUFFER (1 << 1)
#define FLAG_WIDE_STRINGS (1 << 2)
#define CODE_PAGE_SHIFT 3
#define MAX_OPS 1024

/* A CSocket whose blocking calls must not wait: on_message_pending runs only inside a wait. */
G_DECLARE_FINAL_TYPE (FuzzSocket, fuzz_socket, FUZZ, SOCKET, CSocket)

struct _FuzzSocket
{
  CSocket parent_instance;
};

G_DEFINE_FINAL_TYPE (FuzzSocket, fuzz_socket, C_TYPE_SOCKET)

static gboolean
fuzz_socket_message_pending (CSocket *self)
{
  fprintf (stderr, "fuzz-socket-file: a blocking call waited although the transport holds "
                   "bytes or the end of the stream\n");
  abort ();
}

static void
fuzz_socket_class_init (FuzzSocketClass *klass)
{
  C_SOCKET_CLASS (klass)->on_message_pending = fuzz_socket_message_pending;
}

static void
fuzz_socket_init (FuzzSocket *self)
{
}

/* The reading, as text: one line per value, then the final error and position. Lines are
 * appended without g_string_append_printf's temporary string: most fit on the stack. */
static void log_append (GString *log, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
log_append (GString *log, const char *format, ...)
{
  char line[256];
  va_list args;
  int n;

  va_start (args, format);
  n = vsnprintf (line, sizeof line, format, args);
  va_end (args);
  if (n >= 0 && (gsize) n < sizeof line)
    {
      g_string_append_len (log, line, n);
      return;
    }
  va_start (args, format);
  g_string_append_vprintf (log, format, args);
  va_end (args);
}

static void
note_object (GString *log, GObject *object, GPtrArray *keep)
{
  log_append (log, "object %s\n", object ? G_OBJECT_TYPE_NAME (object) : "null");
  if (object != NULL)
    g_ptr_array_add (keep, object);
}

/* @text may be NULL: c_archive_read_string() says "end of archive" that way, as MFC does. */
static void
note_string (GString *log, const char *kind, char *text)
{
  if (text == NULL)
    log_append (log, "%s none\n", kind);
  else
    log_append (log, "%s %zu %s\n", kind, strlen (text), text);
  g_free (text);
}

/* Text with NULs: its length and a hash of all of it. */
static void
note_text_len (CArchive *ar, GString *log)
{
  gsize length = 0;
  g_autofree char *text = c_archive_read_cstring_len (ar, &length);
  g_autoptr (GBytes) bytes = g_bytes_new_static (text, length);

  log_append (log, "cstring_len %zu %u\n", length, g_bytes_hash (bytes));
}

static void
read_list (CArchive *ar, GString *log)
{
  guint64 count = c_archive_read_count (ar);

  log_append (log, "list %" G_GUINT64_FORMAT "\n", count);
  for (guint64 i = 0; i < count && c_archive_get_error (ar) == NULL; i++)
    note_string (log, "item", c_archive_read_cstring (ar));
}

static void
read_raw (CArchive *ar, GString *log)
{
  guint8 buffer[256];
  gsize n = c_archive_read (ar, buffer, c_archive_read_byte (ar));

  log_append (log, "raw %zu", n);
  for (gsize i = 0; i < n; i++)
    {
      g_string_append_c (log, ' ');
      g_string_append_c (log, "0123456789abcdef"[buffer[i] >> 4]);
      g_string_append_c (log, "0123456789abcdef"[buffer[i] & 15]);
    }
  g_string_append_c (log, '\n');
}

static void
read_bytes (CArchive *ar, GString *log)
{
  g_autoptr (GBytes) bytes = c_archive_read_bytes (ar);

  log_append (log, "bytes %zu %u\n", g_bytes_get_size (bytes), g_bytes_hash (bytes));
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
        log_append (log, "class %s %u\n", type ? g_type_name (type) : "none", schema);
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
        log_append (log, "byte %u\n", c_archive_read_byte (ar));
        break;
      case FUZZ_OP_WORD:
        log_append (log, "word %u\n", c_archive_read_word (ar));
        break;
      case FUZZ_OP_LONG:
        log_append (log, "long %d\n", c_archive_read_long (ar));
        break;
      case FUZZ_OP_DWORD:
        log_append (log, "dword %u\n", c_archive_read_dword (ar));
        break;
      case FUZZ_OP_INT:
        log_append (log, "int %d\n", c_archive_read_int (ar));
        break;
      case FUZZ_OP_UINT:
        log_append (log, "uint %u\n", c_archive_read_uint (ar));
        break;
      case FUZZ_OP_SHORT:
        log_append (log, "short %d\n", c_archive_read_short (ar));
        break;
      case FUZZ_OP_CHAR:
        log_append (log, "char %d\n", c_archive_read_char (ar));
        break;
      case FUZZ_OP_WCHAR:
        log_append (log, "wchar %u\n", c_archive_read_wchar (ar));
        break;
      case FUZZ_OP_BOOL:
        log_append (log, "bool %d\n", c_archive_read_bool (ar));
        break;
      case FUZZ_OP_FLOAT:
        log_append (log, "float %a\n", (double) c_archive_read_float (ar));
        break;
      case FUZZ_OP_DOUBLE:
        log_append (log, "double %a\n", c_archive_read_double (ar));
        break;
      case FUZZ_OP_INT64:
        log_append (log, "int64 %" G_GINT64_FORMAT "\n", c_archive_read_int64 (ar));
        break;
      default:
        log_append (log, "uint64 %" G_GUINT64_FORMAT "\n", c_archive_read_uint64 (ar));
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
  else if (op == FUZZ_OP_CSTRING_LEN)
    note_text_len (ar, log);
  else if (op >= FUZZ_OP_MFC_VERSION)
    {
      /* MFC's collections and value types: the error and position after them are compared. */
      fuzz_read_mfc_op (ar, op, keep);
      log_append (log, "mfc op %d\n", (int) op);
    }
  else
    read_objects (ar, op, log, keep);
}

/* Reads the series of operations into @log, with the text options of @flags. */
static void
read_archive (CArchive *ar, guint8 flags, GString *log)
{
  GPtrArray *keep = g_ptr_array_new_with_free_func (g_object_unref);
  const GError *error;

  /* Smaller limits than the defaults keep each run fast; the code paths are the same. */
  c_archive_set_limit (ar, C_ARCHIVE_LIMIT_STRING_LENGTH, 1 << 20);
  c_archive_set_limit (ar, C_ARCHIVE_LIMIT_COUNT, 1 << 16);
  c_archive_set_limit (ar, C_ARCHIVE_LIMIT_OBJECTS, 1 << 12);
  fuzz_set_text_options (ar, (flags & FLAG_WIDE_STRINGS) != 0, (flags >> CODE_PAGE_SHIFT) & 3);
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
    log_append (log, "error %s %d: %s\n", g_quark_to_string (error->domain), error->code,
                error->message);
  else
    log_append (log, "end at %" G_GUINT64_FORMAT "\n", c_archive_get_position (ar));
  g_ptr_array_unref (keep);
}

static void
read_through_socket (guint8 flags, CArchiveFormat format, gsize buffer_size, GBytes *archive,
                     const gsize *chunks, gsize n_chunks, GString *log)
{
  g_autoptr (CSocket) reader = g_object_new (fuzz_socket_get_type (), NULL);
  g_autoptr (CSocketFile) file = NULL;
  g_autoptr (CArchive) ar = NULL;

  fuzz_transport_connect (C_ASYNC_SOCKET (reader),
                          c_transport_memory_new (archive, chunks, n_chunks), C_FD_ALL);
  file = c_socket_file_new (reader);
  ar = c_archive_new_load_from_stream (g_io_stream_get_input_stream (G_IO_STREAM (file)), format,
                                       buffer_size);
  read_archive (ar, flags, log);
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
  fuzz_transport_setup ();
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  GMainContext *context = g_main_context_default ();
  CArchiveFormat format;
  gsize buffer_size, header, n_chunks;
  gsize chunks[15] = { 1 };
  /* Kept from one input to the next, emptied for each. */
  static GString *socket_log, *memory_log;
  CArchive *ar;
  GBytes *archive;

  if (size < 2)
    return 0;
  setup ();
  if (socket_log == NULL)
    {
      socket_log = g_string_new (NULL);
      memory_log = g_string_new (NULL);
    }
  g_string_truncate (socket_log, 0);
  g_string_truncate (memory_log, 0);
  format = (data[0] & FLAG_MFC) ? C_ARCHIVE_FORMAT_MFC : C_ARCHIVE_FORMAT_NETWORK;
  buffer_size = (data[0] & FLAG_SMALL_BUFFER) ? 16 : 0;
  n_chunks = MIN ((gsize) (data[1] & 15), size - 2);
  for (gsize i = 0; i < n_chunks; i++)
    chunks[i] = (gsize) data[2 + i] + 1;
  header = 2 + n_chunks;
  archive = g_bytes_new_static (data + header, size - header);

  read_through_socket (data[0], format, buffer_size, archive, chunks, MAX (n_chunks, 1),
                       socket_log);
  ar = c_archive_new_load_from_data (data + header, size - header, format);
  read_archive (ar, data[0], memory_log);
  g_object_unref (ar);
  if (!g_string_equal (socket_log, memory_log))
    report_difference (socket_log->str, memory_log->str);
  /* The socket, its transport and so its reference to @archive are gone. */
  g_bytes_unref (archive);
  /* Deferred work of the closed socket. */
  for (int i = 0; i < 100 && g_main_context_iteration (context, FALSE); i++)
    ;
  fuzz_transport_check_idle ();
  return 0;
}
