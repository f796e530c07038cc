/* c-serializable.c: CSerializable, the interface of objects that archive themselves
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "c-archive-private.h"

/**
 * CSerializable:
 *
 * The interface of objects that write and read their own fields: MFC's
 * `CObject::Serialize`. Register the implementing type with c_archive_register_class()
 * (MFC's `IMPLEMENT_SERIAL`) to archive its objects through c_archive_write_object() and
 * c_archive_read_object(), or call c_serializable_serialize() directly to archive an
 * object's fields with no header at all (the usual way to send a message).
 *
 * A serialize function typically reads:
 *
 * ```c
 * #define CHAT_TYPE_MESSAGE (chat_message_get_type ())
 * G_DECLARE_FINAL_TYPE (ChatMessage, chat_message, CHAT, MESSAGE, GObject)
 * struct _ChatMessage
 * {
 *   GObject parent_instance;
 *   guint16 close;
 *   char *text;
 * };
 *
 * static void
 * chat_message_serialize (CSerializable *serializable, CArchive *ar)
 * {
 *   ChatMessage *self = CHAT_MESSAGE (serializable);
 *
 *   if (c_archive_is_storing (ar))
 *     {
 *       c_archive_write_word (ar, self->close);
 *       c_archive_write_cstring (ar, self->text);
 *     }
 *   else
 *     {
 *       self->close = c_archive_read_word (ar);
 *       g_free (self->text);
 *       self->text = c_archive_read_cstring (ar);
 *     }
 * }
 * ```
 *
 * Objects loaded by c_archive_read_object() are created with g_object_new() and no
 * properties, then registered under their id before serialize runs, so that objects
 * they contain may point back at them (cycles).
 */

G_DEFINE_INTERFACE (CSerializable, c_serializable, G_TYPE_OBJECT)

static void
c_serializable_default_init (CSerializableInterface *iface)
{
}

/**
 * c_serializable_serialize:
 * @self: an object
 * @archive: a storing or loading archive
 *
 * Writes @self's fields to @archive, or reads them from it, by calling the interface's
 * serialize function. No class or object header is written: this is MFC's direct
 * `obj.Serialize (ar)`.
 */
void
c_serializable_serialize (CSerializable *self, CArchive *archive)
{
  CSerializableInterface *iface;

  g_return_if_fail (C_IS_SERIALIZABLE (self));
  g_return_if_fail (C_IS_ARCHIVE (archive));

  iface = C_SERIALIZABLE_GET_IFACE (self);
  if (iface->serialize != NULL)
    iface->serialize (self, archive);
}
