#!/usr/bin/python3
"""Real local servers for the service-check tests, all on 127.0.0.1 with kernel-chosen ports.

HTTP and HTTPS (self-signed cert given on the command line) via http.server, and a gRPC server
(Debian python3-grpcio) implementing grpc.health.v1.Health/Check with raw protobuf bytes, so no
generated code is needed. Prints one line "ports <http> <https> <grpc>" then serves until stdin
closes or --max-seconds passes.

  check_servers.py CERT KEY [--max-seconds 120]
"""
import http.server
import ssl
import sys
import threading
import time
from concurrent import futures

import grpc


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, code, body=b""):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        if self.path == "/ok":
            self.reply(200, b"edgemon ok")
        elif self.path == "/status/500":
            self.reply(500, b"broken")
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/ok")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/slow":
            time.sleep(2)
            self.reply(200, b"late")
        elif self.path == "/header":
            self.reply(200 if self.headers.get("X-Edgemon") == "yes" else 400, b"hdr")
        else:
            self.reply(404, b"nope")

    do_HEAD = do_GET

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(n)
        self.reply(201 if data == b"ping" else 400, b"posted " + data)


def serve(server):
    threading.Thread(target=server.serve_forever, daemon=True).start()


# HealthCheckResponse.status: 1 SERVING, 2 NOT_SERVING, 3 SERVICE_UNKNOWN (field 1, varint).
def check(request, context):
    service = request[2:].decode() if len(request) > 2 else ""
    if service in ("", "edgemon.ok"):
        return b"\x08\x01"
    if service == "edgemon.down":
        return b"\x08\x02"
    context.abort(grpc.StatusCode.NOT_FOUND, "unknown service")


def main():
    cert, key = sys.argv[1], sys.argv[2]
    max_seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 120.0
    http_srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    https_srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    https_srv.socket = ctx.wrap_socket(https_srv.socket, server_side=True)
    serve(http_srv)
    serve(https_srv)
    grpc_srv = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    handler = grpc.method_handlers_generic_handler(
        "grpc.health.v1.Health", {"Check": grpc.unary_unary_rpc_method_handler(check)})
    grpc_srv.add_generic_rpc_handlers((handler,))
    grpc_port = grpc_srv.add_insecure_port("127.0.0.1:0")
    grpc_srv.start()
    print("ports %d %d %d" % (http_srv.server_address[1], https_srv.server_address[1], grpc_port), flush=True)
    deadline = time.time() + max_seconds
    while time.time() < deadline:
        if sys.stdin.readline() == "":
            break
    grpc_srv.stop(0)


if __name__ == "__main__":
    main()
