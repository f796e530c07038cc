/* udp-peer.c: a peer-to-peer messenger over datagram sockets
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   udp-peer --name NAME [--address A] [--port N] [--broadcast PORT]
 *            [--multicast GROUP:PORT [--interface IF]] [--peer HOST:PORT…]
 *            [--say TEXT…] [--expect N] [--timeout SECONDS]
 *
 * Each peer has its own datagram socket (by default 127.0.0.1, any port) in record mode:
 * every datagram is one record, a CArchive holding a kind, the sender's name, a sequence
 * number and a text. Peers find each other in two ways:
 *
 * - --broadcast PORT: a second socket is bound to 0.0.0.0:PORT with SO_REUSEADDR and
 *   SO_REUSEPORT, so that every peer on the machine shares that port (the kernel hands each
 *   broadcast to all of them; a unicast datagram would reach only one). Peers announce
 *   themselves to 255.255.255.255:PORT from their own socket, which is bound to 127.0.0.1,
 *   so the broadcast goes out on the loopback interface only. PORT 0 picks a free port and
 *   prints it, for the next peers to use.
 * - --multicast GROUP:PORT (239.255.42.99:5000, [ff15::42]:5000): the second socket is bound
 *   to the wildcard address and PORT, shared the same way, and joins GROUP on one interface
 *   (--interface, by name or index; by default "lo" when the own address is a loopback
 *   address, else "any", which is the interface of the group's route); peers announce
 *   themselves to GROUP:PORT, leaving by that interface, with a TTL of 1 and loopback on, so
 *   that peers on the same machine hear it. Unlike a broadcast it reaches only the peers
 *   that joined, on every machine of the link that did. PORT 0 picks a free port and prints
 *   it. An IPv6 group needs an IPv6 --address (Linux's lo has no IPv6 multicast: use a real
 *   interface).
 * - --peer HOST:PORT (numeric addresses): announce to these peers directly.
 *
 * A peer that hears an announcement answers it and sends the newcomer everything it has
 * said so far, so peers that start late miss nothing. Each line of standard input is sent
 * to every peer met; the end of input (Ctrl-D) says goodbye and quits, as does receiving
 * --expect messages. Messages are numbered per sender, so a repeated one is shown once.
 *
 * Try it in three terminals:
 *   udp-peer --name alice --broadcast 0          (prints "discovery on port N")
 *   udp-peer --name bob --broadcast N
 *   udp-peer --name carol --broadcast N
 * or through a group:
 *   udp-peer --name alice --multicast 239.255.42.99:0      (prints "discovery on port N …")
 *   udp-peer --name bob --multicast 239.255.42.99:N
 */
#include <afxsock.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "sample-options.h"

/* The record, in CArchive's network format: BYTE kind, string name, DWORD sequence
 * (messages count from 1; 0 otherwise), string text (empty except in messages). */
typedef enum
{
  KIND_HELLO = 1,   /* "I am here": please answer */
  KIND_HERE = 2,    /* the answer to a hello */
  KIND_MESSAGE = 3, /* something said */
  KIND_BYE = 4,     /* leaving */
} Kind;

#define ANNOUNCE_INTERVAL_SECONDS 2
#define MAX_TEXT_LENGTH 4096

typedef struct
{
  char *name;
  GSocketAddress *address;
  guint32 last_sequence; /* of the messages shown */
} Peer;

typedef struct
{
  char *name;
  CAsyncSocket *socket;    /* our own address: all unicast, and sending broadcasts */
  CAsyncSocket *discovery; /* the shared broadcast or multicast port, or NULL */
  char *own_key;           /* our own socket's address, "127.0.0.1:N" */
  guint discovery_port;
  char *group;       /* the multicast group, or NULL for broadcast discovery */
  GPtrArray *listed; /* GSocketAddress: the --peer addresses */
  GHashTable *peers; /* "address:port" → Peer */
  GPtrArray *said;   /* GBytes: our messages so far, as records */
  guint32 sequence;  /* of our last message */
  guint received;    /* messages shown */
  guint expected;    /* quit after that many; 0: run until the end of input */
  int status;
  GMainLoop *loop;
} Messenger;

