/* echo-tls-libevent.c: the TLS echo server on libevent's bufferevent_openssl
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   echo-tls-libevent [--port N] --cert FILE --key FILE
 *
 * echo-libevent.c with TLS as libevent's samples add it: each accepted socket becomes a
 * bufferevent_openssl_socket_new (BUFFEREVENT_SSL_ACCEPTING) over its own SSL object from
 * one server SSL_CTX (bench-tls.c, OpenSSL's buffer defaults: libevent's own buffers hold
 * the data), and the read callback moves the input buffer to the output buffer. Past 1 MiB
 * of unsent echoes reading stops until the output drains below 256 KiB.
 */
#include "bench-tls.h"
#include "bench-util.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define OUTPUT_HIGH (1024 * 1024)
#define OUTPUT_LOW (256 * 1024)

static SSL_CTX *context;

static void
on_read (struct bufferevent *bev, void *data)
{
  struct evbuffer *output = bufferevent_get_output (bev);

  evbuffer_add_buffer (output, bufferevent_get_input (bev));
  if (evbuffer_get_length (output) >= OUTPUT_HIGH)
    {
      bufferevent_disable (bev, EV_READ);
      bufferevent_setwatermark (bev, EV_WRITE, OUTPUT_LOW, 0);
    }
}

static void
on_write (struct bufferevent *bev, void *data)
{
  /* Called once the output fell under the write low-water mark: read again. */
  if (!(bufferevent_get_enabled (bev) & EV_READ))
    {
      bufferevent_setwatermark (bev, EV_WRITE, 0, 0);
      bufferevent_enable (bev, EV_READ);
    }
}

static void
on_event (struct bufferevent *bev, short events, void *data)
{
  if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
    bufferevent_free (bev);
}

static void
on_accept (struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *address,
           int length, void *data)
{
  struct event_base *base = data;
  SSL *ssl = SSL_new (context);
  struct bufferevent *bev;

  if (ssl == NULL)
    {
      evutil_closesocket (fd);
      return;
    }
  bev = bufferevent_openssl_socket_new (base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                        BEV_OPT_CLOSE_ON_FREE);
  if (bev == NULL)
    {
      SSL_free (ssl);
      evutil_closesocket (fd);
      return;
    }
  bench_set_nodelay (fd);
  bufferevent_openssl_set_allow_dirty_shutdown (bev, 1);
  bufferevent_setcb (bev, on_read, on_write, on_event, NULL);
  bufferevent_enable (bev, EV_READ | EV_WRITE);
}

int
main (int argc, char **argv)
{
  const char *cert, *key;
  int port = bench_parse_tls_arguments (argc, argv, &cert, &key);
  struct event_base *base;
  struct evconnlistener *listener;
  struct sockaddr_in address = { 0 };

  bench_setup_process ();
  context = bench_tls_server_context (cert, key, false);
  base = event_base_new ();
  address.sin_family = AF_INET;
  address.sin_port = htons ((unsigned short) port);
  address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  listener
      = evconnlistener_new_bind (base, on_accept, base, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
                                 SOMAXCONN, (struct sockaddr *) &address, sizeof address);
  if (listener == NULL)
    {
      perror ("echo-tls-libevent: listen");
      return 1;
    }
  bench_announce_port (bench_local_port (evconnlistener_get_fd (listener)));
  event_base_dispatch (base);
  return 0;
}
