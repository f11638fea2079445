"""Serves a directory on 127.0.0.1 at a free port for the end-to-end tests.

Prints "port N" once listening. Dies with the process that started it (PR_SET_PDEATHSIG), so a
test runner killed on a timeout cannot leave a server behind. Logs only failed requests.
"""

import ctypes
import functools
import http.server
import signal
import sys

PR_SET_PDEATHSIG = 1


class Handler(http.server.SimpleHTTPRequestHandler):
    def log_request(self, code="-", size="-"):
        if isinstance(code, int) and code >= 400:
            super().log_request(code, size)


def main():
    directory = sys.argv[1]
    try:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the harness still stops the server in its `after` hooks
    handler = functools.partial(Handler, directory=directory)
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        print(f"port {server.server_address[1]}", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
