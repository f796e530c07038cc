/* test-archive-malformed.c: hostile and broken input gives its specific error, never a crash
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include <criterion/criterion.h>

#include "archive-test-util.h"

typedef enum
{
  READ_BYTE,
  READ_WORD,
  READ_DWORD,
  READ_INT64,
  READ_FLOAT,
  READ_DOUBLE,
  READ_BOOL,
  READ_CSTRING,
  READ_COUNT,
  READ_STRING_LIST,
  READ_BYTES,
  READ_LINE,
  READ_OBJECT_ANY,
  READ_OBJECT_NODE,
  READ_CLASS
} ReadOp;

typedef enum
{
  SETUP_NONE,
  SETUP_UNLIMITED_STRINGS,
  SETUP_MAX_OBJECTS_3,
  SETUP_LINE_LIMIT_4
} Setup;

typedef struct
{
  const char *name;
  CArchiveFormat format;
  const char *hex;
  GBytes *(*make) (void);
  ReadOp op;
  Setup setup;
  CArchiveError code;
  const char *fragment;
} Malformed;

#define N C_ARCHIVE_FORMAT_NETWORK
#define M C_ARCHIVE_FORMAT_MFC
#define CNODE "43 4e 6f 64 65"
#define TESTBAG "ff ff 00 01 00 07 54 65 73 74 42 61 67 00 00 00 01 "

/* Nests 100 new CNode objects, each the next of the previous one. */
static GBytes *
make_depth_bomb (void)
{
  GString *hex = g_string_new ("ff ff 00 01 00 05 " CNODE " 00 00 00 00");
  GBytes *bytes;

  for (int i = 0; i < 100; i++)
    g_string_append (hex, " 80 01 00 00 00 00");
  g_string_append (hex, " 00 00");
  bytes = test_bytes_from_hex (hex->str);
  g_string_free (hex, TRUE);
  return bytes;
}

