"""The web application (Starlette): three pages and the JSON they read, all read-only.

    /            live plates, newest first, pushed as they happen (Server-Sent Events)
    /search      fuzzy search with time and camera filters, paged, CSV export
    /cameras     each camera's state from its health messages; a camera that is down shows on every page
    /event?key=  one event: crop, snapshot, candidates, watchlist matches

Everything is served from this package (no CDN: these machines are often offline). With a
token, every request needs it: `Authorization: Bearer TOKEN`, or `?token=TOKEN` once, which
sets a cookie. Only GET routes exist: the page changes nothing.
"""

from __future__ import annotations

import asyncio
import csv
import hmac
import io
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from store.db import EventStore, Sighting, StoreError
from stream.cli_search import parse_when
from web.bus import BusListener

STATIC = Path(__file__).parent / "static"
PAGES = {"/": "live.html", "/search": "search.html", "/cameras": "cameras.html", "/event": "event.html"}
COOKIE = "lpr_token"
MAX_CSV_ROWS = 10_000
KEEPALIVE_S = 15.0


class TokenMiddleware(BaseHTTPMiddleware):
    """Every request carries the token (header, cookie, or ?token= which then sets the cookie)."""

    def __init__(self, app, token: str) -> None:
        super().__init__(app)
        self.token = token

    async def dispatch(self, request: Request, call_next):
        given = request.query_params.get("token") or request.cookies.get(COOKIE, "")
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            given = header[7:]
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return PlainTextResponse("a token is required: open the page with ?token=...", status_code=401)
        response = await call_next(request)
        if request.query_params.get("token"):
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict")
        return response


def sighting_json(s: Sighting, alerts: list[dict]) -> dict:
    event = s.event
    return {
        "key": s.key,
        "camera": s.camera,
        "utc": s.utc,
        "text": s.text,
        "confidence": s.confidence,
        "char_confidences": event.get("char_confidences", []),
        "readable": s.readable,
        "region": s.region,
        "direction": event.get("direction", ""),
        "distance": s.distance,
        "crop": f"/media/{s.crop.relative_to(s.crop.parents[2])}" if s.crop else None,
        "snapshot": f"/media/{s.snapshot.relative_to(s.snapshot.parents[2])}" if s.snapshot else None,
        "alerts": alerts,
    }


def create_app(store_folder: str | Path, endpoint: str, token: str = "", server_key: str = "", client_key: str = ""):
    folder = Path(store_folder)
    state: dict = {}

    @asynccontextmanager
    async def lifespan(_app) -> AsyncIterator[None]:
        state["bus"] = BusListener(endpoint, server_key, client_key)
        yield
        state["bus"].close()

    def open_store() -> EventStore | None:
        try:
            return EventStore(folder, readonly=True)
        except StoreError:
            return None  # no run has written a store yet: empty lists

    def with_alerts(store: EventStore, found: list[Sighting]) -> list[dict]:
        alerts = store.alerts_for([s.key for s in found])
        return [sighting_json(s, alerts.get(s.key, [])) for s in found]

    def page(request: Request) -> Response:
        return FileResponse(STATIC / PAGES[request.url.path])

    def latest(request: Request) -> Response:
        store = open_store()
        if store is None:
            return JSONResponse({"events": []})
        try:
            limit = min(int(request.query_params.get("limit", 50)), 500)
            found = store.latest(limit, request.query_params.get("camera") or None)
            return JSONResponse({"events": with_alerts(store, found)})
        finally:
            store.close()

    def search_args(request: Request) -> dict:
        q = request.query_params
        return {
            "query": q.get("q", ""),
            "max_distance": float(q.get("fuzzy", 1.0)),
            "since": parse_when(q["since"]) if q.get("since") else None,
            "until": parse_when(q["until"]) if q.get("until") else None,
            "camera": q.get("camera") or None,
        }

    def search(request: Request) -> Response:
        try:
            args = search_args(request)
            page_no = max(0, int(request.query_params.get("page", 0)))
            per_page = min(max(1, int(request.query_params.get("per_page", 25))), 200)
        except ValueError as err:
            return JSONResponse({"error": str(err)}, status_code=400)
        store = open_store()
        if store is None or not args["query"]:
            return JSONResponse({"events": [], "page": page_no, "more": False})
        try:
            found = store.search(**args, limit=(page_no + 1) * per_page + 1)
            shown = found[page_no * per_page : (page_no + 1) * per_page]
            return JSONResponse(
                {"events": with_alerts(store, shown), "page": page_no, "more": len(found) > (page_no + 1) * per_page}
            )
        finally:
            store.close()

    def search_csv(request: Request) -> Response:
        try:
            args = search_args(request)
        except ValueError as err:
            return PlainTextResponse(str(err), status_code=400)
        store = open_store()
        found = store.search(**args, limit=MAX_CSV_ROWS) if store and args["query"] else []
        if store:
            store.close()
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["distance", "utc", "camera", "text", "confidence", "readable", "region", "key"])
        for s in found:
            writer.writerow([s.distance, s.utc, s.camera, s.text, round(s.confidence, 4), s.readable, s.region, s.key])
        headers = {"Content-Disposition": 'attachment; filename="plates.csv"'}
        return Response(out.getvalue(), media_type="text/csv", headers=headers)

    def event(request: Request) -> Response:
        store = open_store()
        key = request.query_params.get("key", "")
        found = store.by_key(key) if store else None
        try:
            if store is None or found is None:
                return JSONResponse({"error": f"no event {key!r}"}, status_code=404)
            return JSONResponse(with_alerts(store, [found])[0] | {"event": found.event})
        finally:
            if store:
                store.close()

    def cameras(_request: Request) -> Response:
        bus = state["bus"]
        cameras = sorted(bus.cameras.values(), key=lambda c: c["camera_id"])
        return JSONResponse({"cameras": cameras, "missed_messages": bus.losses.missed})

    def media(request: Request) -> Response:
        relative = Path(request.path_params["path"])
        target = (folder / relative).resolve()
        if relative.parts[:1] not in (("crops",), ("snapshots",)) or folder.resolve() not in target.parents:
            return PlainTextResponse("not found", status_code=404)
        if not target.is_file():
            return PlainTextResponse("not found", status_code=404)
        return FileResponse(target, media_type="image/jpeg")

    async def stream(request: Request) -> Response:
        bus: BusListener = state["bus"]
        page_handle = bus.open_page()

        async def messages() -> AsyncIterator[str]:
            try:
                yield f"event: cameras\ndata: {json.dumps(list(bus.cameras.values()))}\n\n"
                while not await request.is_disconnected():
                    try:
                        message = await asyncio.wait_for(page_handle[1].get(), KEEPALIVE_S)
                    except TimeoutError:
                        yield ": keep-alive\n\n"
                        continue
                    yield f"event: {message['kind']}\ndata: {json.dumps(message, ensure_ascii=False)}\n\n"
            finally:
                bus.close_page(page_handle)

        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(messages(), media_type="text/event-stream", headers=headers)

    routes = [Route(path, page) for path in PAGES] + [
        Route("/api/latest", latest),
        Route("/api/search", search),
        Route("/api/search.csv", search_csv),
        Route("/api/event", event),
        Route("/api/cameras", cameras),
        Route("/api/stream", stream),
        Route("/media/{path:path}", media),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [Middleware(TokenMiddleware, token=token)] if token else []
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
