/* c-collection-private.h: what the archive's registry needs of c-collection.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Registers MFC's ten collections under their class names (once; idempotent). The registry
 * calls it before every lookup, so an archive can read "CStringList" from a peer before
 * the program ever named the type. */
void c_collection_register_types (void);

G_END_DECLS
