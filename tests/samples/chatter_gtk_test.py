#!/usr/bin/env python3
"""chatter-gtk, the GTK 4 window, driven from the keyboard under Xvfb next to a terminal client.

    chatter_gtk_test.py [--skip=REASON] CHATTER_GTK CHAT_SERVER CHAT_CLIENT SCREENSHOT_PNG

Exits 77 (meson's "skipped") with the reason when the window cannot be tested here: not built
(no GTK 4 or JSON-GLib), a sanitizer build (--skip), or no Xvfb, xdotool or xmodmap.

The window is read through its own state dump (chatter-inspect.h): on SIGUSR1 it writes, as
JSON, what its widgets show (the conversation view's lines, the status line, the spinner, the
focus) and the frames its frame clock painted while a CSocket call waited. Keys are typed into
it with xdotool, as a person would: nothing is clicked.

1. A chat-server (TLS, MFC's format) and bob, a terminal chat-client, are started. In the
   window's connect dialog (host, port and TLS come from the command line) the test types a
   name with non-ASCII letters, ticks "MFC's archive format" with its mnemonic, presses Enter.
2. It types a message (café, 한글) and Enter: the server relays it to bob; bob answers, and
   the window shows bob's line.
3. The server is stopped (SIGSTOP). The test disconnects (Ctrl+D) and connects again (Ctrl+N,
   Enter): the TCP connect completes in the kernel, but the TLS handshake waits for the stopped
   server, so c_socket_connect blocks. While it does, the window must keep painting frames
   (counted by the app from its frame clock) and answer the dumps; SCREENSHOT_PNG is saved
   then. Escape cancels the call: the window says so and is usable again.
4. The server continues; the window connects again and is told when the server shuts down
   (SIGTERM). A connect to the closed port is refused, and the window says so. Ctrl+Q closes
   it; it must exit 0 with nothing on standard error.
Each step waits for its condition with a deadline; figures are printed, not asserted.
"""
import json
import os
import pathlib
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

import chat_util
from chat_util import DEADLINE, Proc, start_client, start_server

args = sys.argv[1:]
if args and args[0].startswith("--skip="):
    print("SKIP: " + args[0][len("--skip="):])
    sys.exit(77)
chatter_gtk, server_path, client_path, screenshot = args
if chatter_gtk == "none":
    print("SKIP: chatter-gtk was not built (GTK 4 or JSON-GLib not found; Debian: libgtk-4-dev "
          "libjson-glib-dev)")
    sys.exit(77)
missing = [tool for tool in ("Xvfb", "xdotool", "xmodmap") if shutil.which(tool) is None]
if missing:
    print("SKIP: %s not found (Debian: xvfb, xdotool, x11-xserver-utils)" % ", ".join(missing))
    sys.exit(77)

from tls_certs import certs_dir, python_server_context  # noqa: E402 (after the skips: it needs the test's env)

NAME = "Zoë"
MESSAGE = "café, 한글: hello from the window"
REPLY = "안녕 Zoë, bob here"
HALVES = "stall: this line came in two halves"
TYPED = "typed while blocked"
started = time.monotonic()
figures = []


def start_xvfb(workdir):
    """Xvfb on a display number it chooses itself (-displayfd): no fixed display, no guess."""
    read_end, write_end = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1024x768x24",
                             "-nolisten", "tcp", "-noreset"], pass_fds=[write_end],
                            stdout=subprocess.DEVNULL, stderr=open(workdir / "xvfb.log", "w"))
    os.close(write_end)
    number = b""
    end = time.monotonic() + DEADLINE
    while not number.endswith(b"\n"):
        ready, _, _ = select.select([read_end], [], [], max(0.0, end - time.monotonic()))
        chunk = os.read(read_end, 64) if ready else b""
        if not chunk:
            xvfb.kill()
            raise AssertionError("Xvfb did not start: %s" % (workdir / "xvfb.log").read_text())
        number += chunk
    os.close(read_end)
    return xvfb, ":" + number.decode().strip()


def map_keys(env, text):
    """Gives every non-ASCII character of text a keycode of its own before the window starts,
    so that xdotool types it with the keymap the window already has (xdotool's own way, a
    keycode remapped for each character and put back at once, can lose the first one)."""
    table = subprocess.run(["xmodmap", "-pke"], env=env, capture_output=True, text=True,
                           check=True, timeout=DEADLINE).stdout
    free = [m.group(1) for m in re.finditer(r"^keycode\s+(\d+) =\s*$", table, re.MULTILINE)]
    wanted = sorted({c for c in text if ord(c) > 127})
    assert len(free) >= len(wanted), "not enough free keycodes: %s" % table
    expressions = []
    for keycode, char in zip(free, wanted):
        expressions += ["-e", "keycode %s = U%04X" % (keycode, ord(char))]
    subprocess.run(["xmodmap"] + expressions, env=env, check=True, timeout=DEADLINE)


