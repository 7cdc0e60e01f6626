#!/usr/bin/env python3
"""The article's server as a benchmark baseline: one client at a time, blocking calls only.

Python's standard library and nothing else: bind with SO_REUSEADDR, listen, then an accept loop
that greets the client (sendall, the greeting plus a newline), receives one line (up to
--max-bytes, with a per-client --timeout so that a silent client cannot hold the loop forever)
and closes. While it waits for one client's line, every other client waits in the kernel's
accept queue: that is the behaviour the benchmark measures against.

Differences from the article, each so that the comparison is about blocking and not about
something else: the greeting ends with a newline (the line protocol the other servers speak),
the reply is read up to a newline rather than with one recv(1024), a client that fails is
closed and the loop goes on, nothing is printed per client (the Node servers under test log
nothing either), and the listen backlog is a flag (the article used 1; the benchmark passes
the same backlog as the Node servers, so that clients are not refused for a reason that has
nothing to do with blocking).

It prints `listening <port>` on stdout once it listens (port 0 asks the kernel for a free
port) and exits 0 on SIGTERM or SIGINT.
"""

import argparse
import signal
import socket
import sys


def read_line(client, max_bytes):
    """Receives until a newline, max_bytes, the client's end of stream or the timeout."""
    data = b""
    while len(data) < max_bytes and b"\n" not in data:
        chunk = client.recv(max_bytes - len(data))
        if not chunk:
            break
        data += chunk
    return data.split(b"\n", 1)[0]


def serve(args):
    greeting = (args.greeting + "\n").encode("utf-8")
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((args.host, args.port))
    server.listen(args.backlog)
    print("listening %d" % server.getsockname()[1], flush=True)
    while True:
        client, _addr = server.accept()
        try:
            client.settimeout(args.timeout)
            client.sendall(greeting)
            read_line(client, args.max_bytes)
        except OSError:
            # A reset, a broken pipe or the timeout: that client is done, the loop goes on.
            pass
        finally:
            client.close()


def main():
    parser = argparse.ArgumentParser(description="blocking one-client-at-a-time greeting server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--greeting", default="Hey What's up?")
    parser.add_argument("--backlog", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds a client has to reply")
    parser.add_argument("--max-bytes", type=int, default=4096)
    args = parser.parse_args()

    def stop(_signum, _frame):
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    serve(args)


if __name__ == "__main__":
    main()
