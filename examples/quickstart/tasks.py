"""
The quick start's script that changes the data, through the web
application's API like any other client:

    .venv/bin/python -m examples.quickstart.tasks add "Buy milk"
    .venv/bin/python -m examples.quickstart.tasks done 1
    .venv/bin/python -m examples.quickstart.tasks remove 1

Every page showing the list follows at once.
"""

import argparse
import json
import sys
import urllib.error
import urllib.request


def call(method: str, url: str, data: object = None) -> object:
    """
    Send *data* as JSON to *url*; return the answer's JSON.
    """
    body = None if data is None else json.dumps(data).encode("utf-8")
    request = urllib.request.Request(
        url, body, {"Content-Type": "application/json"}, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as e:
        sys.exit("{} {}: {}".format(method, url, json.load(e).get("error")))
    except urllib.error.URLError as e:
        sys.exit("Cannot reach the web application at {}: {}".format(url, e.reason))


def main() -> None:
    parser = argparse.ArgumentParser(prog=".venv/bin/python -m examples.quickstart.tasks")
    parser.add_argument("--web", default="http://127.0.0.1:8000", help="the web application")
    parser.add_argument("action", choices=["add", "done", "remove"])
    parser.add_argument("what", help="the new task's title, or the id of a task")
    args = parser.parse_args()
    tasks = args.web + "/api/tasks"
    if args.action == "add":
        task = call("POST", tasks, {"title": args.what})
    elif args.action == "done":
        task = call("PUT", "{}/{}".format(tasks, args.what), {"done": True})
    else:
        task = call("DELETE", "{}/{}".format(tasks, args.what))
    print(json.dumps(task))


if __name__ == "__main__":
    main()
