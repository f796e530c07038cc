/* fuzz-archive-load.c: libFuzzer target for loading archives (both formats, objects too)
 *
 * Input: one flags byte (format, transport and text options, see fuzz-archive-common.h),
 * then an archive
 * that is a series of operations, each a BYTE naming a read and the field to read. The
 * target must never crash, leak or hang, whatever the bytes; the archive's sticky error
 * ends the series.
 *
 * Built with clang's -fsanitize=fuzzer it is a libFuzzer target; built with any compiler
 * and standalone-main.c it runs every file of the seed corpus as a plain test.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz-archive-common.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

/* A stream that hands out at most chunk bytes per read, to exercise the refills. */
#define FUZZ_TYPE_CHUNKED_INPUT (fuzz_chunked_input_get_type ())
G_DECLARE_FINAL_TYPE (FuzzChunkedInput, fuzz_chunked_input, FUZZ, CHUNKED_INPUT, GInputStream)

struct _FuzzChunkedInput
{
  GInputStream parent_instance;
  const guint8 *data;
  gsize size;
  gsize offset;
  gsize chunk;
};

G_DEFINE_FINAL_TYPE (FuzzChunkedInput, fuzz_chunked_input, G_TYPE_INPUT_STREAM)

static gssize
fuzz_chunked_input_read (GInputStream *stream, void *buffer, gsize count, GCancellable *cancellable,
                         GError **error)
{
  FuzzChunkedInput *self = FUZZ_CHUNKED_INPUT (stream);
  gsize n = MIN (MIN (count, self->chunk), self->size - self->offset);

  if (n > 0)
    memcpy (buffer, self->data + self->offset, n);
  self->offset += n;
  return (gssize) n;
}

static void
fuzz_chunked_input_class_init (FuzzChunkedInputClass *klass)
{
  G_INPUT_STREAM_CLASS (klass)->read_fn = fuzz_chunked_input_read;
}

static void
fuzz_chunked_input_init (FuzzChunkedInput *self)
{
}

static CArchive *
open_archive (guint8 flags, const guint8 *data, gsize size)
{
  CArchiveFormat format = (flags & FUZZ_FLAG_MFC) ? C_ARCHIVE_FORMAT_MFC : C_ARCHIVE_FORMAT_NETWORK;
  FuzzChunkedInput *input;
  CArchive *ar;

  if ((flags & (FUZZ_FLAG_ONE_BYTE_STREAM | FUZZ_FLAG_SEVEN_BYTE_STREAM)) == 0)
    return c_archive_new_load_from_data (data, size, format);
  input = g_object_new (FUZZ_TYPE_CHUNKED_INPUT, NULL);
  input->data = data;
  input->size = size;
  input->chunk = (flags & FUZZ_FLAG_ONE_BYTE_STREAM) ? 1 : 7;
  ar = c_archive_new_load_from_stream (G_INPUT_STREAM (input), format, 64);
  g_object_unref (input);
  return ar;
}

static void
read_list (CArchive *ar)
{
  guint64 count = c_archive_read_count (ar);

  for (guint64 i = 0; i < count && c_archive_get_error (ar) == NULL; i++)
    g_free (c_archive_read_cstring (ar));
}

static void
read_raw (CArchive *ar)
{
  guint8 buffer[256];

  c_archive_read (ar, buffer, c_archive_read_byte (ar));
}

/* The text with NULs has the length it says, and a NUL after it. */
static void
read_cstring_len (CArchive *ar)
{
  gsize length = 1;
  g_autofree char *text = c_archive_read_cstring_len (ar, &length);

  if (text[length] != '\0' || (c_archive_get_error (ar) != NULL && length != 0))
    abort ();
}

