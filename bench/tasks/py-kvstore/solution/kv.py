import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STORE = {}
KEY = re.compile(r"^/kv/([A-Za-z0-9_-]+)$")


class Handler(BaseHTTPRequestHandler):
    def send(self, status, body=b""):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def key(self):
        m = KEY.match(self.path)
        return m.group(1) if m else None

    def do_GET(self):
        if self.path == "/health":
            return self.send(200, b"ok")
        key = self.key()
        if key is None or key not in STORE:
            return self.send(404)
        self.send(200, STORE[key])

    def do_PUT(self):
        key = self.key()
        if key is None:
            return self.send(404)
        length = int(self.headers.get("Content-Length") or 0)
        STORE[key] = self.rfile.read(length)
        self.send(204)

    def do_DELETE(self):
        key = self.key()
        if key is None or key not in STORE:
            return self.send(404)
        del STORE[key]
        self.send(204)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    print("listening on 8080")
    ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
