/* c-socket-file.c: CSocketFile, the byte stream over a CSocket
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A GIOStream whose input does one blocking receive per read (a short read is normal, 0 is
 * the peer's end of stream) and whose output sends everything per write, as MFC's
 * CSocketFile does. Because it is an ordinary GIO stream, CArchive reads and writes records
 * over it like over any other stream: MFC's CHATTER pattern.
 *
 * One receive per read is what keeps `do { read a record } while (!is_buffer_empty)` inside
 * on_receive from hanging: the archive asks for more bytes only while a record is still
 * incomplete, and then the peer is sending them.
 */
#include "config.h"

#include "c-async-socket-private.h"
#include <afxsock/c-socket.h>

/* The two halves. */

#define C_TYPE_SOCKET_INPUT_STREAM (c_socket_input_stream_get_type ())
G_DECLARE_FINAL_TYPE (CSocketInputStream, c_socket_input_stream, C, SOCKET_INPUT_STREAM,
                      GInputStream)

struct _CSocketInputStream
{
  GInputStream parent_instance;
  CSocket *socket;
};

G_DEFINE_FINAL_TYPE (CSocketInputStream, c_socket_input_stream, G_TYPE_INPUT_STREAM)

#define C_TYPE_SOCKET_OUTPUT_STREAM (c_socket_output_stream_get_type ())
G_DECLARE_FINAL_TYPE (CSocketOutputStream, c_socket_output_stream, C, SOCKET_OUTPUT_STREAM,
                      GOutputStream)

struct _CSocketOutputStream
{
  GOutputStream parent_instance;
  CSocket *socket;
};

G_DEFINE_FINAL_TYPE (CSocketOutputStream, c_socket_output_stream, G_TYPE_OUTPUT_STREAM)

/* A per-call cancellable (GIO's argument) takes the place of the socket's own for the call. */
typedef struct
{
  CSocket *socket;
  GCancellable *saved;
  gboolean swapped;
} CancellableSwap;

static void
swap_in (CancellableSwap *swap, CSocket *socket, GCancellable *cancellable)
{
  swap->socket = socket;
  swap->swapped = cancellable != NULL;
  if (!swap->swapped)
    return;
  swap->saved = c_socket_get_cancellable (socket);
  if (swap->saved != NULL)
    g_object_ref (swap->saved);
  c_socket_set_cancellable (socket, cancellable);
}

static void
swap_out (CancellableSwap *swap)
{
  if (!swap->swapped)
    return;
  c_socket_set_cancellable (swap->socket, swap->saved);
  g_clear_object (&swap->saved);
}

/* The streams point at the socket without owning it, so that an application's socket
 * subclass can own its CSocketFile and archives without a reference cycle. */
static void
watch_socket (CSocket **slot, CSocket *socket)
{
  *slot = socket;
  g_object_add_weak_pointer (G_OBJECT (socket), (gpointer *) slot);
}

static void
unwatch_socket (CSocket **slot)
{
  if (*slot != NULL)
    g_object_remove_weak_pointer (G_OBJECT (*slot), (gpointer *) slot);
  *slot = NULL;
}

static gboolean
socket_alive (CSocket *socket, GError **error)
{
  if (socket != NULL)
    return TRUE;
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED,
                       "socket file: the socket has been destroyed");
  return FALSE;
}

static gssize
input_read (GInputStream *stream, void *buffer, gsize count, GCancellable *cancellable,
            GError **error)
{
  CSocketInputStream *self = C_SOCKET_INPUT_STREAM (stream);
  CancellableSwap swap;
  gssize n;

  if (!socket_alive (self->socket, error))
    return -1;
  swap_in (&swap, self->socket, cancellable);
  n = c_socket_receive (self->socket, buffer, MIN (count, G_MAXSSIZE), 0, error);
  swap_out (&swap);
  return n;
}

static void
input_finalize (GObject *object)
{
  unwatch_socket (&C_SOCKET_INPUT_STREAM (object)->socket);
  G_OBJECT_CLASS (c_socket_input_stream_parent_class)->finalize (object);
}

static void
c_socket_input_stream_class_init (CSocketInputStreamClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = input_finalize;
  G_INPUT_STREAM_CLASS (klass)->read_fn = input_read;
}

static void
c_socket_input_stream_init (CSocketInputStream *self)
{
}

static gssize
output_write (GOutputStream *stream, const void *buffer, gsize count, GCancellable *cancellable,
              GError **error)
{
  CSocketOutputStream *self = C_SOCKET_OUTPUT_STREAM (stream);
  CancellableSwap swap;
  gssize n;

  if (!socket_alive (self->socket, error))
    return -1;
  swap_in (&swap, self->socket, cancellable);
  n = c_socket_send (self->socket, buffer, MIN (count, G_MAXSSIZE), 0, error);
  swap_out (&swap);
  return n;
}

