/* archive-bench.c: CArchive against msgpack-c, XDR and memcpy
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   archive-bench [--seconds S]
 *
 * Two workloads, each an encode followed by a decode into the caller's own memory:
 *
 * - a record of ten mixed fields (integers of 8 to 64 bits, a bool, a float, a double and
 *   a short string), as an application sends them one per message. CArchive runs twice:
 *   - "afxsock": the way the other codecs run, encoding into a reused buffer and decoding
 *     from it: one storing archive whose bytes are read in place (c_archive_get_data())
 *     and then cleared (c_archive_clear_bytes()), one loading archive pointed at them with
 *     c_archive_reload_data(). Nothing is allocated per record, as with XDR's xdrmem and
 *     msgpack-c's reused sbuffer.
 *   - "afxsock-bytes": the record path's shape: the bytes are taken as a GBytes per record
 *     (c_archive_steal_bytes(), what c_async_socket_send_archive() does) and the loading
 *     archive is reloaded with that GBytes (c_archive_reload(), what an on_record handler
 *     that keeps its archive does): one GBytes and one buffer made and freed per record.
 *   Both decode the string into the record's own char array with
 *   c_archive_read_cstring_into(), as XDR's xdr_string() fills it (msgpack-c points into
 *   its buffer and the name is copied from there).
 * - a 1 MiB byte block with its length.
 *
 * msgpack-c packs into a reused sbuffer and unpacks with msgpack_unpack_next(); XDR
 * (libtirpc's xdrmem) encodes into and decodes from a fixed buffer; memcpy copies the
 * struct (or the block) out and back, which is the limit. Each codec runs for --seconds
 * of this process's CPU time per workload, and rates are per CPU second, so that other
 * work on a shared machine does not show in the figures. Results go to standard output as
 * one JSON object per line.
 */
#include <afxsock.h>
#include <msgpack.h>
#include <rpc/rpc.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define NAME_CAPACITY 32
#define BLOB_SIZE (1024 * 1024)
#define XDR_RECORD_CAPACITY 256

typedef struct
{
  guint32 id;
  gint32 balance;
  guint16 flags;
  gint16 delta;
  guint8 kind;
  gboolean active;
  gint64 timestamp;
  gdouble price;
  gfloat ratio;
  char name[NAME_CAPACITY];
} Record;

typedef struct
{
  const char *name;
  /* One encode + decode; returns the encoded size, 0 on failure. */
  gsize (*record) (const Record *in, Record *out);
  gsize (*blob) (const guint8 *in, guint8 *out); /* NULL: no blob workload */
} Codec;

static const Record sample = {
  .id = 4000000007u,
  .balance = -123456,
  .flags = 0xBEEF,
  .delta = -42,
  .kind = 7,
  .active = TRUE,
  .timestamp = G_GINT64_CONSTANT (1767225600000000),
  .price = 1234.5678,
  .ratio = 0.75f,
  .name = "afxsock-benchmark",
};

static gboolean
records_equal (const Record *a, const Record *b)
{
  return a->id == b->id && a->balance == b->balance && a->flags == b->flags && a->delta == b->delta
         && a->kind == b->kind && a->active == b->active && a->timestamp == b->timestamp
         && a->price == b->price && a->ratio == b->ratio && strcmp (a->name, b->name) == 0;
}

static void
copy_name (Record *out, const char *text, gsize length)
{
  length = MIN (length, NAME_CAPACITY - 1);
  memcpy (out->name, text, length);
  out->name[length] = '\0';
}

/* CArchive */

static CArchive *store_archive;
static CArchive *load_archive;
static gboolean verifying; /* the first round trip compares the decoded block */

static void
afxsock_encode (const Record *in)
{
  c_archive_write_dword (store_archive, in->id);
  c_archive_write_long (store_archive, in->balance);
  c_archive_write_word (store_archive, in->flags);
  c_archive_write_short (store_archive, in->delta);
  c_archive_write_byte (store_archive, in->kind);
  c_archive_write_bool (store_archive, in->active);
  c_archive_write_int64 (store_archive, in->timestamp);
  c_archive_write_double (store_archive, in->price);
  c_archive_write_float (store_archive, in->ratio);
  c_archive_write_cstring (store_archive, in->name);
}

