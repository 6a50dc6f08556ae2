"""A visit counter: every GET / adds one to a counter kept in Redis."""

import os
import signal
import sys

from flask import Flask
from redis import Redis

app = Flask(__name__)
redis = Redis(
    host=os.environ.get("REDIS_HOST", "redis"),
    port=int(os.environ.get("REDIS_PORT", "6379")),
    socket_connect_timeout=2,
    socket_timeout=2,
)


@app.get("/")
def index():
    count = redis.incr("hits")
    return f"Hello from Flask behind Nginx! This page has been seen {count} times.\n"


@app.get("/health")
def health():
    # Healthy only while Redis answers: the counter is useless without it.
    redis.ping()
    return "ok\n"


def _stop(signum, frame):
    # As PID 1 the interpreter would otherwise ignore SIGTERM, and every
    # stop would wait for the engine's timeout before a SIGKILL.
    sys.exit(0)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _stop)
    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", "5000")))