static void
read_objects (CArchive *ar, FuzzOp op, GPtrArray *keep)
{
  GObject *object = NULL;

  if (op == FUZZ_OP_OBJECT)
    object = c_archive_read_object (ar, G_TYPE_INVALID);
  else if (op == FUZZ_OP_NODE)
    object = c_archive_read_object (ar, FUZZ_TYPE_NODE);
  else if (op == FUZZ_OP_CLASS)
    c_archive_read_class (ar, G_TYPE_INVALID, NULL);
  else
    {
      object = g_object_new (G_TYPE_OBJECT, NULL);
      c_archive_map_object (ar, object);
    }
  if (object != NULL)
    g_ptr_array_add (keep, object);
}

static void
run_op (CArchive *ar, FuzzOp op, GPtrArray *keep)
{
  g_autoptr (GBytes) bytes = NULL;

  switch (op)
    {
      case FUZZ_OP_BYTE:
        c_archive_read_byte (ar);
        break;
      case FUZZ_OP_WORD:
        c_archive_read_word (ar);
        break;
      case FUZZ_OP_LONG:
        c_archive_read_long (ar);
        break;
      case FUZZ_OP_DWORD:
        c_archive_read_dword (ar);
        break;
      case FUZZ_OP_INT:
        c_archive_read_int (ar);
        break;
      case FUZZ_OP_UINT:
        c_archive_read_uint (ar);
        break;
      case FUZZ_OP_SHORT:
        c_archive_read_short (ar);
        break;
      case FUZZ_OP_CHAR:
        c_archive_read_char (ar);
        break;
      case FUZZ_OP_WCHAR:
        c_archive_read_wchar (ar);
        break;
      case FUZZ_OP_BOOL:
        c_archive_read_bool (ar);
        break;
      case FUZZ_OP_FLOAT:
        c_archive_read_float (ar);
        break;
      case FUZZ_OP_DOUBLE:
        c_archive_read_double (ar);
        break;
      case FUZZ_OP_INT64:
        c_archive_read_int64 (ar);
        break;
      case FUZZ_OP_UINT64:
        c_archive_read_uint64 (ar);
        break;
      case FUZZ_OP_CSTRING:
        g_free (c_archive_read_cstring (ar));
        break;
      case FUZZ_OP_BYTES:
        bytes = c_archive_read_bytes (ar);
        break;
      case FUZZ_OP_STRING_LIST:
        read_list (ar);
        break;
      case FUZZ_OP_LINE:
        g_free (c_archive_read_string (ar));
        break;
      case FUZZ_OP_RAW:
        read_raw (ar);
        break;
      case FUZZ_OP_CSTRING_LEN:
        read_cstring_len (ar);
        break;
      case FUZZ_OP_OBJECT:
      case FUZZ_OP_NODE:
      case FUZZ_OP_CLASS:
      case FUZZ_OP_MAP:
        read_objects (ar, op, keep);
        break;
      default:
        fuzz_read_mfc_op (ar, op, keep);
    }
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  GPtrArray *keep;
  CArchive *ar;

  if (size == 0)
    return 0;
  fuzz_register_classes ();
  ar = open_archive (data[0], data + 1, size - 1);
  /* Smaller limits than the defaults keep each run fast; the code paths are the same. */
  c_archive_set_limit (ar, C_ARCHIVE_LIMIT_STRING_LENGTH, 1 << 20);
  c_archive_set_limit (ar, C_ARCHIVE_LIMIT_COUNT, 1 << 16);
  c_archive_set_limit (ar, C_ARCHIVE_LIMIT_OBJECTS, 1 << 12);
  fuzz_set_text_options (ar, (data[0] & FUZZ_FLAG_WIDE_STRINGS) != 0,
                         (data[0] & FUZZ_CODE_PAGE_MASK) >> FUZZ_CODE_PAGE_SHIFT);
  keep = g_ptr_array_new_with_free_func (g_object_unref);
  for (int i = 0; i < 1024 && c_archive_get_error (ar) == NULL; i++)
    {
      guint8 op;

      if (c_archive_read (ar, &op, 1) != 1)
        break;
      run_op (ar, (FuzzOp) (op % FUZZ_N_OPS), keep);
    }
  g_ptr_array_unref (keep);
  g_object_unref (ar);
  return 0;
}
