"""GET /incidents/<id>/review.md?expires=...&sig=...: the published post-incident review, as Markdown,
only through the signed link the bot posted (app/reviews/links.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from app.clock import Clock
from app.db import Database
from app.ops.refusals import refuse
from app.reviews.links import ReviewLinks
from app.reviews.service import published_review

REVIEW_ROUTE = "/incidents/{incident_id:[0-9]{1,9}}/review.md"


def review_markdown(db: Database, links: ReviewLinks,
                    clock: Clock) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The handler: 404 for a link that is not signed, tampered with or expired, for an unknown incident,
    before the review is published, and for private incidents, all alike."""

    async def serve(request: web.Request) -> web.Response:
        incident_id = int(request.match_info["incident_id"])  # the route takes 1 to 9 ASCII digits only
        if not links.allows(incident_id, request.query, clock.now()):
            return refuse(request, "link not signed, tampered with or expired", status=404, json=False)
        async with db.transaction() as session:
            review = await published_review(session, incident_id)
        if review is None or review.document is None:
            return refuse(request, "no published review to show", status=404, json=False)
        return web.Response(text=review.document, content_type="text/markdown", charset="utf-8",
                            headers={"Content-Disposition": f'inline; filename="{review.filename}"',
                                     "Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"})

    return serve
