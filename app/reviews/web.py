"""GET /incidents/<id>/review.md: the published post-incident review, as Markdown."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from app.db import Database
from app.reviews.service import published_review

REVIEW_ROUTE = "/incidents/{incident_id:[0-9]{1,9}}/review.md"


def review_markdown(db: Database) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The handler: 404 for an unknown incident, before the review is published, and for private incidents."""

    async def serve(request: web.Request) -> web.Response:
        async with db.transaction() as session:
            review = await published_review(session, int(request.match_info["incident_id"]))
        if review is None or review.document is None:
            raise web.HTTPNotFound()
        return web.Response(text=review.document, content_type="text/markdown", charset="utf-8",
                            headers={"Content-Disposition": f'inline; filename="{review.filename}"'})

    return serve
