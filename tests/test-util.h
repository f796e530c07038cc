/* test-util.h: helpers shared by the socket tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <afxsock.h>
#include <criterion/criterion.h>
#include <string.h>

#include "c-async-socket-private.h"

G_BEGIN_DECLS

/* Every test waits for conditions, never for time; this is only the deadline after which a
 * wait gives up and the test fails. */
#define TEST_DEADLINE_MS 10000

typedef struct _TestSocket TestSocket;
typedef void (*TestHook) (TestSocket *socket, CNotify which, int error_code, gpointer data);

/* The 'which' a record_hook is called with. */
#define TEST_NOTIFY_RECORD C_N_NOTIFY

/* A CAsyncSocket subclass that counts its notifications, records their order and error
 * codes, and optionally calls a hook from inside each one. */
struct _TestSocket
{
  CAsyncSocket parent_instance;
  int counts[C_N_NOTIFY];
  int errors[C_N_NOTIFY];
  CNotify order[256];
  guint n_order;
  TestHook hook;
  gpointer hook_data;
  gboolean read_on_receive; /* receive into 'received' inside on_receive */
  GByteArray *received;
  GPtrArray *records;   /* GBytes delivered by on_record */
  TestHook record_hook; /* called from inside each on_record (which: TEST_NOTIFY_RECORD) */
  int drains;           /* on_drain count */
};

#define TEST_TYPE_SOCKET (test_socket_get_type ())
G_DECLARE_FINAL_TYPE (TestSocket, test_socket, TEST, SOCKET, CAsyncSocket)

TestSocket *test_socket_new (void);
int test_socket_total (TestSocket *socket);

/* Runs the thread-default main context until *flag is set or the deadline passes. */
gboolean run_until_flag (gboolean *flag);
/* Runs until count(socket, which) >= n or the deadline passes. */
gboolean run_until_count (TestSocket *socket, CNotify which, int n);
/* Runs until socket->received holds @length bytes (socket->records @n records), or the
 * deadline passes. */
gboolean run_until_received (TestSocket *socket, gsize length);
gboolean run_until_records (TestSocket *socket, guint n);
/* Runs until func (data) is TRUE or the deadline passes. */
gboolean run_until (gboolean (*func) (gpointer data), gpointer data);
/* The same with a deadline of its own, in milliseconds. */
gboolean run_until_within (gboolean (*func) (gpointer data), gpointer data, guint deadline_ms);
/* Runs the given number of non-blocking iterations. */
void iterate (guint iterations);
/* Runs until the context has nothing ready (at most a bounded number of iterations). */
void drain_context (void);

#define S(x) C_ASYNC_SOCKET (x)

/* Asserts that *error is set, in the given domain and code, with a message that contains
 * @fragment (what was attempted), then clears it for the next call. */
#define assert_error(error, domain_, code_, fragment)                                              \
  do                                                                                               \
    {                                                                                              \
      cr_assert_not_null ((error), "no GError (expected one containing '%s')", (fragment));        \
      cr_assert ((error)->domain == (domain_) && (error)->code == (code_),                         \
                 "wrong error for '%s': %s (%s, code %d)", (fragment), (error)->message,           \
                 g_quark_to_string ((error)->domain), (error)->code);                              \
      cr_assert_not_null (strstr ((error)->message, (fragment)), "message '%s' lacks '%s'",        \
                          (error)->message, (fragment));                                           \
      g_clear_error (&(error));                                                                    \
    }                                                                                              \
  while (0)

/* A listener on 127.0.0.1 and one connection accepted from it. */
typedef struct
{
  TestSocket *listener, *client, *server;
  guint port;
} Pair;

void pair_open (Pair *pair);
void pair_close (Pair *pair);

/* A hook that sends back what each on_receive receives (up to 64 bytes at a time). */
void echo_hook (TestSocket *socket, CNotify which, int error_code, gpointer data);

/* The reactor behind a socket's notifications (the test fails if it has none). */
CReactor *reactor_of (TestSocket *socket);

/* Sends all of @text at once (a short send fails the test). */
void send_text (TestSocket *socket, const char *text);

/* A listening TCP socket on 127.0.0.1 (or the given address), port 0; returns its port. */
TestSocket *make_listener (const char *address, guint *port);
/* Connects a client to the listener and accepts the server end; runs until both are up
 * and both on_send notifications have arrived. */
void make_pair (TestSocket *listener, const char *host, guint port, TestSocket **client,
                TestSocket **server);

/* Two datagram sockets on 127.0.0.1 in record mode, @sender connected to @receiver (its
 * on_connect awaited); sends the records "one", "" and "three"; returns @sender's port. */
guint send_three_datagram_records (TestSocket *sender, CAsyncSocket *receiver);

G_END_DECLS