static void
peer_free (gpointer data)
{
  Peer *peer = data;

  g_free (peer->name);
  g_object_unref (peer->address);
  g_free (peer);
}

static char *
address_key (GSocketAddress *address)
{
  GInetSocketAddress *inet = G_INET_SOCKET_ADDRESS (address);
  g_autofree char *host = g_inet_address_to_string (g_inet_socket_address_get_address (inet));

  return g_strdup_printf ("%s:%u", host, g_inet_socket_address_get_port (inet));
}

/* Records. */

static GBytes *
make_record (Kind kind, const char *name, guint32 sequence, const char *text, GError **error)
{
  g_autoptr (CArchive) archive = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_NETWORK);

  c_archive_write_byte (archive, kind);
  c_archive_write_cstring (archive, name);
  c_archive_write_dword (archive, sequence);
  c_archive_write_cstring (archive, text);
  /* Errors are sticky: one check after the last field (text that is not UTF-8, say). */
  if (!c_archive_check (archive, error))
    return NULL;
  return c_archive_steal_bytes (archive);
}

typedef struct
{
  Kind kind;
  char *name;
  guint32 sequence;
  char *text;
} Record;

static void
record_clear (Record *record)
{
  g_free (record->name);
  g_free (record->text);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Record, record_clear)

/* Decodes what anybody on the network may have sent us: never trust it. */
static gboolean
parse_record (GBytes *bytes, Record *record, GError **error)
{
  g_autoptr (CArchive) archive = c_archive_new_load_from_bytes (bytes, C_ARCHIVE_FORMAT_NETWORK);

  c_archive_set_limit (archive, C_ARCHIVE_LIMIT_STRING_LENGTH, MAX_TEXT_LENGTH);
  record->kind = c_archive_read_byte (archive);
  record->name = c_archive_read_cstring (archive);
  record->sequence = c_archive_read_dword (archive);
  record->text = c_archive_read_cstring (archive);
  if (!c_archive_check (archive, error))
    return FALSE;
  if (record->kind < KIND_HELLO || record->kind > KIND_BYE || record->name[0] == '\0')
    {
      g_set_error (error, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_BAD_DATA,
                   "not a messenger record (kind %u, name \"%s\")", record->kind, record->name);
      return FALSE;
    }
  return TRUE;
}

/* Sending. A datagram socket never blocks for long: if the kernel has no room at this
 * instant the datagram is lost, as datagrams may be, and the error is shown. */

static void
send_to (Messenger *self, GBytes *record, GSocketAddress *address)
{
  g_autoptr (GError) error = NULL;
  gsize size;
  const void *data = g_bytes_get_data (record, &size);

  if (c_async_socket_send_to_address (self->socket, data, size, address, 0, &error) < 0)
    g_printerr ("%s: %s\n", self->name, error->message);
}

static void
send_kind_to (Messenger *self, Kind kind, GSocketAddress *address)
{
  g_autoptr (GBytes) record = make_record (kind, self->name, 0, "", NULL);

  if (record != NULL)
    send_to (self, record, address);
}

static void
send_to_all (Messenger *self, GBytes *record)
{
  GHashTableIter iter;
  Peer *peer;

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &peer))
    send_to (self, record, peer->address);
}

