"""Serve Keystone's WSGI application on a loopback port (run with Keystone's own Python).

Usage: python keystone_server.py CONFIG_FILE PORT
"""

import os
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):  # noqa: ANN002 - keep the test output clean
        pass


class _ThreadedServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def main() -> None:
    config, port = sys.argv[1], int(sys.argv[2])
    os.environ["OS_KEYSTONE_CONFIG_FILES"] = config
    sys.argv = sys.argv[:1]  # Keystone parses the command line with oslo.config
    from keystone.server.wsgi import initialize_public_application

    app = initialize_public_application()
    server = make_server("127.0.0.1", port, app, server_class=_ThreadedServer,
                         handler_class=_Quiet)
    server.serve_forever()


if __name__ == "__main__":
    main()