static const Malformed table[] = {
  { "DWORD truncated", N, "00 01 02", NULL, READ_DWORD, SETUP_NONE, C_ARCHIVE_ERROR_END_OF_FILE,
    "reading DWORD at offset 0: end of archive (4 bytes needed, 3 left)" },
  { "WORD from nothing", N, "", NULL, READ_WORD, SETUP_NONE, C_ARCHIVE_ERROR_END_OF_FILE,
    "reading WORD at offset 0: end of archive" },
  { "BYTE from nothing", M, "", NULL, READ_BYTE, SETUP_NONE, C_ARCHIVE_ERROR_END_OF_FILE,
    "reading BYTE at offset 0" },
  { "LONGLONG truncated", M, "01 02 03 04 05 06 07", NULL, READ_INT64, SETUP_NONE,
    C_ARCHIVE_ERROR_END_OF_FILE,
    "reading LONGLONG at offset 0: end of archive (8 bytes needed, 7 left)" },
  { "double truncated", N, "3f f0", NULL, READ_DOUBLE, SETUP_NONE, C_ARCHIVE_ERROR_END_OF_FILE,
    "reading double at offset 0" },
  { "float truncated", M, "00 00 80", NULL, READ_FLOAT, SETUP_NONE, C_ARCHIVE_ERROR_END_OF_FILE,
    "reading float at offset 0" },
  { "bool neither 0 nor 1", N, "02", NULL, READ_BOOL, SETUP_NONE, C_ARCHIVE_ERROR_BAD_DATA,
    "reading bool at offset 0: bool byte 0x02 is neither 0 nor 1" },
  { "string length past the end", N, "00 00 00 05 61 62", NULL, READ_CSTRING, SETUP_NONE,
    C_ARCHIVE_ERROR_END_OF_FILE,
    "reading CString at offset 0: end of archive (5 bytes needed, 2 left)" },
  { "MFC string length past the end", M, "05 61 62", NULL, READ_CSTRING, SETUP_NONE,
    C_ARCHIVE_ERROR_END_OF_FILE, "(5 bytes needed, 2 left)" },
  { "string of 4 GiB with 10 bytes, default limit", N, "ff ff ff fe 30 31 32 33 34 35 36 37 38 39",
    NULL, READ_CSTRING, SETUP_NONE, C_ARCHIVE_ERROR_LIMIT_EXCEEDED,
    "a string of 4294967294 bytes exceeds the limit of 67108864 bytes" },
  { "string of 4 GiB with 10 bytes, no limit", N, "ff ff ff fe 30 31 32 33 34 35 36 37 38 39", NULL,
    READ_CSTRING, SETUP_UNLIMITED_STRINGS, C_ARCHIVE_ERROR_END_OF_FILE,
    "(4294967294 bytes needed, 10 left)" },
  { "MFC string of 4 GiB with 10 bytes, no limit", M,
    "ff ff ff fe ff ff ff 30 31 32 33 34 35 36 37 38 39", NULL, READ_CSTRING,
    SETUP_UNLIMITED_STRINGS, C_ARCHIVE_ERROR_END_OF_FILE, "(4294967294 bytes needed, 10 left)" },
  { "string of 2^64-1 bytes", N, "ff ff ff ff ff ff ff ff ff ff ff ff", NULL, READ_CSTRING,
    SETUP_NONE, C_ARCHIVE_ERROR_LIMIT_EXCEEDED, "a string of 18446744073709551615 bytes" },
  { "MFC wide string whose byte length overflows", M,
    "ff fe ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff", NULL, READ_CSTRING, SETUP_NONE,
    C_ARCHIVE_ERROR_LIMIT_EXCEEDED, "exceeds the limit" },
  { "MFC length prefix truncated", M, "ff ff", NULL, READ_CSTRING, SETUP_NONE,
    C_ARCHIVE_ERROR_END_OF_FILE, "reading CString at offset 0" },
  { "invalid UTF-8", N, "00 00 00 02 c3 28", NULL, READ_CSTRING, SETUP_NONE,
    C_ARCHIVE_ERROR_BAD_DATA, "reading CString at offset 0: the string is not valid UTF-8" },
  { "NUL inside a string", N, "00 00 00 03 61 00 62", NULL, READ_CSTRING, SETUP_NONE,
    C_ARCHIVE_ERROR_BAD_DATA, "contains NUL" },
  { "MFC narrow string in a legacy code page", M, "04 63 61 66 e9", NULL, READ_CSTRING, SETUP_NONE,
    C_ARCHIVE_ERROR_BAD_DATA, "not valid UTF-8" },
  { "MFC wide string with an unpaired high surrogate", M, "ff fe ff 01 00 d8", NULL, READ_CSTRING,
    SETUP_NONE, C_ARCHIVE_ERROR_BAD_DATA, "not valid UTF-16" },
  { "MFC wide string with a lone low surrogate", M, "ff fe ff 02 00 dc 41 00", NULL, READ_CSTRING,
    SETUP_NONE, C_ARCHIVE_ERROR_BAD_DATA, "not valid UTF-16" },
  { "MFC wide string with NUL", M, "ff fe ff 01 00 00", NULL, READ_CSTRING, SETUP_NONE,
    C_ARCHIVE_ERROR_BAD_DATA, "contains NUL" },
  { "MFC wide string truncated", M, "ff fe ff 02 41 00", NULL, READ_CSTRING, SETUP_NONE,
    C_ARCHIVE_ERROR_END_OF_FILE, "(4 bytes needed, 2 left)" },
  { "count bomb", N, "ff ff ff ff ff ff ff ff ff ff ff ff", NULL, READ_COUNT, SETUP_NONE,
    C_ARCHIVE_ERROR_LIMIT_EXCEEDED,
    "reading count at offset 0: count 18446744073709551615 exceeds the limit of 16777216" },
  { "MFC count bomb", M, "ff ff fe ff ff ff", NULL, READ_COUNT, SETUP_NONE,
    C_ARCHIVE_ERROR_LIMIT_EXCEEDED, "count 4294967294 exceeds the limit" },
  { "count truncated", M, "ff ff 01", NULL, READ_COUNT, SETUP_NONE, C_ARCHIVE_ERROR_END_OF_FILE,
    "reading count at offset 0" },
  { "a million strings promised, one sent", N, "00 0f 42 40 00 00 00 01 61", NULL, READ_STRING_LIST,
    SETUP_NONE, C_ARCHIVE_ERROR_END_OF_FILE, "reading CString at offset 9: end of archive" },
  { "byte block past the end", N, "00 00 00 10 01 02", NULL, READ_BYTES, SETUP_NONE,
    C_ARCHIVE_ERROR_END_OF_FILE,
    "reading byte block at offset 0: end of archive (16 bytes needed, 2 left)" },
  { "byte block over the limit", M, "ff ff 00 00 00 10 01", NULL, READ_BYTES, SETUP_NONE,
    C_ARCHIVE_ERROR_LIMIT_EXCEEDED, "a byte block of 268435456 bytes exceeds the limit" },
  { "line over the limit", N, "61 62 63 64 65 66 0a", NULL, READ_LINE, SETUP_LINE_LIMIT_4,
    C_ARCHIVE_ERROR_LIMIT_EXCEEDED, "reading line at offset 0: a line of" },
  { "line not UTF-8", N, "61 ff 0a", NULL, READ_LINE, SETUP_NONE, C_ARCHIVE_ERROR_BAD_DATA,
    "reading line at offset 0: the line is not valid UTF-8 (byte 0xff at byte 1, offset 1)" },
  { "unknown class name", N, "ff ff 00 01 00 05 43 46 6f 6f 31", NULL, READ_OBJECT_ANY, SETUP_NONE,
    C_ARCHIVE_ERROR_BAD_CLASS, "reading object at offset 0: unknown class 'CFoo1'" },
  { "class name of length 0", N, "ff ff 00 01 00 00", NULL, READ_OBJECT_ANY, SETUP_NONE,
    C_ARCHIVE_ERROR_BAD_CLASS, "class name length 0 is out of range" },
  { "class name too long", N, "ff ff 00 01 01 00 41 41", NULL, READ_OBJECT_ANY, SETUP_NONE,
    C_ARCHIVE_ERROR_BAD_CLASS, "class name length 256 is out of range" },
  { "class name not printable", M, "ff ff 01 00 02 00 43 0a", NULL, READ_OBJECT_ANY, SETUP_NONE,
    C_ARCHIVE_ERROR_BAD_CLASS, "class name is not printable ASCII" },
  { "class name truncated", N, "ff ff 00 01 00 05 43 4e", NULL, READ_OBJECT_ANY, SETUP_NONE,
    C_ARCHIVE_ERROR_END_OF_FILE, "reading object at offset 0: end of archive" },
  { "class tag for an id never defined", N, "80 05", NULL, READ_OBJECT_ANY, SETUP_NONE,
    C_ARCHIVE_ERROR_BAD_INDEX, "reading object at offset 0: class id 5 is not defined" },
  { "class tag for id 0", M, "00 80", NULL, READ_OBJECT_ANY, SETUP_NONE, C_ARCHIVE_ERROR_BAD_INDEX,
    "class id 0 is not defined" },
  { "big class tag for an id never defined", N, "7f ff 80 00 12 34", NULL, READ_OBJECT_ANY,
    SETUP_NONE, C_ARCHIVE_ERROR_BAD_INDEX, "class id 4660 is not defined" },
  { "back-reference forward", N, "00 05", NULL, READ_OBJECT_ANY, SETUP_NONE,
    C_ARCHIVE_ERROR_BAD_INDEX, "reading object at offset 0: object id 5 is not defined" },
  { "big back-reference forward", M, "ff 7f 34 12 00 00", NULL, READ_OBJECT_ANY, SETUP_NONE,
    C_ARCHIVE_ERROR_BAD_INDEX, "object id 4660 is not defined" },
  { "big tag truncated", N, "7f ff 00", NULL, READ_OBJECT_ANY, SETUP_NONE,
    C_ARCHIVE_ERROR_END_OF_FILE, "reading object at offset 0: end of archive" },
  { "back-reference to a class id", N, "ff ff 00 01 00 05 " CNODE " 00 00 00 01 00 01", NULL,
    READ_OBJECT_ANY, SETUP_NONE, C_ARCHIVE_ERROR_BAD_INDEX,
    "reading object at offset 15: id 1 is a class, not an object" },
  { "class tag naming an object", N, "ff ff 00 01 00 05 " CNODE " 00 00 00 01 80 02", NULL,
    READ_OBJECT_ANY, SETUP_NONE, C_ARCHIVE_ERROR_BAD_INDEX, "id 2 is an object, not a class" },
  { "schema mismatch", N, "ff ff 00 02 00 05 " CNODE " 00 00 00 01 00 00", NULL, READ_OBJECT_ANY,
    SETUP_NONE, C_ARCHIVE_ERROR_BAD_SCHEMA,
    "class 'CNode' has schema 2 in the archive but 1 is registered" },
  { "depth bomb", N, NULL, make_depth_bomb, READ_OBJECT_ANY, SETUP_NONE,
    C_ARCHIVE_ERROR_LIMIT_EXCEEDED, "objects nest deeper than the limit of 64" },
  { "object of the wrong type", N,
    "ff ff 00 02 00 0a 43 56 65 72 73 69 6f 6e 65 64 00 00 00 05 00 00 00 06", NULL,
    READ_OBJECT_NODE, SETUP_NONE, C_ARCHIVE_ERROR_BAD_CLASS,
    "reading object at offset 0: class 'CVersioned' is not a TestNode" },
  { "more objects than the limit", N,
    "ff ff 00 01 00 05 " CNODE " 00 00 00 01 80 01 00 00 00 02 80 01 00 00 00 03 00 00", NULL,
    READ_OBJECT_ANY, SETUP_MAX_OBJECTS_3, C_ARCHIVE_ERROR_LIMIT_EXCEEDED,
    "more than the limit of 3 classes and objects" },
  { "object fields truncated", N, "ff ff 00 01 00 05 " CNODE " 00 00", NULL, READ_OBJECT_ANY,
    SETUP_NONE, C_ARCHIVE_ERROR_END_OF_FILE, "reading LONG at offset 11: end of archive" },
  { "object tag where a class belongs", N, "00 00", NULL, READ_CLASS, SETUP_NONE,
    C_ARCHIVE_ERROR_BAD_INDEX, "reading class at offset 0: found object tag 0, expected a class" },
  { "property of the wrong kind", N, TESTBAG "00 00 00 01 69 73 01 00 00 00 01 61", NULL,
    READ_OBJECT_ANY, SETUP_NONE, C_ARCHIVE_ERROR_BAD_DATA,
    "property 'i' of TestBag is a gint, the archive has kind 's'" },
  { "property kind unknown", N, TESTBAG "00 00 00 01 69 5a 00", NULL, READ_OBJECT_ANY, SETUP_NONE,
    C_ARCHIVE_ERROR_BAD_DATA, "unknown kind 0x5a of property 'i'" },
  { "enumeration value undefined", N, TESTBAG "00 00 00 06 66 6f 72 6d 61 74 65 00 00 00 07", NULL,
    READ_OBJECT_ANY, SETUP_NONE, C_ARCHIVE_ERROR_BAD_DATA, "no such enumeration value: 7" },
  { "undefined flag bits", N, TESTBAG "00 00 00 05 66 6c 61 67 73 46 00 00 00 f0", NULL,
    READ_OBJECT_ANY, SETUP_NONE, C_ARCHIVE_ERROR_BAD_DATA, "undefined flag bits in 240" },
  { "property value out of range", N, TESTBAG "00 00 00 07 70 65 72 63 65 6e 74 69 00 00 00 65",
    NULL, READ_OBJECT_ANY, SETUP_NONE, C_ARCHIVE_ERROR_BAD_DATA,
    "value of property 'percent' is out of range" },
  { "property object of the wrong class", N, TESTBAG "00 00 00 05 63 68 69 6c 64 6f 00 01", NULL,
    READ_OBJECT_ANY, SETUP_NONE, C_ARCHIVE_ERROR_BAD_INDEX, "id 1 is a class, not an object" },
};