static gboolean
announce (gpointer data)
{
  Messenger *self = data;
  g_autoptr (GBytes) hello = make_record (KIND_HELLO, self->name, 0, "", NULL);
  g_autoptr (GError) error = NULL;

  if (self->discovery_port != 0)
    {
      gsize size;
      const void *bytes = g_bytes_get_data (hello, &size);

      /* To the group; or, with a NULL host, MFC's broadcast: 255.255.255.255, with
       * SO_BROADCAST turned on. */
      if (c_async_socket_send_to (self->socket, bytes, size, self->discovery_port, self->group, 0,
                                  &error)
          < 0)
        g_printerr ("%s: announcing: %s\n", self->name, error->message);
    }
  for (guint i = 0; i < self->listed->len; i++)
    send_to (self, hello, g_ptr_array_index (self->listed, i));
  return G_SOURCE_CONTINUE;
}

static void
say (Messenger *self, const char *text)
{
  g_autoptr (GError) error = NULL;
  GBytes *record = make_record (KIND_MESSAGE, self->name, self->sequence + 1, text, &error);

  if (record == NULL)
    {
      g_printerr ("%s: not sent: %s\n", self->name, error->message);
      return;
    }
  self->sequence++;
  g_ptr_array_add (self->said, record);
  send_to_all (self, record);
}

static void
quit (Messenger *self, int status)
{
  g_autoptr (GBytes) bye = make_record (KIND_BYE, self->name, 0, "", NULL);

  send_to_all (self, bye);
  self->status = status;
  g_main_loop_quit (self->loop);
}

/* Receiving. */

static Peer *
meet (Messenger *self, const char *name, GSocketAddress *address, const char *key)
{
  Peer *peer = g_hash_table_lookup (self->peers, key);

  if (peer != NULL)
    return peer;
  peer = g_new0 (Peer, 1);
  peer->name = g_strdup (name);
  peer->address = g_object_ref (address);
  g_hash_table_insert (self->peers, g_strdup (key), peer);
  g_print ("met %s at %s\n", name, key);
  /* A newcomer hears everything said so far. */
  for (guint i = 0; i < self->said->len; i++)
    send_to (self, g_ptr_array_index (self->said, i), address);
  return peer;
}

static void
show_message (Messenger *self, Peer *peer, const Record *record)
{
  if (record->sequence <= peer->last_sequence)
    return; /* heard already */
  peer->last_sequence = record->sequence;
  g_print ("%s #%u: %s\n", record->name, record->sequence, record->text);
  if (++self->received == self->expected)
    {
      g_print ("received %u messages\n", self->received);
      quit (self, 0);
    }
}

/* The "record" signal of both sockets: the messenger composes CAsyncSockets rather than
 * subclassing them. */
static void
on_record (CAsyncSocket *socket, GBytes *bytes, gpointer data)
{
  Messenger *self = data;
  GSocketAddress *sender = c_async_socket_get_record_sender (socket);
  g_autofree char *sender_key = NULL;
  g_auto (Record) record = { 0 };
  g_autoptr (GError) error = NULL;

  if (sender == NULL || !G_IS_INET_SOCKET_ADDRESS (sender))
    return;
  sender_key = address_key (sender);
  if (strcmp (sender_key, self->own_key) == 0)
    return; /* our own broadcast */
  if (!parse_record (bytes, &record, &error))
    {
      g_printerr ("%s: ignored a datagram from %s: %s\n", self->name, sender_key, error->message);
      return;
    }
  switch (record.kind)
    {
      case KIND_HELLO:
        meet (self, record.name, sender, sender_key);
        send_kind_to (self, KIND_HERE, sender);
        break;
      case KIND_HERE:
        meet (self, record.name, sender, sender_key);
        break;
      case KIND_MESSAGE:
        show_message (self, meet (self, record.name, sender, sender_key), &record);
        break;
      case KIND_BYE:
        if (g_hash_table_remove (self->peers, sender_key))
          g_print ("%s left\n", record.name);
        break;
    }
}

