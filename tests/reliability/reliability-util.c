/* reliability-util.c: helpers shared by the reliability tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "reliability-util.h"

#include <criterion/criterion.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#define DIGEST_SIZE 32
#define ID_OFFSET 1
#define PAYLOAD_OFFSET 5

static gboolean
never (gpointer data)
{
  return FALSE;
}

void
run_for_ms (guint ms)
{
  run_until_within (never, NULL, ms);
}

int
count_open_descriptors (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  int count = 0;

  cr_assert_not_null (dir, "cannot list /proc/self/fd");
  while (g_dir_read_name (dir) != NULL)
    count++;
  return count - 1; /* the directory's own descriptor */
}

char *
describe_open_descriptors (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  GString *text = g_string_new (NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc/self/fd", name, NULL);
      g_autofree char *target = g_file_read_link (path, NULL);
      g_string_append_printf (text, "%s%s -> %s", text->len ? ", " : "", name,
                              target ? target : "?");
    }
  return g_string_free (text, FALSE);
}

gint64
process_cpu_time_us (void)
{
  struct rusage usage;

  cr_assert_eq (getrusage (RUSAGE_SELF, &usage), 0);
  return (gint64) usage.ru_utime.tv_sec * G_USEC_PER_SEC + usage.ru_utime.tv_usec
         + (gint64) usage.ru_stime.tv_sec * G_USEC_PER_SEC + usage.ru_stime.tv_usec;
}

/* A small, fast generator (splitmix64) so that sender and receiver derive the same bytes. */
static guint64
mix (guint64 *state)
{
  guint64 z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void
fill_payload (guint8 *buffer, gsize size, guint32 id, guint32 seed)
{
  guint64 state = ((guint64) seed << 32) | id;
  gsize i = 0;

  for (; i + 8 <= size; i += 8)
    {
      guint64 word = mix (&state);
      memcpy (buffer + i, &word, 8);
    }
  if (i < size)
    {
      guint64 word = mix (&state);
      memcpy (buffer + i, &word, size - i);
    }
}

gsize
payload_size_for (guint32 id, guint32 seed)
{
  guint64 state = ((guint64) (seed ^ 0x5a5a5a5au) << 32) | id;
  guint64 r = mix (&state);
  guint kind = (guint) (r % 100);

  r >>= 8;
  if (kind < 70)
    return r % 512;
  if (kind < 97)
    return 512 + r % (16 * 1024);
  return 16 * 1024 + r % (200 * 1024);
}

static void
digest_of (const guint8 *data, gsize size, guint8 digest[DIGEST_SIZE])
{
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  gsize length = DIGEST_SIZE;

  g_checksum_update (checksum, data, (gssize) size);
  g_checksum_get_digest (checksum, digest, &length);
}

GBytes *
make_checked_record (guint32 id, guint32 seed)
{
  return make_checked_record_sized (id, seed, payload_size_for);
}

GBytes *
make_checked_record_sized (guint32 id, guint32 seed, PayloadSizeFunc size_for)
{
  gsize payload = size_for (id, seed);
  gsize size = PAYLOAD_OFFSET + payload + DIGEST_SIZE;
  guint8 *data = g_malloc (size);

  data[0] = 'D';
  data[1] = (guint8) (id >> 24);
  data[2] = (guint8) (id >> 16);
  data[3] = (guint8) (id >> 8);
  data[4] = (guint8) id;
  fill_payload (data + PAYLOAD_OFFSET, payload, id, seed);
  digest_of (data + ID_OFFSET, 4 + payload, data + PAYLOAD_OFFSET + payload);
  return g_bytes_new_take (data, size);
}

gint64
verify_checked_record (GBytes *record, guint32 seed, char **why)
{
  return verify_checked_record_sized (record, seed, payload_size_for, why);
}

gint64
verify_checked_record_sized (GBytes *record, guint32 seed, PayloadSizeFunc size_for, char **why)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (record, &size);
  guint8 digest[DIGEST_SIZE];
  g_autofree guint8 *expected = NULL;
  guint32 id;
  gsize payload;

  if (size < PAYLOAD_OFFSET + DIGEST_SIZE || data[0] != 'D')
    {
      *why = g_strdup_printf ("malformed record of %zu bytes", size);
      return -1;
    }
  id = ((guint32) data[1] << 24) | ((guint32) data[2] << 16) | ((guint32) data[3] << 8) | data[4];
  payload = size - PAYLOAD_OFFSET - DIGEST_SIZE;
  digest_of (data + ID_OFFSET, 4 + payload, digest);
  if (memcmp (digest, data + PAYLOAD_OFFSET + payload, DIGEST_SIZE) != 0)
    {
      *why = g_strdup_printf ("record %u: digest mismatch", id);
      return -1;
    }
  if (payload != size_for (id, seed))
    {
      *why = g_strdup_printf ("record %u: %zu payload bytes, %zu expected", id, payload,
                              size_for (id, seed));
      return -1;
    }
  expected = g_malloc (payload + 1);
  fill_payload (expected, payload, id, seed);
  if (memcmp (expected, data + PAYLOAD_OFFSET, payload) != 0)
    {
      *why = g_strdup_printf ("record %u: payload differs from what was sent", id);
      return -1;
    }
  return id;
}

void
set_linger_zero (CAsyncSocket *socket)
{
  struct linger linger = { 1, 0 };
  g_autoptr (GError) error = NULL;

  cr_assert (
      c_async_socket_set_sock_opt (socket, SO_LINGER, &linger, sizeof linger, SOL_SOCKET, &error),
      "SO_LINGER: %s", error ? error->message : "");
}
