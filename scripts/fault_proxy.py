#!/usr/bin/env python3
"""A fault-injecting HTTP proxy on 127.0.0.1 between ferry and the emulator.

Each request ferry sends is, at a set rate drawn from a fixed seed: dropped
with a connection reset, answered 500/503, answered with the protocol's
throttling error, delayed, or forwarded with its response cut short (the
upstream *did* act: the case that makes retries of mutating calls
dangerous). Everything else is forwarded unchanged.

    fault_proxy.py --port P --upstream http://127.0.0.1:5000 --seed 7 \
        --reset 0.02 --error 0.02 --throttle 0.03 --slow 0.03 --truncate 0.01 \
        --stats stats.json

The counts of what was injected are written to --stats after every request,
so a harness can print them.
"""

import argparse
import http.client
import http.server
import json
import random
import socket
import struct
import sys
import threading
import time
import urllib.parse

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"}


class Faults:
    def __init__(self, args):
        self.random = random.Random(args.seed)
        self.lock = threading.Lock()
        self.rates = [
            ("reset", args.reset),
            ("error", args.error),
            ("throttle", args.throttle),
            ("slow", args.slow),
            ("truncate", args.truncate),
        ]
        self.counts = {name: 0 for name, _ in self.rates}
        self.counts["forwarded"] = 0
        self.stats = args.stats

    def draw(self):
        with self.lock:
            roll = self.random.random()
            slow_for = self.random.uniform(0.2, 1.5)
            status = 500 if self.random.random() < 0.5 else 503
        edge = 0.0
        for name, rate in self.rates:
            edge += rate
            if roll < edge:
                return name, slow_for, status
        return None, 0.0, status

    def count(self, name):
        with self.lock:
            self.counts[name] += 1
            if self.stats:
                with open(self.stats, "w") as f:
                    json.dump(self.counts, f)


def error_body(json_protocol, code, message):
    if json_protocol:
        return json.dumps({"__type": code, "message": message}).encode(), "application/x-amz-json-1.1"
    xml = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
        f"<Message>{message}</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>"
    )
    return xml.encode(), "text/xml"


def make_handler(upstream, faults):
    target = urllib.parse.urlparse(upstream)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            fault, slow_for, server_error = faults.draw()
            json_protocol = "json" in (self.headers.get("Content-Type") or "")
            if fault == "reset":
                faults.count("reset")
                self.close_connection = True
                try:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                except OSError:
                    pass
                return
            if fault == "error":
                faults.count("error")
                status = server_error
                code = "InternalFailure" if status == 500 else "ServiceUnavailable"
                return self.reply(status, *error_body(json_protocol, code, "injected by fault_proxy"))
            if fault == "throttle":
                faults.count("throttle")
                code = "ThrottlingException" if json_protocol else "Throttling"
                return self.reply(400, *error_body(json_protocol, code, "Rate exceeded"))
            if fault == "slow":
                faults.count("slow")
                time.sleep(slow_for)
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=120)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            try:
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
            except OSError as e:
                return self.reply(502, *error_body(json_protocol, "BadGateway", str(e)))
            finally:
                connection.close()
            if fault == "truncate" and len(data) > 8:
                faults.count("truncate")
                self.head_of(response, len(data))
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            if fault is None:
                faults.count("forwarded")
            self.head_of(response, len(data))
            if self.command != "HEAD":
                self.wfile.write(data)

        def head_of(self, response, length):
            """The upstream's status and headers, announcing `length` bytes."""
            self.send_response(response.status)
            for k, v in response.getheaders():
                if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                    self.send_header(k, v)
            self.send_header("Content-Length", str(length))
            self.end_headers()

        def reply(self, status, body, content_type):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-amzn-RequestId", "fault-proxy")
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = handle_any

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--seed", type=int, default=1)
    for name in ["reset", "error", "throttle", "slow", "truncate"]:
        parser.add_argument(f"--{name}", type=float, default=0.0)
    parser.add_argument("--stats")
    args = parser.parse_args()
    if not args.upstream.startswith(("http://127.0.0.1", "http://localhost")):
        sys.exit("fault_proxy: the upstream must be on loopback")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(args.upstream, Faults(args)))
    server.daemon_threads = True
    print(f"fault_proxy listening on 127.0.0.1:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