static void
apply_setup (CArchive *ar, Setup setup)
{
  switch (setup)
    {
      case SETUP_UNLIMITED_STRINGS:
        c_archive_set_limit (ar, C_ARCHIVE_LIMIT_STRING_LENGTH, G_MAXUINT64);
        break;
      case SETUP_MAX_OBJECTS_3:
        c_archive_set_limit (ar, C_ARCHIVE_LIMIT_OBJECTS, 3);
        break;
      case SETUP_LINE_LIMIT_4:
        c_archive_set_limit (ar, C_ARCHIVE_LIMIT_STRING_LENGTH, 4);
        break;
      case SETUP_NONE:
        break;
    }
}

static void
read_string_list (CArchive *ar)
{
  guint64 count = c_archive_read_count (ar);

  /* The loop a careful reader writes: the sticky error ends it, nothing is sized by
   * the count. */
  for (guint64 i = 0; i < count && c_archive_get_error (ar) == NULL; i++)
    g_free (c_archive_read_cstring (ar));
}

static void
run_op (CArchive *ar, ReadOp op)
{
  g_autoptr (GObject) object = NULL;
  g_autoptr (GBytes) bytes = NULL;

  switch (op)
    {
      case READ_BYTE:
        c_archive_read_byte (ar);
        break;
      case READ_WORD:
        c_archive_read_word (ar);
        break;
      case READ_DWORD:
        c_archive_read_dword (ar);
        break;
      case READ_INT64:
        c_archive_read_int64 (ar);
        break;
      case READ_FLOAT:
        c_archive_read_float (ar);
        break;
      case READ_DOUBLE:
        c_archive_read_double (ar);
        break;
      case READ_BOOL:
        c_archive_read_bool (ar);
        break;
      case READ_CSTRING:
        g_free (c_archive_read_cstring (ar));
        break;
      case READ_COUNT:
        c_archive_read_count (ar);
        break;
      case READ_STRING_LIST:
        read_string_list (ar);
        break;
      case READ_BYTES:
        bytes = c_archive_read_bytes (ar);
        break;
      case READ_LINE:
        g_free (c_archive_read_string (ar));
        break;
      case READ_OBJECT_ANY:
        object = c_archive_read_object (ar, G_TYPE_INVALID);
        break;
      case READ_OBJECT_NODE:
        object = c_archive_read_object (ar, TEST_TYPE_NODE);
        break;
      case READ_CLASS:
        c_archive_read_class (ar, G_TYPE_INVALID, NULL);
        break;
    }
  /* Whatever the objects hold, cycles included, the archive lets go of it on unref. */
  if (object != NULL && TEST_IS_NODE (object))
    g_clear_object (&TEST_NODE (object)->next);
}