static gboolean
afxsock_decode (CArchive *load, Record *out)
{
  out->id = c_archive_read_dword (load);
  out->balance = c_archive_read_long (load);
  out->flags = c_archive_read_word (load);
  out->delta = c_archive_read_short (load);
  out->kind = c_archive_read_byte (load);
  out->active = c_archive_read_bool (load);
  out->timestamp = c_archive_read_int64 (load);
  out->price = c_archive_read_double (load);
  out->ratio = c_archive_read_float (load);
  c_archive_read_cstring_into (load, out->name, sizeof out->name);
  return c_archive_check (load, NULL);
}

static gsize
afxsock_record (const Record *in, Record *out)
{
  const guint8 *data;
  gsize size;

  afxsock_encode (in);
  if (!c_archive_check (store_archive, NULL))
    return 0;
  data = c_archive_get_data (store_archive, &size);
  c_archive_reload_data (load_archive, data, size);
  if (!afxsock_decode (load_archive, out))
    return 0;
  c_archive_clear_bytes (store_archive);
  return size;
}

static gsize
afxsock_bytes_record (const Record *in, Record *out)
{
  g_autoptr (GBytes) bytes = NULL;

  afxsock_encode (in);
  if (!c_archive_check (store_archive, NULL))
    return 0;
  bytes = c_archive_steal_bytes (store_archive);
  c_archive_reload (load_archive, bytes);
  return afxsock_decode (load_archive, out) ? g_bytes_get_size (bytes) : 0;
}

static gsize
afxsock_blob (const guint8 *in, guint8 *out)
{
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GBytes) block = NULL;
  g_autoptr (CArchive) load = NULL;
  gsize size;

  c_archive_write_data (store_archive, in, BLOB_SIZE);
  bytes = c_archive_steal_bytes (store_archive);
  size = g_bytes_get_size (bytes);
  load = c_archive_new_load_from_bytes (bytes, C_ARCHIVE_FORMAT_NETWORK);
  /* The decoded block is a GBytes the caller owns: no further copy. */
  block = c_archive_read_bytes (load);
  if (!c_archive_check (load, NULL) || g_bytes_get_size (block) != BLOB_SIZE)
    return 0;
  if (verifying && memcmp (g_bytes_get_data (block, NULL), in, BLOB_SIZE) != 0)
    return 0;
  return size;
}

/* msgpack-c */

static msgpack_sbuffer pack_buffer;
static msgpack_packer packer;
static msgpack_unpacked unpacked;

static gsize
msgpack_record (const Record *in, Record *out)
{
  size_t offset = 0;
  msgpack_object *fields;

  msgpack_sbuffer_clear (&pack_buffer);
  msgpack_pack_array (&packer, 10);
  msgpack_pack_uint32 (&packer, in->id);
  msgpack_pack_int32 (&packer, in->balance);
  msgpack_pack_uint16 (&packer, in->flags);
  msgpack_pack_int16 (&packer, in->delta);
  msgpack_pack_uint8 (&packer, in->kind);
  if (in->active)
    msgpack_pack_true (&packer);
  else
    msgpack_pack_false (&packer);
  msgpack_pack_int64 (&packer, in->timestamp);
  msgpack_pack_double (&packer, in->price);
  msgpack_pack_float (&packer, in->ratio);
  msgpack_pack_str (&packer, strlen (in->name));
  msgpack_pack_str_body (&packer, in->name, strlen (in->name));

  if (msgpack_unpack_next (&unpacked, pack_buffer.data, pack_buffer.size, &offset)
          != MSGPACK_UNPACK_SUCCESS
      || unpacked.data.type != MSGPACK_OBJECT_ARRAY || unpacked.data.via.array.size != 10)
    return 0;
  fields = unpacked.data.via.array.ptr;
  out->id = (guint32) fields[0].via.u64;
  out->balance = (gint32) fields[1].via.i64;
  out->flags = (guint16) fields[2].via.u64;
  out->delta = (gint16) fields[3].via.i64;
  out->kind = (guint8) fields[4].via.u64;
  out->active = fields[5].via.boolean;
  out->timestamp = fields[6].via.i64;
  out->price = fields[7].via.f64;
  out->ratio = (gfloat) fields[8].via.f64;
  if (fields[9].type != MSGPACK_OBJECT_STR)
    return 0;
  copy_name (out, fields[9].via.str.ptr, fields[9].via.str.size);
  return pack_buffer.size;
}