static void
output_finalize (GObject *object)
{
  unwatch_socket (&C_SOCKET_OUTPUT_STREAM (object)->socket);
  G_OBJECT_CLASS (c_socket_output_stream_parent_class)->finalize (object);
}

static void
c_socket_output_stream_class_init (CSocketOutputStreamClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = output_finalize;
  G_OUTPUT_STREAM_CLASS (klass)->write_fn = output_write;
}

static void
c_socket_output_stream_init (CSocketOutputStream *self)
{
}

/* The stream pair. */

/**
 * CSocketFile:
 *
 * The byte stream of a connected #CSocket, as a #GIOStream (MFC's `CSocketFile`): reading
 * does one blocking receive (a short read is normal; 0 means the peer closed), writing
 * sends everything. Use its input and output streams with #CArchive, one archive for
 * loading and one for storing, as MFC does.
 *
 * ```c
 * static gboolean
 * ask (CSocket *socket, const char *question, char **answer, GError **error)
 * {
 *   g_autoptr (CSocketFile) file = c_socket_file_new (socket);
 *   g_autoptr (CArchive) out = c_archive_new_store_to_stream (
 *       g_io_stream_get_output_stream (G_IO_STREAM (file)), C_ARCHIVE_FORMAT_MFC, 4096);
 *   g_autoptr (CArchive) in = c_archive_new_load_from_stream (
 *       g_io_stream_get_input_stream (G_IO_STREAM (file)), C_ARCHIVE_FORMAT_MFC, 4096);
 *
 *   c_archive_write_cstring (out, question);
 *   if (!c_archive_flush (out, error))
 *     return FALSE;
 *   *answer = c_archive_read_cstring (in); // waits, the main loop running
 *   return c_archive_check (in, error);
 * }
 * ```
 *
 * Seeking is not supported. Closing the stream
 * leaves the socket open; close the socket itself when done. The file does not keep the
 * socket alive (a socket subclass may own its file without a reference cycle); once the
 * socket is destroyed, reads and writes fail with %G_IO_ERROR_CLOSED.
 */
struct _CSocketFile
{
  GIOStream parent_instance;
  CSocket *socket;
  GInputStream *input;
  GOutputStream *output;
};

G_DEFINE_FINAL_TYPE (CSocketFile, c_socket_file, G_TYPE_IO_STREAM)

static GInputStream *
file_get_input_stream (GIOStream *stream)
{
  return C_SOCKET_FILE (stream)->input;
}

static GOutputStream *
file_get_output_stream (GIOStream *stream)
{
  return C_SOCKET_FILE (stream)->output;
}

static gboolean
file_close (GIOStream *stream, GCancellable *cancellable, GError **error)
{
  /* MFC's CSocketFile leaves the socket to its owner; so does this one. */
  return TRUE;
}

static void
file_finalize (GObject *object)
{
  CSocketFile *self = C_SOCKET_FILE (object);

  g_clear_object (&self->input);
  g_clear_object (&self->output);
  unwatch_socket (&self->socket);
  G_OBJECT_CLASS (c_socket_file_parent_class)->finalize (object);
}

static void
c_socket_file_class_init (CSocketFileClass *klass)
{
  GIOStreamClass *stream_class = G_IO_STREAM_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = file_finalize;
  stream_class->get_input_stream = file_get_input_stream;
  stream_class->get_output_stream = file_get_output_stream;
  stream_class->close_fn = file_close;
}

static void
c_socket_file_init (CSocketFile *self)
{
}

/**
 * c_socket_file_new:
 * @socket: a connected stream socket
 *
 * Makes the byte stream over @socket (MFC's `CSocketFile (pSocket)`).
 *
 * Returns: (transfer full): a new #CSocketFile
 */
CSocketFile *
c_socket_file_new (CSocket *socket)
{
  CSocketFile *self;
  CSocketInputStream *input;
  CSocketOutputStream *output;

  g_return_val_if_fail (C_IS_SOCKET (socket), NULL);
  self = g_object_new (C_TYPE_SOCKET_FILE, NULL);
  watch_socket (&self->socket, socket);
  input = g_object_new (C_TYPE_SOCKET_INPUT_STREAM, NULL);
  watch_socket (&input->socket, socket);
  output = g_object_new (C_TYPE_SOCKET_OUTPUT_STREAM, NULL);
  watch_socket (&output->socket, socket);
  self->input = G_INPUT_STREAM (input);
  self->output = G_OUTPUT_STREAM (output);
  return self;
}

/**
 * c_socket_file_get_socket:
 * @self: a socket file
 *
 * The socket under the stream.
 *
 * Returns: (transfer none) (nullable): the socket under the stream, %NULL once destroyed
 */
CSocket *
c_socket_file_get_socket (CSocketFile *self)
{
  g_return_val_if_fail (C_IS_SOCKET_FILE (self), NULL);
  return self->socket;
}
