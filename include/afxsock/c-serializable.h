/* c-serializable.h: CSerializable, the interface of objects that archive themselves
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(AFXSOCK_INSIDE) && !defined(AFXSOCK_COMPILATION)
#error "Only <afxsock.h> can be included directly."
#endif

#include <glib-object.h>
#include <afxsock/c-version.h>
#include <afxsock/c-archive.h>

G_BEGIN_DECLS

#define C_TYPE_SERIALIZABLE (c_serializable_get_type ())
AFXSOCK_AVAILABLE_IN_ALL
G_DECLARE_INTERFACE (CSerializable, c_serializable, C, SERIALIZABLE, GObject)

/**
 * CSerializableInterface:
 * @g_iface: the parent interface
 * @serialize: writes the object's fields to @archive when c_archive_is_storing() is true,
 *   reads them back in the same order otherwise (MFC's `CObject::Serialize`)
 *
 * The interface of objects that archive themselves. A type implementing it and
 * registered with c_archive_register_class() can be written with c_archive_write_object()
 * and read back with c_archive_read_object().
 */
struct _CSerializableInterface
{
  GTypeInterface g_iface;

  void (*serialize) (CSerializable *self, CArchive *archive);

  /*< private >*/
  gpointer padding[8];
};

AFXSOCK_AVAILABLE_IN_ALL
void c_serializable_serialize (CSerializable *self, CArchive *archive);

G_END_DECLS