static gsize
msgpack_blob (const guint8 *in, guint8 *out)
{
  size_t offset = 0;

  msgpack_sbuffer_clear (&pack_buffer);
  msgpack_pack_bin (&packer, BLOB_SIZE);
  msgpack_pack_bin_body (&packer, in, BLOB_SIZE);
  if (msgpack_unpack_next (&unpacked, pack_buffer.data, pack_buffer.size, &offset)
          != MSGPACK_UNPACK_SUCCESS
      || unpacked.data.type != MSGPACK_OBJECT_BIN || unpacked.data.via.bin.size != BLOB_SIZE)
    return 0;
  /* msgpack points into its input; the decoded block is copied out to be the caller's. */
  memcpy (out, unpacked.data.via.bin.ptr, BLOB_SIZE);
  return pack_buffer.size;
}

/* XDR (libtirpc) */

static char xdr_buffer[XDR_RECORD_CAPACITY];
static char *xdr_blob_buffer;

static bool_t
xdr_record (XDR *xdr, Record *record)
{
  char *name = record->name;
  bool_t active = record->active;

  if (!(xdr_u_int (xdr, &record->id) && xdr_int (xdr, &record->balance)
        && xdr_u_short (xdr, &record->flags) && xdr_short (xdr, &record->delta)
        && xdr_u_char (xdr, &record->kind) && xdr_bool (xdr, &active)
        && xdr_int64_t (xdr, &record->timestamp) && xdr_double (xdr, &record->price)
        && xdr_float (xdr, &record->ratio) && xdr_string (xdr, &name, NAME_CAPACITY - 1)))
    return FALSE;
  record->active = active;
  return TRUE;
}

static gsize
xdr_codec_record (const Record *in, Record *out)
{
  XDR xdr;
  Record copy = *in;
  gsize size;

  xdrmem_create (&xdr, xdr_buffer, sizeof xdr_buffer, XDR_ENCODE);
  if (!xdr_record (&xdr, &copy))
    return 0;
  size = xdr_getpos (&xdr);
  xdr_destroy (&xdr);
  xdrmem_create (&xdr, xdr_buffer, (u_int) size, XDR_DECODE);
  if (!xdr_record (&xdr, out))
    return 0;
  xdr_destroy (&xdr);
  return size;
}

static gsize
xdr_codec_blob (const guint8 *in, guint8 *out)
{
  XDR xdr;
  char *data = (char *) in;
  char *into = (char *) out;
  u_int length = BLOB_SIZE;
  gsize size;

  xdrmem_create (&xdr, xdr_blob_buffer, BLOB_SIZE + 8, XDR_ENCODE);
  if (!xdr_bytes (&xdr, &data, &length, BLOB_SIZE))
    return 0;
  size = xdr_getpos (&xdr);
  xdr_destroy (&xdr);
  xdrmem_create (&xdr, xdr_blob_buffer, (u_int) size, XDR_DECODE);
  if (!xdr_bytes (&xdr, &into, &length, BLOB_SIZE) || length != BLOB_SIZE)
    return 0;
  xdr_destroy (&xdr);
  return size;
}

/* memcpy: the limit */

static guint8 copy_buffer[sizeof (Record)];
static guint8 *copy_blob_buffer;

static gsize
memcpy_record (const Record *in, Record *out)
{
  memcpy (copy_buffer, in, sizeof *in);
  /* Keep the compiler from seeing through the round trip. */
  __asm__ volatile("" : : "r"(copy_buffer) : "memory");
  memcpy (out, copy_buffer, sizeof *out);
  return sizeof *in;
}

static gsize
memcpy_blob (const guint8 *in, guint8 *out)
{
  memcpy (copy_blob_buffer, in, BLOB_SIZE);
  __asm__ volatile("" : : "r"(copy_blob_buffer) : "memory");
  memcpy (out, copy_blob_buffer, BLOB_SIZE);
  return BLOB_SIZE;
}

static const Codec codecs[] = {
  { "memcpy", memcpy_record, memcpy_blob },        { "afxsock", afxsock_record, afxsock_blob },
  { "afxsock-bytes", afxsock_bytes_record, NULL }, { "msgpack-c", msgpack_record, msgpack_blob },
  { "xdr", xdr_codec_record, xdr_codec_blob },
};

