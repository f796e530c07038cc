/* text-vectors.c: reads the text-option vectors of docs/wire-format.md §10.4
 *
 * The table's notation: a value is "text" with \n, \r and \0 escapes, optionally followed by
 * "× n" (n copies); a string length row's value is a number. Options are "wide", a code
 * page name, both ("CP949, wide"), or "—" for none.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "text-vectors.h"

#include <string.h>

static void
text_vector_free (TextVector *v)
{
  g_free (v->type);
  g_free (v->options);
  g_free (v->value);
  g_free (v->hex[0]);
  g_free (v->hex[1]);
  if (v->text != NULL)
    g_string_free (v->text, TRUE);
  g_free (v->code_page);
  g_free (v);
}

/* "`abc`" -> "abc" */
static char *
cell (const char *raw)
{
  g_autofree char *trimmed = g_strstrip (g_strdup (raw));
  gsize length = strlen (trimmed);

  if (length >= 2 && trimmed[0] == '`' && trimmed[length - 1] == '`')
    return g_strndup (trimmed + 1, length - 2);
  return g_strdup (trimmed);
}

/* "\"a\\0b\" × 3" -> the text, NULs included; NULL if it is not a quoted value. */
static GString *
parse_text (const char *value)
{
  const char *end = value[0] == '"' ? strchr (value + 1, '"') : NULL;
  const char *times;
  GString *unit, *text;
  guint64 n = 1;

  if (end == NULL)
    return NULL;
  unit = g_string_new (NULL);
  for (const char *p = value + 1; p < end; p++)
    {
      if (*p != '\\' || p + 1 >= end)
        {
          g_string_append_c (unit, *p);
          continue;
        }
      p++;
      g_string_append_c (unit, *p == 'n' ? '\n' : *p == 'r' ? '\r' : *p == '0' ? '\0' : *p);
    }
  times = strstr (end, "\xc3\x97"); /* × */
  if (times != NULL)
    n = g_ascii_strtoull (times + 2, NULL, 0);
  text = g_string_new (NULL);
  for (guint64 i = 0; i < n; i++)
    g_string_append_len (text, unit->str, (gssize) unit->len);
  g_string_free (unit, TRUE);
  return text;
}

static void
parse_options (TextVector *v)
{
  g_auto (GStrv) parts = g_strsplit (v->options, ",", -1);

  for (char **part = parts; *part != NULL; part++)
    {
      g_strstrip (*part);
      if (strcmp (*part, "wide") == 0)
        v->wide = TRUE;
      else if (g_str_has_prefix (*part, "CP"))
        v->code_page = g_strdup (*part);
    }
}

GPtrArray *
text_vectors_load (const char *path)
{
  g_autofree char *spec = NULL;
  g_auto (GStrv) lines = NULL;
  GPtrArray *vectors = g_ptr_array_new_with_free_func ((GDestroyNotify) text_vector_free);
  gboolean inside = FALSE;

  if (!g_file_get_contents (path, &spec, NULL, NULL))
    return vectors;
  lines = g_strsplit (spec, "\n", -1);
  for (char **line = lines; *line != NULL; line++)
    {
      g_auto (GStrv) cells = NULL;
      TextVector *v;

      if (g_str_has_prefix (*line, "<!-- text:"))
        {
          inside = g_str_has_prefix (*line, "<!-- text:begin");
          continue;
        }
      if (!inside || !g_str_has_prefix (*line, "| ") || g_str_has_prefix (*line, "| type"))
        continue;
      cells = g_strsplit (*line, "|", -1);
      if (g_strv_length (cells) != 7)
        continue;
      v = g_new0 (TextVector, 1);
      v->type = cell (cells[1]);
      v->options = cell (cells[2]);
      v->value = cell (cells[3]);
      v->hex[0] = cell (cells[4]);
      v->hex[1] = cell (cells[5]);
      parse_options (v);
      if (strcmp (v->type, "string length") == 0)
        v->length = g_ascii_strtoull (v->value, NULL, 0);
      else
        v->text = parse_text (v->value);
      g_ptr_array_add (vectors, v);
    }
  return vectors;
}
