"""The Lambda host: the app's non-HTTP entry points, served through the Lambda Invoke API.

`chalice local` serves routes only, so this process imports the same app.py and runs
`connect_stream_handler`, `attachment_scanner` and `ivr_decryptor` with the `local` stage's
environment (resolved by Chalice's own config loader, like `chalice deploy` does) and a Lambda
context carrying the configured timeout. One container per function: calls to one function run one
at a time, calls to different functions run side by side (the stream handler may trigger a scan).

    python -m sandbox.lambda_host --port 0      # prints {"lambda_host": "<url>"} when listening
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sandbox.httpkit import Request, Response, Router, serve, url_of

PROJECT_DIR = Path(__file__).resolve().parent.parent
STAGE = "local"


def build_router(app, config) -> Router:
    from chalice.app import EventSourceHandler, LambdaFunction
    from chalice.local import LambdaContext

    # Chalice annotates a handler's context as a dict; Lambda (and chalice.local) pass a LambdaContext object.
    functions: dict[str, Callable[[dict[str, Any], Any], Any]] = {
        name: handler
        for name, handler in app.handler_map.items()
        if isinstance(handler, (LambdaFunction, EventSourceHandler))
    }  # not the routes
    locks = {name: threading.Lock() for name in functions}
    routes = Router()

    def invoke(request: Request) -> Response:
        name = request.params["name"]
        handler = functions.get(name)
        if handler is None:
            return Response.json(
                {"Type": "User", "message": f"Function not found: {name}"},
                404,
                {"x-amzn-ErrorType": "ResourceNotFoundException"},
            )
        scoped = config.scope(STAGE, name)
        context = LambdaContext(
            name, memory_size=scoped.lambda_memory_size, max_runtime_ms=(scoped.lambda_timeout or 60) * 1000
        )
        event = request.json()
        with locks[name]:
            try:
                result = handler(event, context)
            except Exception as exc:  # the function's error, reported like Lambda (type only: no data)
                return Response.json(
                    {"errorType": type(exc).__name__, "errorMessage": "function error"},
                    200,
                    {"X-Amz-Function-Error": "Unhandled"},
                )
        return Response.json(result)

    routes.add("POST", "/2015-03-31/functions/{name}/invocations", invoke)
    routes.add("GET", "/health", lambda request: Response.json({"functions": sorted(functions)}))
    return routes


def stage_environment(config, functions) -> dict[str, str]:
    """The variables every function of the stage gets (they are one process here)."""
    merged: dict[str, str] = {}
    for name in functions:
        for key, value in config.scope(STAGE, name).environment_variables.items():
            if merged.get(key, value) != value:
                print(f"lambda_host: {key} differs between functions; using the first value", file=sys.stderr)
                continue
            merged.setdefault(key, value)
    return merged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    from chalice.cli.factory import CLIFactory

    config = CLIFactory(str(PROJECT_DIR)).create_config_obj(chalice_stage_name=STAGE)
    # Stage variables must be in place before app.py is imported (the SNS topic is read at import).
    os.environ.update(config.scope(STAGE, "api_handler").environment_variables)
    sys.path.insert(0, str(PROJECT_DIR))
    from app import app

    os.environ.update(stage_environment(config, app.handler_map))
    server = serve("lambda-host", args.host, args.port, build_router(app, config))
    print(json.dumps({"lambda_host": url_of(server)}), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