Test (archive_malformed, each_malformed_input_gives_its_specific_error, .timeout = 60,
      .init = test_classes_register)
{
  static const Transport transports[]
      = { TRANSPORT_MEMORY, TRANSPORT_ONE_BYTE_STREAM, TRANSPORT_SEVEN_BYTE_STREAM };

  cr_assert_geq (G_N_ELEMENTS (table), 30);
  for (gsize i = 0; i < G_N_ELEMENTS (table); i++)
    for (gsize t = 0; t < G_N_ELEMENTS (transports); t++)
      {
        const Malformed *m = &table[i];
        g_autoptr (GBytes) bytes = m->make != NULL ? m->make () : test_bytes_from_hex (m->hex);
        g_autoptr (CArchive) ar = test_load (bytes, m->format, transports[t]);

        apply_setup (ar, m->setup);
        run_op (ar, m->op);
        test_assert_malformed (ar, (int) m->code, m->fragment, m->name, transports[t]);
      }
}

/* A record with every kind of field, and where each one starts. */
typedef struct
{
  const char *field;
  guint64 start;
} FieldStart;

static void
write_record (CArchive *ar, GArray *starts)
{
  g_autoptr (TestNode) node = test_node_new (-7, NULL);
  FieldStart s;

#define FIELD(name, call)                                                                          \
  s.field = name;                                                                                  \
  s.start = c_archive_get_position (ar);                                                           \
  g_array_append_val (starts, s);                                                                  \
  call

  FIELD ("BYTE", c_archive_write_byte (ar, 1));
  FIELD ("WORD", c_archive_write_word (ar, 2));
  FIELD ("LONG", c_archive_write_long (ar, -3));
  FIELD ("DWORD", c_archive_write_dword (ar, 4));
  FIELD ("int", c_archive_write_int (ar, -5));
  FIELD ("unsigned", c_archive_write_uint (ar, 6));
  FIELD ("short", c_archive_write_short (ar, -7));
  FIELD ("char", c_archive_write_char (ar, 'x'));
  FIELD ("wchar_t", c_archive_write_wchar (ar, 0x20AC));
  FIELD ("bool", c_archive_write_bool (ar, TRUE));
  FIELD ("float", c_archive_write_float (ar, 1.5f));
  FIELD ("double", c_archive_write_double (ar, -2.5));
  FIELD ("LONGLONG", c_archive_write_int64 (ar, G_MININT64));
  FIELD ("ULONGLONG", c_archive_write_uint64 (ar, G_MAXUINT64));
  FIELD ("CString", c_archive_write_cstring (ar, "ascii"));
  FIELD ("CString", c_archive_write_cstring (ar, "\xe2\x82\xac uro"));
  FIELD ("count", c_archive_write_count (ar, 0x12345));
  FIELD ("byte block", c_archive_write_data (ar, "\x01\x02\x03", 3));
  FIELD ("object", c_archive_write_object (ar, G_OBJECT (node)));
  /* The object's own fields, at fixed distances from its tag: 11 bytes of class header,
   * then the LONG value, then the object tag of next. */
  s.field = "LONG";
  s.start = g_array_index (starts, FieldStart, starts->len - 1).start + 11;
  g_array_append_val (starts, s);
  s.field = "object";
  s.start += 4;
  g_array_append_val (starts, s);
#undef FIELD
}