class FakeServer:
    """A TLS chat server that sends what the test tells it to, when it tells it to."""

    def __init__(self, certs):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.context = python_server_context(certs)
        self.connection = None
        self.received = b""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.connection is not None:
            self.connection.close()
        self.listener.close()

    def accepted(self):
        if self.connection is not None:
            self.connection.close()
        self.listener.settimeout(DEADLINE)
        raw, _ = self.listener.accept()
        raw.settimeout(DEADLINE)
        self.connection = self.context.wrap_socket(raw, server_side=True)

    def send(self, data):
        self.connection.sendall(data)

    def expect(self, wanted):
        end = time.monotonic() + DEADLINE
        while wanted not in self.received:
            assert time.monotonic() < end, "never received %r: %r" % (wanted, self.received)
            more = self.connection.recv(65536)
            assert more, "closed before %r came: %r" % (wanted, self.received)
            self.received += more

    def drop(self):
        """Closes the connection without TLS's close_notify (Python sends none on close)."""
        self.connection.close()
        self.connection = None

    def expect_closed(self):
        try:
            while self.connection.recv(65536):
                pass
        except (ConnectionResetError, ssl.SSLError):
            pass


class Window:
    """chatter-gtk, read through its state dump and typed into with xdotool."""

    def __init__(self, args, env, workdir):
        self.env = env
        self.state_file = workdir / "state.json"
        self.proc = Proc(args + ["--state-file", self.state_file, "--screenshot-file", screenshot],
                         env=env)
        self.last = None
        self.answered_while_blocked = 0  # dumps the window wrote during a blocking call
        # The first state is written once the signal handlers are in place.
        self.poll_file(lambda s: True, "the first state file")

    def poll_file(self, ready, what):
        end = time.monotonic() + DEADLINE
        while True:
            if self.proc.process.poll() is not None:
                raise AssertionError("chatter-gtk exited (%s) waiting for %s\n%s" % (
                    self.proc.process.returncode, what, self.proc.describe()))
            try:
                state = json.loads(self.state_file.read_text(encoding="utf-8"))
                if ready(state):
                    self.last = state
                    return state
            except (FileNotFoundError, json.JSONDecodeError):
                pass  # not written yet (each write replaces the file whole)
            if time.monotonic() > end:
                raise AssertionError("chatter-gtk: no %s within %.0f s; last state:\n%s" % (
                    what, DEADLINE, json.dumps(self.last, indent=1, ensure_ascii=False)))
            time.sleep(0.01)  # polling the file, with a deadline

    def state(self, request=signal.SIGUSR1, counter="dumps"):
        """A fresh state: asks for one and waits until the file says it answered."""
        before = self.last[counter] if self.last else 0
        os.kill(self.proc.process.pid, request)
        state = self.poll_file(lambda s: s[counter] > before, "answer to %s" % request.name)
        self.answered_while_blocked += state["window"]["blocking"]
        return state

    def wait_for(self, condition, what):
        """Asks for the state until condition(window state) holds, within the deadline."""
        end = time.monotonic() + DEADLINE
        while True:
            state = self.state()["window"]
            if condition(state):
                return state
            if time.monotonic() > end:
                raise AssertionError("chatter-gtk: not %s within %.0f s; last state:\n%s" % (
                    what, DEADLINE, json.dumps(state, indent=1, ensure_ascii=False)))
            time.sleep(0.02)  # the next poll, with the deadline above

    def screenshot(self):
        state = self.state(signal.SIGUSR2, "screenshots")
        assert state["screenshot_problem"] is None, state["screenshot_problem"]

    def xdotool(self, *args):
        subprocess.run(["xdotool"] + list(args), env=self.env, check=True, timeout=DEADLINE)

    def type(self, text):
        self.xdotool("type", "--delay", "5", text)

    def key(self, *keys):
        self.xdotool("key", *keys)


def lines(state, kind=None):
    return [l["text"] for l in state["conversation"] if kind is None or l["kind"] == kind]


def dialog_ready(state):
    d = state["dialog"]
    return d["visible"] and d["active"] and d["focus"] == "name-entry"


def connected(state):
    return (state["link"] == "connected" and state["active"]
            and state["focus"] == "message-entry" and state["wait"] is None)


