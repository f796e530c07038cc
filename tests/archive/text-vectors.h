/* text-vectors.h: the rows of docs/wire-format.md §10.4 (text options), for the C tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char *type;      /* "CString", "CString (len)", "line", "string length" */
  char *options;   /* "wide", "CP949", "CP949, wide", "—" */
  char *value;     /* as written in the table */
  char *hex[2];    /* network, MFC; "—" for none */
  GString *text;   /* the value's text (NULs included), for all but string length */
  guint64 length;  /* the value of a string length row */
  char *code_page; /* from options, NULL for none */
  gboolean wide;
} TextVector;

/* The rows between <!-- text:begin --> and <!-- text:end --> of the file at path. */
GPtrArray *text_vectors_load (const char *path);

G_END_DECLS
