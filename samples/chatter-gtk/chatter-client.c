/* chatter-client.c: CHATTER's socket, a CSocket with a CSocketFile and two CArchives
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * As in MFC's CHATTER: the socket is a CSocket; once connected, a CSocketFile over it and a
 * loading and a storing CArchive over the file (ConnectSocket); on_receive reads messages
 * while the archive's buffer holds more (ProcessPendingRead); a message is stored into the
 * archive and flushed (SendMsg).
 *
 * Three calls block: the connect (and its TLS handshake), a flush whose bytes the server is
 * not taking, and a read of a message that has only partly arrived. While one waits, the
 * main loop runs, so the window keeps drawing and answering. The window learns of a wait
 * from on_message_pending (MFC's OnMessagePending), which CSocket calls on every turn of
 * the wait: the client emits "waiting" with the call's name on the first turn, and "waiting"
 * with NULL once the call has returned. c_socket_cancel_blocking_call() ends a wait.
 *
 * Signals:
 *   line (const char *line)                  a line of the conversation, from the server
 *   ended (const char *why, gboolean server) the conversation is over, other than by leave:
 *                                            the server closed it (server = TRUE), or the
 *                                            connection failed or was lost
 *   waiting (const char *call)               a blocking call waits (CHATTER_CALL_*); NULL
 *                                            when it has returned
 */
#include "chatter-client.h"

#include <string.h>

/* How long the client waits, after saying goodbye, for the server to hang up. */
#define GOODBYE_GRACE_MS 2000

typedef enum
{
  STATE_NEW,
  STATE_TALKING,
  STATE_LEAVING, /* goodbye said (or the server's heard): waiting for the hang-up */
  STATE_OVER,
} State;

struct _ChatterClient
{
  CSocket parent_instance;
  char *name;
  CArchiveFormat format;
  CSocketFile *file;
  CArchive *in;
  CArchive *out;
  State state;
  const char *call;    /* the blocking call under way, CHATTER_CALL_* */
  gboolean announced;  /* "waiting" was emitted for it */
  GQueue pending;      /* lines said during a blocking call */
  guint goodbye_timer; /* holds a reference on the client */
};

G_DEFINE_FINAL_TYPE (ChatterClient, chatter_client, C_TYPE_SOCKET)

enum
{
  SIGNAL_LINE,
  SIGNAL_ENDED,
  SIGNAL_WAITING,
  N_SIGNALS
};

static guint signals[N_SIGNALS];
static guint alive; /* clients not finalized yet, on the main thread */

static void
call_started (ChatterClient *self, const char *call)
{
  self->call = call;
  self->announced = FALSE;
}

static void
call_returned (ChatterClient *self)
{
  gboolean announced = self->announced;

  self->call = NULL;
  self->announced = FALSE;
  if (announced)
    g_signal_emit (self, signals[SIGNAL_WAITING], 0, NULL);
}

/* MFC's OnMessagePending: CSocket calls it on every turn of a wait, before the main loop
 * runs once. The first turn tells the window that a call waits. */
static gboolean
chatter_client_on_message_pending (CSocket *socket)
{
  ChatterClient *self = CHATTER_CLIENT (socket);

  if (self->call != NULL && !self->announced)
    {
      self->announced = TRUE;
      g_signal_emit (self, signals[SIGNAL_WAITING], 0, self->call);
    }
  return FALSE; /* nothing of our own handled: the loop may sleep until something happens */
}

static void
finish (ChatterClient *self)
{
  if (self->state == STATE_OVER)
    return;
  self->state = STATE_OVER;
  g_queue_clear_full (&self->pending, g_free);
  c_async_socket_close (C_ASYNC_SOCKET (self));
  if (self->goodbye_timer != 0)
    {
      g_source_remove (self->goodbye_timer);
      self->goodbye_timer = 0;
      g_object_unref (self); /* the timer's reference: the last one, once the caller let go */
    }
}

/* The conversation is over, for a reason the window shows. */
static void
end (ChatterClient *self, const char *why, gboolean by_server)
{
  if (self->state == STATE_OVER || self->state == STATE_LEAVING)
    return;
  g_object_ref (self); /* the window may let go of the client in its handler */
  finish (self);
  g_signal_emit (self, signals[SIGNAL_ENDED], 0, why, by_server);
  g_object_unref (self);
}