/* Standard input: each line is a message. */
static gboolean
on_stdin (GIOChannel *channel, GIOCondition condition, gpointer data)
{
  Messenger *self = data;
  g_autofree char *line = NULL;
  gsize terminator = 0;
  GIOStatus status = g_io_channel_read_line (channel, &line, NULL, &terminator, NULL);

  if (status == G_IO_STATUS_AGAIN)
    return G_SOURCE_CONTINUE;
  if (status != G_IO_STATUS_NORMAL)
    {
      quit (self, 0);
      return G_SOURCE_REMOVE;
    }
  line[terminator] = '\0';
  say (self, line);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_timeout (gpointer data)
{
  Messenger *self = data;

  /* Without --expect, --timeout is just how long to stay. */
  if (self->expected > 0)
    g_printerr ("%s: timed out with %u of %u messages\n", self->name, self->received,
                self->expected);
  quit (self, self->expected > 0 ? 1 : 0);
  return G_SOURCE_REMOVE;
}

/* Setting up. */

static CAsyncSocket *
open_own_socket (Messenger *self, const char *address, guint port, GError **error)
{
  g_autoptr (CAsyncSocket) socket = c_async_socket_new ();

  if (!c_async_socket_create (socket, port, C_SOCK_DGRAM, C_FD_READ, address, error)
      || !c_async_socket_set_record_mode (socket, TRUE, error))
    return NULL;
  g_signal_connect (socket, "record", G_CALLBACK (on_record), self);
  return g_steal_pointer (&socket);
}

static CAsyncSocket *
open_discovery_socket (Messenger *self, guint port, GError **error)
{
  g_autoptr (CAsyncSocket) socket = c_async_socket_new ();

  /* The options must be set between making the descriptor and binding it. */
  if (!c_async_socket_socket (socket, C_SOCK_DGRAM, C_FD_READ, 0, G_SOCKET_FAMILY_IPV4, error)
      || !c_async_socket_set_sock_opt_int (socket, SOL_SOCKET, SO_REUSEADDR, 1, error)
      || !c_async_socket_set_sock_opt_int (socket, SOL_SOCKET, SO_REUSEPORT, 1, error)
      || !c_async_socket_bind (socket, port, "0.0.0.0", error)
      || !c_async_socket_get_sock_name (socket, NULL, &self->discovery_port, error)
      || !c_async_socket_set_record_mode (socket, TRUE, error))
    return NULL;
  g_signal_connect (socket, "record", G_CALLBACK (on_record), self);
  return g_steal_pointer (&socket);
}

/* The discovery socket of a group: the group's port on the wildcard address, shared, and a
 * member of the group on @interface; our own socket sends to it by that interface. */
static CAsyncSocket *
open_multicast_socket (Messenger *self, const char *group, guint port, const char *interface,
                       GError **error)
{
  g_autoptr (CAsyncSocket) socket = c_async_socket_new ();
  gboolean ipv6 = strchr (group, ':') != NULL;

  if (!c_async_socket_socket (socket, C_SOCK_DGRAM, C_FD_READ, 0,
                              ipv6 ? G_SOCKET_FAMILY_IPV6 : G_SOCKET_FAMILY_IPV4, error)
      || !c_async_socket_set_sock_opt_int (socket, SOL_SOCKET, SO_REUSEADDR, 1, error)
      || !c_async_socket_set_sock_opt_int (socket, SOL_SOCKET, SO_REUSEPORT, 1, error)
      || !c_async_socket_bind (socket, port, ipv6 ? "::" : "0.0.0.0", error)
      || !c_async_socket_get_sock_name (socket, NULL, &self->discovery_port, error)
      || !c_async_socket_join_multicast_group (socket, group, NULL, interface, error)
      || !c_async_socket_set_record_mode (socket, TRUE, error)
      || !c_async_socket_set_multicast_interface (self->socket, interface, error)
      || !c_async_socket_set_multicast_ttl (self->socket, 1, error)
      || !c_async_socket_set_multicast_loopback (self->socket, TRUE, error))
    return NULL;
  g_signal_connect (socket, "record", G_CALLBACK (on_record), self);
  return g_steal_pointer (&socket);
}

/* GROUP:PORT, [GROUP]:PORT for IPv6; the group numeric and multicast. */
static gboolean
parse_group (const char *text, char **group, guint *port, GError **error)
{
  g_autoptr (GSocketConnectable) parsed = g_network_address_parse (text, 0, NULL);
  g_autoptr (GInetAddress) address = NULL;

  if (parsed != NULL)
    address = g_inet_address_new_from_string (
        g_network_address_get_hostname (G_NETWORK_ADDRESS (parsed)));
  const char *colon = strrchr (text, ':');
  gboolean has_port = colon != NULL && colon[1] != '\0'
                      && strspn (colon + 1, "0123456789") == strlen (colon + 1)
                      && (text[0] == '[' ? colon[-1] == ']' : strchr (text, ':') == colon);

  if (address == NULL || !g_inet_address_get_is_multicast (address) || !has_port)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "--multicast %s: expected a multicast group and a port, like "
                   "239.255.42.99:5000 or [ff15::42]:5000",
                   text);
      return FALSE;
    }
  *group = g_inet_address_to_string (address);
  *port = g_network_address_get_port (G_NETWORK_ADDRESS (parsed));
  return TRUE;
}

