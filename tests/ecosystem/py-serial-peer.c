/* py-serial-peer.c: the C end of the Python Serializable test (python_test.py)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   py-serial-peer PORT
 *
 * Connects a CSocket to 127.0.0.1:PORT, loads one object of the MFC class "CPoint" (LONG x,
 * LONG y, CString label: the fields a Python CSerializable writes) from an MFC-format
 * CArchive over a CSocketFile, and answers with a CPoint of x + 1, y * 2 and the label in
 * capitals, archived the same way. Exits 0 only if the object came whole.
 */
#include <afxsock.h>
#include <stdio.h>
#include <stdlib.h>

#define PEER_TYPE_POINT (peer_point_get_type ())
G_DECLARE_FINAL_TYPE (PeerPoint, peer_point, PEER, POINT, GObject)

struct _PeerPoint
{
  GObject parent_instance;
  gint32 x, y;
  char *label;
};

static void peer_point_serializable_init (CSerializableInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (PeerPoint, peer_point, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (C_TYPE_SERIALIZABLE,
                                                      peer_point_serializable_init))

static void
peer_point_serialize (CSerializable *serializable, CArchive *archive)
{
  PeerPoint *self = PEER_POINT (serializable);

  if (c_archive_is_storing (archive))
    {
      c_archive_write_long (archive, self->x);
      c_archive_write_long (archive, self->y);
      c_archive_write_cstring (archive, self->label);
      return;
    }
  self->x = c_archive_read_long (archive);
  self->y = c_archive_read_long (archive);
  g_free (self->label);
  self->label = c_archive_read_cstring (archive);
}

static void
peer_point_serializable_init (CSerializableInterface *iface)
{
  iface->serialize = peer_point_serialize;
}

static void
peer_point_finalize (GObject *object)
{
  g_free (PEER_POINT (object)->label);
  G_OBJECT_CLASS (peer_point_parent_class)->finalize (object);
}

static void
peer_point_class_init (PeerPointClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = peer_point_finalize;
}

static void
peer_point_init (PeerPoint *self)
{
  self->label = g_strdup ("");
}

int
main (int argc, char **argv)
{
  g_autoptr (CSocket) socket = c_socket_new ();
  g_autoptr (CSocketFile) file = NULL;
  g_autoptr (CArchive) in = NULL, out = NULL;
  g_autoptr (PeerPoint) point = NULL, reply = NULL;
  g_autoptr (GError) error = NULL;

  if (argc != 2)
    return 2;
  c_archive_register_class_with_name (PEER_TYPE_POINT, "CPoint", 1, C_ARCHIVE_CLASS_NONE);
  c_socket_set_timeout (socket, 10000);
  if (!c_async_socket_create (C_ASYNC_SOCKET (socket), 0, C_SOCK_STREAM, C_FD_ALL, NULL, &error)
      || !c_socket_connect (socket, "127.0.0.1", (guint) atoi (argv[1]), &error))
    {
      g_printerr ("py-serial-peer: %s\n", error->message);
      return 1;
    }
  file = c_socket_file_new (socket);
  in = c_archive_new_load_from_stream (g_io_stream_get_input_stream (G_IO_STREAM (file)),
                                       C_ARCHIVE_FORMAT_MFC, 4096);
  point = (PeerPoint *) c_archive_read_object (in, PEER_TYPE_POINT);
  if (!c_archive_check (in, &error))
    {
      g_printerr ("py-serial-peer: reading the object: %s\n", error->message);
      return 1;
    }
  /* printf, not g_print: the label goes out as UTF-8 whatever the locale */
  printf ("py-serial-peer: CPoint (%d, %d, \"%s\")\n", point->x, point->y, point->label);
  reply = g_object_new (PEER_TYPE_POINT, NULL);
  reply->x = point->x + 1;
  reply->y = point->y * 2;
  g_free (reply->label);
  reply->label = g_utf8_strup (point->label, -1);
  out = c_archive_new_store_to_stream (g_io_stream_get_output_stream (G_IO_STREAM (file)),
                                       C_ARCHIVE_FORMAT_MFC, 4096);
  c_archive_write_object (out, G_OBJECT (reply));
  if (!c_archive_close (out, &error))
    {
      g_printerr ("py-serial-peer: writing the reply: %s\n", error->message);
      return 1;
    }
  return 0;
}