def main(workdir):
    certs = certs_dir()
    xvfb, display = start_xvfb(workdir)
    procs = []
    try:
        # X11 under Xvfb, drawn in software (Xvfb has no GPU), no accessibility bus to find.
        env = dict(os.environ, DISPLAY=display, GDK_BACKEND="x11", GSK_RENDERER="cairo",
                   LC_ALL="C.UTF-8", GTK_A11Y="none")
        env.pop("WAYLAND_DISPLAY", None)
        map_keys(env, NAME + MESSAGE)
        server, port = start_server(server_path, "mfc", "--tls-certificate",
                                    certs / "server.pem", "--tls-key", certs / "server.key")
        procs.append(server)
        # bob's terminal speaks UTF-8, whatever the test runner's locale.
        bob = start_client(client_path, "mfc", port, "bob", "--tls", "--tls-ca",
                           certs / "ca.pem", interactive=True,
                           env=dict(os.environ, LC_ALL="C.UTF-8"))
        procs.append(bob)
        bob.wait_line(r"^\*\*\* connected to 127\.0\.0\.1 port \d+ as bob, over TLS$")

        window = Window([chatter_gtk, "--host", "127.0.0.1", "--port", port, "--tls",
                         "--tls-ca", certs / "ca.pem", "--timeout", "30000"], env, workdir)
        procs.append(window.proc)

        # 1. The dialog, from the keyboard: a name, the MFC box by its mnemonic, Enter.
        state = window.wait_for(dialog_ready, "showing the connect dialog, name field focused")
        assert state["dialog"]["tls"] and not state["dialog"]["mfc"], state["dialog"]
        window.type(NAME)
        window.key("alt+m")
        window.wait_for(lambda s: s["dialog"]["name"] == NAME and s["dialog"]["mfc"],
                        "holding the typed name and MFC's format")
        window.key("Return")
        state = window.wait_for(connected, "connected, with the message entry focused")
        assert not state["dialog"]["visible"], state["dialog"]

        # 2. A message typed and sent with Enter reaches bob through the server; bob's reply
        # shows in the window.
        window.type(MESSAGE)
        window.wait_for(lambda s: s["entry"] == MESSAGE, "holding the typed message")
        window.key("Return")
        bob.wait_line("^%s$" % re.escape("%s: %s" % (NAME, MESSAGE)))
        bob.say(REPLY)
        state = window.wait_for(lambda s: "bob: " + REPLY in lines(s, "line"),
                                "showing bob's reply")
        assert lines(state, "line") == ["%s: %s" % (NAME, MESSAGE), "bob: " + REPLY], state
        assert state["entry"] == "", state
        # The conversation is text to select: Shift+Tab from the entry reaches it, Ctrl+A
        # selects all of it (as it shows), Tab goes back to the entry.
        window.key("shift+Tab")
        window.wait_for(lambda s: s["focus"] == "conversation-view", "focusing the conversation")
        window.key("ctrl+a")
        state = window.wait_for(lambda s: s["selection"] is not None, "selecting the conversation")
        assert state["selection"] == "\n".join(lines(state)), state
        window.key("Tab")
        window.wait_for(lambda s: s["focus"] == "message-entry", "focusing the entry again")

        # 3. The server stalls; a new connect blocks in its TLS handshake.
        os.kill(server.process.pid, signal.SIGSTOP)
        window.key("ctrl+d")
        window.wait_for(lambda s: s["link"] == "disconnected"
                        and "You left the conversation." in lines(s, "note"), "disconnected")
        window.key("ctrl+n")
        window.wait_for(dialog_ready, "showing the connect dialog again")
        window.key("Return")
        state = window.wait_for(lambda s: s["wait"] is not None and s["wait"]["frames"] >= 30,
                                "painting 30 frames while the connect blocks")
        assert state["blocking"] and state["wait"]["call"] == "connect", state
        assert state["spinning"] and state["cancel_shown"], state
        assert state["status"].startswith("Waiting for the server to connect"), state["status"]
        assert state["focus"] == "cancel-button", state["focus"]
        window.screenshot()
        state = window.wait_for(lambda s: s["wait"] is not None, "still blocked")
        frames_at_screenshot = state["wait"]["frames"]
        window.key("Escape")
        state = window.wait_for(lambda s: s["wait"] is None and not s["blocking"],
                                "done waiting after Escape")
        waited = state["last_wait"]
        assert waited["call"] == "connect" and waited["frames"] >= frames_at_screenshot, waited
        assert lines(state)[-1] == "Could not connect: connect: the blocking call was cancelled", (
            lines(state))
        assert state["link"] == "disconnected" and not state["spinning"], state
        figures.append("blocked connect: %.0f ms, %d frames painted meanwhile (%.0f per second), "
                       "%d frame clock updates" % (
                           waited["ms"], waited["frames"], waited["frames"] * 1e3 / waited["ms"],
                           waited["ticks"]))

        # 4. The server goes on: connect again, then its shutdown, then a refused connect.
        os.kill(server.process.pid, signal.SIGCONT)
        window.key("ctrl+n")
        window.wait_for(dialog_ready, "showing the connect dialog a third time")
        window.key("Return")
        window.wait_for(connected, "connected again")
        server.process.send_signal(signal.SIGTERM)
        closed = "The server closed the conversation: the server is shutting down."
        state = window.wait_for(lambda s: closed in lines(s, "note"), "told of the shutdown")
        assert state["link"] == "disconnected", state
        assert server.finish() == 0, server.describe()
        assert bob.finish() == 0, bob.describe()
        window.key("ctrl+n")
        window.wait_for(dialog_ready, "showing the connect dialog a fourth time")
        window.key("Return")
        refused = "Could not connect: connect to 127.0.0.1:%s: Connection refused" % port
        state = window.wait_for(lambda s: refused in lines(s, "error"), "told of the refusal")
        assert state["link"] == "disconnected", state

        # 5. A server that stalls in the middle of a message: the archive's read of the rest
        # blocks inside on_receive (CHATTER's trap). The window keeps painting, and takes
        # typing: a line sent meanwhile waits and goes once the message is whole.
        with FakeServer(certs) as fake:
            window.key("ctrl+n")
            window.wait_for(dialog_ready, "showing the connect dialog a fifth time")
            window.key("alt+p", "ctrl+a")
            window.type(str(fake.port))
            window.wait_for(lambda s: s["dialog"]["port"] == str(fake.port), "holding the port")
            window.key("Return")
            fake.accepted()  # the handshake, with the window's blocking connect
            window.wait_for(connected, "connected to the stalling server")
            first = chat_util.encode_message("mfc", False, "", [HALVES])
            fake.send(first[:len(first) // 2])
            state = window.wait_for(lambda s: s["wait"] is not None and s["wait"]["frames"] >= 30,
                                    "painting 30 frames while the receive blocks")
            assert state["wait"]["call"] == "receive" and state["spinning"], state
            assert state["focus"] == "message-entry" and state["entry_sensitive"], state
            window.type(TYPED)
            window.wait_for(lambda s: s["entry"] == TYPED, "taking typing while blocked")
            window.key("Return")
            state = window.wait_for(lambda s: s["entry"] == "", "taking Enter while blocked")
            assert state["blocking"] and state["wait"]["call"] == "receive", state
            fake.send(first[len(first) // 2:])
            state = window.wait_for(lambda s: HALVES in lines(s, "line"), "showing the message")
            waited = state["last_wait"]
            figures.append("blocked receive: %.0f ms, %d frames painted meanwhile" % (
                waited["ms"], waited["frames"]))
            # The line typed during the wait has gone out after it, in MFC's bytes (a
            # non-ASCII CString is UTF-16LE there).
            fake.expect(("%s: %s" % (NAME, TYPED)).encode("utf-16-le"))
            second = chat_util.encode_message("mfc", False, "", ["never whole"])
            fake.send(second[:3])
            window.wait_for(lambda s: s["wait"] is not None and s["wait"]["call"] == "receive",
                            "blocked in a receive again")
            window.key("Escape")
            state = window.wait_for(lambda s: s["link"] == "disconnected", "giving up the receive")
            assert lines(state, "error")[-1].startswith("Receiving: "), lines(state)
            assert "cancelled" in lines(state, "error")[-1], lines(state)
            fake.expect_closed()

            # 6. A server that drops the connection without a word: the window says so.
            window.key("ctrl+n")
            window.wait_for(dialog_ready, "showing the connect dialog a sixth time")
            window.key("Return")
            fake.accepted()
            window.wait_for(connected, "connected to the server that will drop it")
            fake.drop()
            state = window.wait_for(lambda s: s["link"] == "disconnected", "noticing the drop")
            dropped = lines(state, "error")[-1]
            assert dropped.startswith(("The connection was lost: ",
                                       "The server hung up without closing")), lines(state)
        figures.append("state dumps the window wrote while a call blocked: %d"
                       % window.answered_while_blocked)
        figures.extend(["the window's conversation at the end:"] + [
            "  [%s] %s" % (line["kind"], line["text"]) for line in state["conversation"]])

        window.key("ctrl+q")
        assert window.proc.finish() == 0, window.proc.describe()
        assert window.proc.err() == [], window.proc.describe()
    finally:
        for proc in procs:
            if proc.process.poll() is not None:
                continue
            try:
                proc.process.send_signal(signal.SIGCONT)
            except ProcessLookupError:
                pass
            proc.kill()
        xvfb.terminate()
        xvfb.wait(timeout=DEADLINE)


with tempfile.TemporaryDirectory(prefix="chatter-gtk-") as tmp:
    main(pathlib.Path(tmp))
for figure in figures:
    print(figure)
print("screenshot: %s" % screenshot)
print("took %.1f s" % (time.monotonic() - started))
print("1 passed, 0 failed")