static gboolean
goodbye_over (gpointer data)
{
  ChatterClient *self = data;

  self->goodbye_timer = 0;
  finish (self);
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

/* Half-closes and waits for the server to hang up (on_close) or for GOODBYE_GRACE_MS:
 * closing while the server's last bytes are still on their way would reset the connection. */
static void
wait_for_hang_up (ChatterClient *self)
{
  self->state = STATE_LEAVING;
  c_async_socket_shut_down (C_ASYNC_SOCKET (self), C_SHUTDOWN_SENDS, NULL);
  self->goodbye_timer = g_timeout_add (GOODBYE_GRACE_MS, goodbye_over, g_object_ref (self));
}

/* CHATTER's SendMsg: the message into the storing archive, then a flush, which blocks while
 * the server does not take the bytes. */
static gboolean
send_message (ChatterClient *self, ChatMessage *message)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *why = NULL;
  gboolean sent;

  chat_message_serialize (message, self->out);
  call_started (self, CHATTER_CALL_SEND);
  sent = c_archive_flush (self->out, &error);
  call_returned (self);
  if (sent)
    return TRUE;
  why = g_strdup_printf ("sending: %s", error->message);
  end (self, why, FALSE);
  return FALSE;
}

static void
send_line (ChatterClient *self, const char *line)
{
  g_autofree char *text = g_strdup_printf ("%s: %s", self->name, line);
  g_autoptr (ChatMessage) message = chat_message_new (FALSE, text);

  send_message (self, message);
}

/* The lines said meanwhile, once no call blocks. A line said during one of these sends
 * joins the queue and goes in its turn. */
static void
send_pending (ChatterClient *self)
{
  char *line;

  g_object_ref (self);
  while (self->state == STATE_TALKING && !c_socket_is_blocking (C_SOCKET (self))
         && (line = g_queue_pop_head (&self->pending)) != NULL)
    {
      send_line (self, line);
      g_free (line);
    }
  g_object_unref (self);
}

void
chatter_client_say (ChatterClient *self, const char *text)
{
  g_return_if_fail (CHATTER_IS_CLIENT (self));
  g_return_if_fail (text != NULL);

  if (self->state != STATE_TALKING)
    return;
  g_queue_push_tail (&self->pending, g_strdup (text));
  send_pending (self);
}

void
chatter_client_leave (ChatterClient *self)
{
  g_autofree char *text = NULL;
  g_autoptr (ChatMessage) message = NULL;

  g_return_if_fail (CHATTER_IS_CLIENT (self));
  g_return_if_fail (!c_socket_is_blocking (C_SOCKET (self)));

  if (self->state != STATE_TALKING)
    return;
  send_pending (self);
  if (self->state != STATE_TALKING)
    return;
  text = g_strdup_printf ("%s has left", self->name);
  message = chat_message_new (TRUE, text);
  if (send_message (self, message))
    wait_for_hang_up (self);
}

/* CHATTER's ProcessPendingRead: read messages while the archive holds more. A message that
 * has only partly arrived makes the archive read again, which blocks until the rest comes
 * (or the call times out, or is cancelled). */
static void
chatter_client_on_receive (CAsyncSocket *socket, int error_code)
{
  ChatterClient *self = CHATTER_CLIENT (socket);

  if (self->state != STATE_TALKING)
    {
      /* Left: what the server still sends is no longer ours to show. */
      char buffer[4096];
      c_async_socket_receive (socket, buffer, sizeof buffer, 0, NULL);
      return;
    }
  call_started (self, CHATTER_CALL_RECEIVE);
  do
    {
      g_autoptr (ChatMessage) message = chat_message_new (FALSE, NULL);
      g_autoptr (GError) error = NULL;

      chat_message_serialize (message, self->in);
      if (!c_archive_check (self->in, &error))
        {
          g_autofree char *why = g_strdup_printf ("receiving: %s", error->message);
          call_returned (self);
          end (self, why, FALSE);
          return;
        }
      for (guint i = 0; i < message->lines->len && self->state == STATE_TALKING; i++)
        g_signal_emit (self, signals[SIGNAL_LINE], 0, g_ptr_array_index (message->lines, i));
      if (message->close && self->state == STATE_TALKING)
        {
          g_autofree char *why
              = g_strdup_printf ("the server closed the conversation: %s", message->text);
          call_returned (self);
          g_object_ref (self);
          g_signal_emit (self, signals[SIGNAL_ENDED], 0, why, TRUE);
          wait_for_hang_up (self);
          g_object_unref (self);
          return;
        }
    }
  while (self->state == STATE_TALKING && !c_archive_is_buffer_empty (self->in));
  call_returned (self);
  send_pending (self);
}