static void
read_record (CArchive *ar)
{
  g_autoptr (GObject) node = NULL;
  g_autoptr (GBytes) block = NULL;

  c_archive_read_byte (ar);
  c_archive_read_word (ar);
  c_archive_read_long (ar);
  c_archive_read_dword (ar);
  c_archive_read_int (ar);
  c_archive_read_uint (ar);
  c_archive_read_short (ar);
  c_archive_read_char (ar);
  c_archive_read_wchar (ar);
  c_archive_read_bool (ar);
  c_archive_read_float (ar);
  c_archive_read_double (ar);
  c_archive_read_int64 (ar);
  c_archive_read_uint64 (ar);
  g_free (c_archive_read_cstring (ar));
  g_free (c_archive_read_cstring (ar));
  c_archive_read_count (ar);
  block = c_archive_read_bytes (ar);
  node = c_archive_read_object (ar, TEST_TYPE_NODE);
}

/* The field a truncation at offset cut falls into: the last one starting at or before. */
static const FieldStart *
field_at (GArray *starts, guint64 cut)
{
  const FieldStart *found = NULL;

  for (guint i = 0; i < starts->len; i++)
    if (g_array_index (starts, FieldStart, i).start <= cut)
      found = &g_array_index (starts, FieldStart, i);
  return found;
}

