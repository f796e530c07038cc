/* afxsock.h: MFC's socket classes on GLib
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#define AFXSOCK_INSIDE

#include <afxsock/c-version.h>
#include <afxsock/c-types.h>
#include <afxsock/c-enum-types.h>
#include <afxsock/c-async-socket.h>
#include <afxsock/c-socket.h>
#include <afxsock/c-archive.h>
#include <afxsock/c-serializable.h>
#include <afxsock/c-collection.h>
#include <afxsock/c-tls.h>
#include <afxsock/c-socket-service.h>

#undef AFXSOCK_INSIDE
