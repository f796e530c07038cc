/* c-version.h: export macro and version of afxsock
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(AFXSOCK_INSIDE) && !defined(AFXSOCK_COMPILATION)
#error "Only <afxsock.h> can be included directly."
#endif

/* The version of these headers; meson.build's project version, checked at configure time
 * (include/afxsock/meson.build). */
#define AFXSOCK_MAJOR_VERSION 0
#define AFXSOCK_MINOR_VERSION 1
#define AFXSOCK_MICRO_VERSION 0

/* AFXSOCK_CHECK_VERSION (major, minor, micro): true when the headers are that version or
 * newer, as GLib's GLIB_CHECK_VERSION:
 *
 *   #if AFXSOCK_CHECK_VERSION (0, 1, 0)
 *     ... code that needs afxsock 0.1.0 or newer ...
 *   #endif
 */
#define AFXSOCK_CHECK_VERSION(major, minor, micro)                                                 \
  (AFXSOCK_MAJOR_VERSION > (major)                                                                 \
   || (AFXSOCK_MAJOR_VERSION == (major) && AFXSOCK_MINOR_VERSION > (minor))                        \
   || (AFXSOCK_MAJOR_VERSION == (major) && AFXSOCK_MINOR_VERSION == (minor)                        \
       && AFXSOCK_MICRO_VERSION >= (micro)))

/* Every public symbol is declared with AFXSOCK_AVAILABLE_IN_ALL; the library is
 * built with hidden visibility, so only what the headers declare is exported. */
#if defined(AFXSOCK_COMPILATION) && defined(__GNUC__)
#define AFXSOCK_AVAILABLE_IN_ALL __attribute__ ((visibility ("default"))) extern
#else
#define AFXSOCK_AVAILABLE_IN_ALL extern
#endif