static double
cpu_seconds (void)
{
  struct timespec now;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &now);
  return (double) now.tv_sec + now.tv_nsec / 1e9;
}

/* Runs one workload for about @seconds of CPU time; returns operations per CPU second. */
static double
measure_records (const Codec *codec, double seconds, gsize *size)
{
  Record out = { 0 };
  double start, now;
  guint64 count = 0;

  *size = codec->record (&sample, &out);
  if (*size == 0 || !records_equal (&sample, &out))
    {
      g_printerr ("archive-bench: %s: the record did not survive the round trip\n", codec->name);
      return 0;
    }
  start = cpu_seconds ();
  do
    {
      for (int i = 0; i < 1024; i++)
        codec->record (&sample, &out);
      count += 1024;
      now = cpu_seconds ();
    }
  while (now - start < seconds);
  return count / (now - start);
}

static double
measure_blobs (const Codec *codec, double seconds, gsize *size, const guint8 *in, guint8 *out)
{
  double start, now;
  guint64 count = 0;

  memset (out, 0, BLOB_SIZE);
  verifying = TRUE;
  *size = codec->blob (in, out);
  verifying = FALSE;
  if (*size == 0 || (codec->blob != afxsock_blob && memcmp (in, out, BLOB_SIZE) != 0))
    {
      g_printerr ("archive-bench: %s: the block did not survive the round trip\n", codec->name);
      return 0;
    }
  start = cpu_seconds ();
  do
    {
      codec->blob (in, out);
      count++;
      now = cpu_seconds ();
    }
  while (now - start < seconds);
  return count / (now - start);
}

int
main (int argc, char **argv)
{
  double seconds = 1.0;
  GOptionEntry entries[] = {
    { "seconds", 's', 0, G_OPTION_ARG_DOUBLE, &seconds, "Seconds per codec and workload (1)", "S" },
    { NULL },
  };
  g_autoptr (GOptionContext) options = g_option_context_new ("- archive codecs side by side");
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *blob_in = g_malloc (BLOB_SIZE);
  g_autofree guint8 *blob_out = g_malloc (BLOB_SIZE);

  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error) || seconds <= 0 || seconds > 60)
    {
      g_printerr ("archive-bench: %s\n", error != NULL ? error->message : "--seconds: 0 to 60");
      return 2;
    }

  store_archive = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_NETWORK);
  load_archive = c_archive_new_load_from_data (NULL, 0, C_ARCHIVE_FORMAT_NETWORK);
  msgpack_sbuffer_init (&pack_buffer);
  msgpack_packer_init (&packer, &pack_buffer, msgpack_sbuffer_write);
  msgpack_unpacked_init (&unpacked);
  xdr_blob_buffer = g_malloc (BLOB_SIZE + 8);
  /* Page-aligned, so that the limit is the fastest copy this machine makes. */
  copy_blob_buffer = g_aligned_alloc (1, BLOB_SIZE, 4096);
  for (gsize i = 0; i < BLOB_SIZE; i++)
    blob_in[i] = (guint8) (i * 131 + 7);

  for (gsize c = 0; c < G_N_ELEMENTS (codecs); c++)
    {
      gsize size;
      double rate = measure_records (&codecs[c], seconds, &size);
      printf ("{\"codec\": \"%s\", \"workload\": \"record\", \"ops_per_s\": %.1f, "
              "\"encoded_bytes\": %zu}\n",
              codecs[c].name, rate, size);
      if (codecs[c].blob == NULL)
        continue; /* a variant of the record workload only */
      rate = measure_blobs (&codecs[c], seconds, &size, blob_in, blob_out);
      printf ("{\"codec\": \"%s\", \"workload\": \"blob\", \"ops_per_s\": %.1f, "
              "\"encoded_bytes\": %zu, \"gb_per_s\": %.3f}\n",
              codecs[c].name, rate, size, rate * BLOB_SIZE / 1e9);
      fflush (stdout);
    }

  g_object_unref (store_archive);
  g_object_unref (load_archive);
  msgpack_unpacked_destroy (&unpacked);
  msgpack_sbuffer_destroy (&pack_buffer);
  g_free (xdr_blob_buffer);
  g_aligned_free (copy_blob_buffer);
  return 0;
}
