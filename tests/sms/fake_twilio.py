"""A local stand-in for Twilio's Messages API, reached by the real ``twilio`` client through
TWILIO_API_BASE. It records every request and answers as scripted: 201 with a message SID, an HTTP
status (429, 500), a Twilio error code, or a dropped connection."""

import itertools
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeTwilio:
    def __init__(self):
        self.requests: list[dict] = []
        self.script: list = []  # answers for the next requests, in order; then 201
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                with fake.lock:
                    fake.requests.append({"path": self.path, "form": form, "auth": self.headers.get("Authorization")})
                    answer = fake.script.pop(0) if fake.script else 201
                    sid = f"SM{next(fake.ids):032x}"
                if answer == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if answer == 201:
                    status, body = 201, {"sid": sid, "status": "queued", "to": form.get("To"), "body": form.get("Body")}
                elif isinstance(answer, int) and answer >= 10000:
                    status, body = 400, {"code": answer, "message": f"error {answer}", "status": 400}
                else:
                    status, body = (
                        answer,
                        {"code": 20429 if answer == 429 else 20500, "message": "busy", "status": answer},
                    )
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        # A short poll, so shutdown() returns at once instead of after the default 0.5 s poll.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    @property
    def sent(self) -> list[dict]:
        return [r["form"] for r in self.requests]