static gboolean
is_loopback (const char *address)
{
  g_autoptr (GInetAddress) parsed = g_inet_address_new_from_string (address);
  return parsed != NULL && g_inet_address_get_is_loopback (parsed);
}

static gboolean
parse_peer_list (Messenger *self, char **peers, GError **error)
{
  for (char **p = peers; p != NULL && *p != NULL; p++)
    {
      g_autoptr (GSocketConnectable) parsed = g_network_address_parse (*p, 0, error);
      GSocketAddress *address = NULL;

      if (parsed != NULL)
        address = g_inet_socket_address_new_from_string (
            g_network_address_get_hostname (G_NETWORK_ADDRESS (parsed)),
            g_network_address_get_port (G_NETWORK_ADDRESS (parsed)));
      if (address == NULL || g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address)) == 0)
        {
          g_clear_error (error);
          g_clear_object (&address);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "--peer %s: expected a numeric address and a port, like 127.0.0.1:5000", *p);
          return FALSE;
        }
      g_ptr_array_add (self->listed, address);
    }
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autofree char *name = NULL;
  g_autofree char *address = NULL;
  g_autofree char *multicast = NULL;
  g_autofree char *interface = NULL;
  guint group_port = 0;
  g_auto (GStrv) peers = NULL;
  g_auto (GStrv) sayings = NULL;
  int port = 0, broadcast = -1, expected = 0, timeout = 0;
  GOptionEntry entries[] = {
    { "name", 'n', 0, G_OPTION_ARG_STRING, &name, "This peer's name", "NAME" },
    { "address", 'a', 0, G_OPTION_ARG_STRING, &address, "Own address (default 127.0.0.1)", "A" },
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, "Own port (default: any)", "N" },
    { "broadcast", 'b', 0, G_OPTION_ARG_INT, &broadcast,
      "Find peers by broadcast on this port (0: pick one)", "PORT" },
    { "multicast", 'm', 0, G_OPTION_ARG_STRING, &multicast,
      "Find peers through this multicast group (port 0: pick one)", "GROUP:PORT" },
    { "interface", 'i', 0, G_OPTION_ARG_STRING, &interface,
      "The group's interface, by name or index (default: lo for a loopback --address, "
      "else the group's route)",
      "IF" },
    { "peer", 0, 0, G_OPTION_ARG_STRING_ARRAY, &peers, "A peer's numeric address", "HOST:PORT" },
    { "say", 's', 0, G_OPTION_ARG_STRING_ARRAY, &sayings, "Say this first (repeatable)", "TEXT" },
    { "expect", 'e', 0, G_OPTION_ARG_INT, &expected, "Quit after receiving N messages", "N" },
    { "timeout", 't', 0, G_OPTION_ARG_INT, &timeout, "Quit after SECONDS", "SECONDS" },
    { NULL },
  };
  g_autoptr (GOptionContext) options = g_option_context_new ("- peer-to-peer messenger");
  g_autoptr (GError) error = NULL;
  g_autoptr (GIOChannel) input = NULL;
  g_autofree char *own = NULL;
  guint own_port = 0;
  Messenger self = { 0 };

  setlocale (LC_ALL, ""); /* names and texts are UTF-8: g_print converts for the terminal */
  g_option_context_add_main_entries (options, entries, NULL);
  sample_add_version_option (options);
  if (!g_option_context_parse (options, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (name == NULL || name[0] == '\0' || port < 0 || port > 65535 || broadcast > 65535
      || expected < 0 || timeout < 0)
    {
      g_printerr ("udp-peer: a --name is needed, and ports are 0 to 65535\n");
      return 2;
    }
  if (multicast != NULL && broadcast >= 0)
    {
      g_printerr ("udp-peer: --broadcast or --multicast, not both\n");
      return 2;
    }
  if (multicast != NULL && !parse_group (multicast, &self.group, &group_port, &error))
    {
      g_printerr ("udp-peer: %s\n", error->message);
      return 2;
    }
  if (address == NULL)
    address = g_strdup ("127.0.0.1");
  if (self.group != NULL && strchr (self.group, ':') != NULL && strchr (address, ':') == NULL)
    {
      g_printerr ("udp-peer: the IPv6 group %s needs an IPv6 --address\n", self.group);
      return 2;
    }
  if (interface == NULL && is_loopback (address))
    interface = g_strdup ("lo");

  self.name = name;
  self.listed = g_ptr_array_new_with_free_func (g_object_unref);
  self.peers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, peer_free);
  self.said = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  self.expected = (guint) expected;
  self.loop = g_main_loop_new (NULL, FALSE);

  if (!parse_peer_list (&self, peers, &error)
      || (self.socket = open_own_socket (&self, address, (guint) port, &error)) == NULL
      || !c_async_socket_get_sock_name (self.socket, &own, &own_port, &error)
      || (broadcast >= 0
          && (self.discovery = open_discovery_socket (&self, (guint) broadcast, &error)) == NULL)
      || (self.group != NULL
          && (self.discovery
              = open_multicast_socket (&self, self.group, group_port, interface, &error))
                 == NULL))
    {
      g_printerr ("udp-peer: %s\n", error->message);
      return 1;
    }
  self.own_key = g_strdup_printf ("%s:%u", own, own_port);
  g_print ("%s listening on %s port %u\n", name, own, own_port);
  if (self.discovery != NULL && self.group != NULL)
    g_print ("discovery on port %u (group %s on %s)\n", self.discovery_port, self.group,
             interface ? interface : "any interface");
  else if (self.discovery != NULL)
    g_print ("discovery on port %u\n", self.discovery_port);
  fflush (stdout);

  for (char **s = sayings; s != NULL && *s != NULL; s++)
    say (&self, *s);
  announce (&self);
  g_timeout_add_seconds (ANNOUNCE_INTERVAL_SECONDS, announce, &self);
  if (timeout > 0)
    g_timeout_add_seconds ((guint) timeout, on_timeout, &self);
  input = g_io_channel_unix_new (0);
  g_io_channel_set_encoding (input, NULL, NULL); /* the archive checks the UTF-8 */
  g_io_channel_set_flags (input, G_IO_FLAG_NONBLOCK, NULL);
  g_io_add_watch (input, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, &self);

  g_main_loop_run (self.loop);

  g_clear_object (&self.discovery);
  g_clear_object (&self.socket);
  g_ptr_array_unref (self.said);
  g_hash_table_unref (self.peers);
  g_ptr_array_unref (self.listed);
  g_main_loop_unref (self.loop);
  g_free (self.own_key);
  g_free (self.group);
  return self.status;
}
