/* gi-peer.c: the C end of the introspection test
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   gi-peer PORT
 *
 * Connects to 127.0.0.1:PORT with a CSocket, sends one length-prefixed record archived with
 * CArchive (DWORD 42, CString "hello from C", double 2.5), and expects the Python peer's
 * reply: DWORD 43, CString "HELLO FROM C", double 5.0, checking the reply byte for byte.
 */
#include <afxsock.h>
#include <stdlib.h>
#include <string.h>

static gboolean
receive_exactly (CSocket *socket, guint8 *buffer, gsize size, GError **error)
{
  for (gsize done = 0; done < size;)
    {
      gssize n = c_socket_receive (socket, buffer + done, size - done, 0, error);
      if (n <= 0)
        {
          if (n == 0)
            g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "peer closed");
          return FALSE;
        }
      done += (gsize) n;
    }
  return TRUE;
}

static GBytes *
archive_record (guint32 number, const char *text, double value)
{
  g_autoptr (CArchive) archive = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_NETWORK);

  c_archive_write_dword (archive, number);
  c_archive_write_cstring (archive, text);
  c_archive_write_double (archive, value);
  return c_archive_steal_bytes (archive);
}

int
main (int argc, char **argv)
{
  g_autoptr (CSocket) socket = c_socket_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) request = archive_record (42, "hello from C", 2.5);
  g_autoptr (GBytes) expected = archive_record (43, "HELLO FROM C", 5.0);
  guint8 header[4];
  gsize size = g_bytes_get_size (request);
  g_autofree guint8 *reply = NULL;
  guint32 length;

  if (argc != 2)
    return 2;
  c_socket_set_timeout (socket, 10000);
  header[0] = (guint8) (size >> 24);
  header[1] = (guint8) (size >> 16);
  header[2] = (guint8) (size >> 8);
  header[3] = (guint8) size;
  if (!c_async_socket_create (C_ASYNC_SOCKET (socket), 0, C_SOCK_STREAM, C_FD_ALL, NULL, &error)
      || !c_socket_connect (socket, "127.0.0.1", (guint) atoi (argv[1]), &error)
      || c_socket_send (socket, header, 4, 0, &error) < 0
      || c_socket_send (socket, g_bytes_get_data (request, NULL), size, 0, &error) < 0
      || !receive_exactly (socket, header, 4, &error))
    {
      g_printerr ("gi-peer: %s\n", error->message);
      return 1;
    }
  length = ((guint32) header[0] << 24) | ((guint32) header[1] << 16) | ((guint32) header[2] << 8)
           | header[3];
  if (length != g_bytes_get_size (expected))
    {
      g_printerr ("gi-peer: reply of %u bytes, expected %zu\n", length,
                  g_bytes_get_size (expected));
      return 1;
    }
  reply = g_malloc (length);
  if (!receive_exactly (socket, reply, length, &error))
    {
      g_printerr ("gi-peer: %s\n", error->message);
      return 1;
    }
  if (memcmp (reply, g_bytes_get_data (expected, NULL), length) != 0)
    {
      g_printerr ("gi-peer: the reply's bytes differ from the expected record\n");
      return 1;
    }
  g_print ("gi-peer: reply checked, %u bytes\n", length);
  return 0;
}
