/* rpc-protocol.c: typed values in a CArchive, for the RPC sample
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rpc-protocol.h"

GQuark
rpc_error_quark (void)
{
  return g_quark_from_static_string ("rpc-error-quark");
}

/* Writes one value: its type tag, then the value in the archive's own encoding. */
void
rpc_write_value (CArchive *archive, GVariant *value)
{
  switch (g_variant_classify (value))
    {
      case G_VARIANT_CLASS_INT64:
        c_archive_write_byte (archive, 'i');
        c_archive_write_int64 (archive, g_variant_get_int64 (value));
        break;
      case G_VARIANT_CLASS_DOUBLE:
        c_archive_write_byte (archive, 'd');
        c_archive_write_double (archive, g_variant_get_double (value));
        break;
      case G_VARIANT_CLASS_STRING:
        c_archive_write_byte (archive, 's');
        c_archive_write_cstring (archive, g_variant_get_string (value, NULL));
        break;
      default:
        g_return_if_reached ();
    }
}

/* Reads one value. A truncated or malformed value leaves its error in the archive (checked
 * once, after the whole record) and returns a placeholder; an unknown type tag is not an
 * archive error, so it is reported here. */
GVariant *
rpc_read_value (CArchive *archive, GError **error)
{
  guint8 tag = c_archive_read_byte (archive);
  g_autofree char *text = NULL;

  if (c_archive_get_error (archive) != NULL)
    return g_variant_ref_sink (g_variant_new_int64 (0));
  switch (tag)
    {
      case 'i':
        return g_variant_ref_sink (g_variant_new_int64 (c_archive_read_int64 (archive)));
      case 'd':
        return g_variant_ref_sink (g_variant_new_double (c_archive_read_double (archive)));
      case 's':
        text = c_archive_read_cstring (archive);
        return g_variant_ref_sink (g_variant_new_string (text ? text : ""));
      default:
        g_set_error (error, RPC_ERROR, RPC_ERROR_MALFORMED, "unknown value type tag 0x%02x", tag);
        return NULL;
    }
}
