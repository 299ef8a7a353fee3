"""
The quick start's web application: it keeps a list of tasks, serves the
page, answers the list together with a DataSync subscription, and tells
Snorky about every change.

    .venv/bin/python -m examples.quickstart.web

It uses the standard library's WSGI server and Snorky's blocking backend
connector, ``SnorkyBackend``; any web framework would do the same.
"""

import argparse
import json
import os
import sys
import threading
from socketserver import ThreadingMixIn
from typing import Any, Dict, List
from wsgiref.simple_server import WSGIServer, make_server

from snorky.backend import (
    SUBSCRIPTION_TOKEN_HEADER,
    SnorkyBackend,
    SnorkyConnectorError,
    subscribe_if_asked,
)

PAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "index.html")


class Tasks:
    """
    The WSGI application: the tasks (in memory, for brevity) and the API.
    """

    def __init__(self, snorky: SnorkyBackend, snorky_address: str) -> None:
        self.snorky = snorky
        self.snorky_address = snorky_address
        self.tasks: Dict[int, Dict[str, Any]] = {}
        self.next_id = 1
        # One change at a time, stored and then published, so that the
        # deltas reach Snorky in the order of the changes.
        self.lock = threading.Lock()

    def __call__(self, environ: Dict[str, Any], start_response: Any) -> List[bytes]:
        method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
        try:
            if path == "/" and method == "GET":
                return self.page(start_response)
            if path == "/api/tasks" and method == "GET":
                return self.list_tasks(environ, start_response)
            if path == "/api/tasks" and method == "POST":
                return self.add_task(environ, start_response)
            task_id = path[len("/api/tasks/"):] if path.startswith("/api/tasks/") else ""
            if task_id.isdigit() and method == "PUT":
                return self.update_task(int(task_id), environ, start_response)
            if task_id.isdigit() and method == "DELETE":
                return self.delete_task(int(task_id), start_response)
        except KeyError:
            return self.answer(start_response, {"error": "No such task"}, "404 Not Found")
        except ValueError as e:
            return self.answer(start_response, {"error": str(e)}, "400 Bad Request")
        except SnorkyConnectorError as e:
            return self.answer(start_response, {"error": str(e)}, "503 Service Unavailable")
        return self.answer(start_response, {"error": "Not found"}, "404 Not Found")

    def page(self, start_response: Any) -> List[bytes]:
        # The page, with the address where browsers reach Snorky.
        with open(PAGE, encoding="utf-8") as f:
            page = f.read().replace("{{SNORKY}}", self.snorky_address)
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [page.encode("utf-8")]

    def list_tasks(self, environ: Dict[str, Any], start_response: Any) -> List[bytes]:
        # Authorize the subscription first, then read the data: a change
        # made in between reaches the page as a delta, never gets lost.
        token = subscribe_if_asked(self.snorky, environ, [{"dealer": "all_tasks", "query": None}])
        with self.lock:
            tasks = list(self.tasks.values())
        headers = [(SUBSCRIPTION_TOKEN_HEADER, token)] if token else []
        return self.answer(start_response, tasks, headers=headers)

    def add_task(self, environ: Dict[str, Any], start_response: Any) -> List[bytes]:
        title = read_json(environ).get("title")
        if not isinstance(title, str) or not title.strip():
            raise ValueError("A task needs a title")
        with self.lock:
            task: Dict[str, Any] = {"id": self.next_id, "title": title.strip(), "done": False}
            self.next_id += 1
            self.tasks[task["id"]] = task
            self.snorky.publish_deltas([{"type": "insert", "model": "Task", "data": task}])
        return self.answer(start_response, task)

    def update_task(self, task_id: int, environ: Dict[str, Any], start_response: Any) -> List[bytes]:
        done = read_json(environ).get("done")
        if not isinstance(done, bool):
            raise ValueError("done is true or false")
        with self.lock:
            old = self.tasks[task_id]
            new = self.tasks[task_id] = dict(old, done=done)
            self.snorky.publish_deltas(
                [{"type": "update", "model": "Task", "oldData": old, "newData": new}]
            )
        return self.answer(start_response, new)

    def delete_task(self, task_id: int, start_response: Any) -> List[bytes]:
        with self.lock:
            old = self.tasks.pop(task_id)
            self.snorky.publish_deltas([{"type": "delete", "model": "Task", "data": old}])
        return self.answer(start_response, old)

    def answer(
        self, start_response: Any, data: Any, status: str = "200 OK", headers: Any = ()
    ) -> List[bytes]:
        start_response(status, [("Content-Type", "application/json")] + list(headers))
        return [json.dumps(data).encode("utf-8")]


def read_json(environ: Dict[str, Any]) -> Dict[str, Any]:
    """
    The request's JSON object.

    :raises ValueError: if it is not one.
    """
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    data = json.loads(body or b"null")
    if not isinstance(data, dict):
        raise ValueError("Send a JSON object")
    return data


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """
    One thread per request, so that a browser holding a connection open
    never blocks the others.
    """

    daemon_threads = True


def main() -> None:
    parser = argparse.ArgumentParser(prog=".venv/bin/python -m examples.quickstart.web")
    parser.add_argument("--port", type=int, default=8000, help="port of the page")
    parser.add_argument("--snorky", default="127.0.0.1:5001",
                        help="host:port where browsers reach Snorky")
    parser.add_argument("--backend", default="http://127.0.0.1:5002/backend",
                        help="Snorky's backend API")
    parser.add_argument("--key-file", default="key.txt", help="the backend key's file")
    args = parser.parse_args()
    try:
        with open(args.key_file, encoding="utf-8") as f:
            key = f.read().strip()
    except OSError as e:
        sys.exit("Cannot read the backend key: {} (create it as the README says)".format(e))
    app = Tasks(SnorkyBackend(args.backend, key), args.snorky)
    server = make_server("127.0.0.1", args.port, app, server_class=ThreadingWSGIServer)
    print("Quick start running: open http://127.0.0.1:{}/".format(server.server_port),
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