static void
chatter_client_on_close (CAsyncSocket *socket, int error_code)
{
  ChatterClient *self = CHATTER_CLIENT (socket);
  g_autofree char *why = NULL;

  if (self->state == STATE_LEAVING)
    {
      finish (self); /* the server hung up, as asked */
      return;
    }
  if (error_code != 0)
    why = g_strdup_printf ("the connection was lost: %s",
                           sample_failure_message (socket, error_code));
  end (self, why ? why : "the server hung up without closing the conversation", FALSE);
}

/* After connecting, as CHATTER's ConnectSocket: the file and its two archives. */
static void
open_archives (ChatterClient *self)
{
  self->file = c_socket_file_new (C_SOCKET (self));
  self->in = c_archive_new_load_from_stream (
      g_io_stream_get_input_stream (G_IO_STREAM (self->file)), self->format, 0);
  self->out = c_archive_new_store_to_stream (
      g_io_stream_get_output_stream (G_IO_STREAM (self->file)), self->format, 0);
  chat_message_set_limits (self->in);
}

gboolean
chatter_client_connect (ChatterClient *self, const char *host, guint port, const SampleTls *tls,
                        GError **error)
{
  SampleTls settings = { 0 };
  gboolean connected;

  g_return_val_if_fail (CHATTER_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (self->state == STATE_NEW, FALSE);

  if (!c_async_socket_create (C_ASYNC_SOCKET (self), 0, C_SOCK_STREAM, C_FD_ALL, NULL, error))
    return FALSE;
  if (tls != NULL)
    {
      settings = *tls;
      settings.enabled = TRUE;
      if (!sample_tls_set_up_client (&settings, C_ASYNC_SOCKET (self), host, error))
        return FALSE;
    }
  call_started (self, CHATTER_CALL_CONNECT);
  connected = c_socket_connect (C_SOCKET (self), host, port, error);
  call_returned (self);
  if (!connected)
    {
      self->state = STATE_OVER;
      c_async_socket_close (C_ASYNC_SOCKET (self));
      return FALSE;
    }
  open_archives (self);
  self->state = STATE_TALKING;
  return TRUE;
}

const char *
chatter_client_get_call (ChatterClient *self)
{
  g_return_val_if_fail (CHATTER_IS_CLIENT (self), NULL);
  return self->call;
}

gboolean
chatter_client_is_talking (ChatterClient *self)
{
  g_return_val_if_fail (CHATTER_IS_CLIENT (self), FALSE);
  return self->state == STATE_TALKING;
}

static void
chatter_client_dispose (GObject *object)
{
  ChatterClient *self = CHATTER_CLIENT (object);

  g_clear_object (&self->in);
  g_clear_object (&self->out);
  g_clear_object (&self->file);
  g_queue_clear_full (&self->pending, g_free);
  G_OBJECT_CLASS (chatter_client_parent_class)->dispose (object);
}

static void
chatter_client_finalize (GObject *object)
{
  alive--;
  g_free (CHATTER_CLIENT (object)->name);
  G_OBJECT_CLASS (chatter_client_parent_class)->finalize (object);
}

static void
chatter_client_class_init (ChatterClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = chatter_client_dispose;
  object_class->finalize = chatter_client_finalize;
  C_ASYNC_SOCKET_CLASS (klass)->on_receive = chatter_client_on_receive;
  C_ASYNC_SOCKET_CLASS (klass)->on_close = chatter_client_on_close;
  C_SOCKET_CLASS (klass)->on_message_pending = chatter_client_on_message_pending;

  signals[SIGNAL_LINE] = g_signal_new ("line", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                       NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_ENDED]
      = g_signal_new ("ended", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                      G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_BOOLEAN);
  signals[SIGNAL_WAITING] = g_signal_new ("waiting", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
chatter_client_init (ChatterClient *self)
{
  alive++;
  g_queue_init (&self->pending);
}

ChatterClient *
chatter_client_new (const char *name, gboolean mfc, guint timeout_ms)
{
  ChatterClient *self = g_object_new (CHATTER_TYPE_CLIENT, NULL);

  self->name = g_strdup (name);
  self->format = chat_format (mfc);
  c_socket_set_timeout (C_SOCKET (self), timeout_ms);
  return self;
}

guint
chatter_client_count_alive (void)
{
  return alive;
}
