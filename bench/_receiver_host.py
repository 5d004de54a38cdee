"""Serve the callback receiver, or a bare endpoint at the same path, on a loopback port (for ``receipt_callbacks.py``).

``python bench/_receiver_host.py receiver|bare PORT`` prints ``ready`` once listening and serves
until killed. Both run under uvicorn with the same settings, mounted at ``/sms-callbacks`` in an
outer FastAPI app as Airflow's API server mounts plugin apps:

* ``receiver`` - the provider's receiver (``create_app()``): secret check, body limit, Skycore
  postback parsing, the write to the receipts store (SQLite from ``AIRFLOW_CONN_SMS_JOURNAL_DEFAULT``);
* ``bare`` - one route at the same path that reads the body and answers ``200 OK``.
"""

from __future__ import annotations

import sys
import threading

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse

from airflow_provider_sms.receipts.serve import ReceiverServer, mounted_app


def bare_app() -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/skycore/{conn_id}/postback")
    async def postback(request: Request, conn_id: str) -> PlainTextResponse:
        await request.body()
        return PlainTextResponse("OK")

    return app


def main() -> None:
    mode, port = sys.argv[1], int(sys.argv[2])
    inner = bare_app() if mode == "bare" else None
    ReceiverServer(mounted_app(inner), port=port).start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