Test (archive_malformed, truncation_at_every_byte_names_the_cut_field, .timeout = 60,
      .init = test_classes_register)
{
  for (int format = 0; format < 2; format++)
    {
      g_autoptr (GArray) starts = g_array_new (FALSE, FALSE, sizeof (FieldStart));
      g_autoptr (CArchive) store = c_archive_new_store_to_memory (format);
      g_autoptr (GBytes) whole = NULL;
      gsize size;
      const guint8 *data;

      write_record (store, starts);
      test_assert_ok (store);
      whole = c_archive_steal_bytes (store);
      data = g_bytes_get_data (whole, &size);
      for (gsize cut = 0; cut < size; cut++)
        for (int t = 0; t < N_TRANSPORTS; t++)
          {
            g_autoptr (GBytes) part = g_bytes_new (data, cut);
            g_autoptr (CArchive) ar = test_load (part, format, t);
            const FieldStart *field = field_at (starts, cut);
            g_autofree char *expected
                = g_strdup_printf ("reading %s at offset %" G_GUINT64_FORMAT ": end of archive",
                                   field->field, field->start);

            read_record (ar);
            test_assert_archive_error (ar, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_END_OF_FILE, expected,
                                       NULL);
          }
    }
}

Test (archive_malformed, garbage_never_crashes_any_reader, .timeout = 60,
      .init = test_classes_register)
{
  GRand *rand = g_rand_new_with_seed (20240601);

  for (int round = 0; round < 2000; round++)
    {
      gsize size = g_rand_int_range (rand, 0, 64);
      g_autofree guint8 *data = g_malloc (size + 1);
      g_autoptr (GBytes) bytes = NULL;
      g_autoptr (CArchive) ar = NULL;

      for (gsize i = 0; i < size; i++)
        data[i] = (guint8) g_rand_int (rand);
      /* Start half of the inputs with a new-class tag to reach the object code. */
      if (size >= 2 && round % 2 == 0)
        data[0] = data[1] = 0xFF;
      bytes = g_bytes_new (data, size);
      ar = test_load (bytes, round % 3 == 0 ? C_ARCHIVE_FORMAT_MFC : C_ARCHIVE_FORMAT_NETWORK,
                      TRANSPORT_MEMORY);
      run_op (ar, (ReadOp) (round % (READ_CLASS + 1)));
    }
  g_rand_free (rand);
}
