/* c-version.h: export macro and version of afxsock
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(AFXSOCK_INSIDE) && !defined(AFXSOCK_COMPILATION)
#error "Only <afxsock.h> can be included directly."
#endif

#define AFXSOCK_MAJOR_VERSION 0
#define AFXSOCK_MINOR_VERSION 1
#define AFXSOCK_MICRO_VERSION 0

/* Every public symbol is declared with AFXSOCK_AVAILABLE_IN_ALL; the library is
 * built with hidden visibility, so only what the headers declare is exported. */
#if defined(AFXSOCK_COMPILATION) && defined(__GNUC__)
#define AFXSOCK_AVAILABLE_IN_ALL __attribute__ ((visibility ("default"))) extern
#else
#define AFXSOCK_AVAILABLE_IN_ALL extern
#endif
