"""The Bolt app: built by a factory, signatures always verified, failures answered once; the features' listeners
are registered by app/slack/bootstrap.py, and the answers for a button or form we no longer send last."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.middleware.request_verification import RequestVerification
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from app.slack.toolkit import interactions
from app.slack.toolkit.acks import Failed
from app.slack.toolkit.acting import Acting, Actor, answer_to
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.messages import Message, Messages
from app.slack.toolkit.signatures import verified
from app.slack.toolkit.who_acted import actor_after_failure, who_acted

log = logging.getLogger(__name__)


def asked_in(body: dict[str, Any]) -> str:
    """What a request from Slack asked for, in the keys of errors/store_unreachable.j2."""
    if body.get("command"):
        words = str(body.get("text") or "").split(maxsplit=1)
        return words[0].lower() if words else "help"
    return {"block_actions": "button", "view_submission": "form"}.get(str(body.get("type")), "request")


def _client_given_on_purpose(record: logging.LogRecord) -> bool:
    return record.getMessage() != warning_client_prioritized_and_token_skipped()


def answer_for(messages: Messages, error: BaseException, body: dict[str, Any], actor: Actor | None) -> Message:
    """The answer to what escaped the features (a listener's own failure, an outage), worded by answer_to and
    logged with who acted and where (the actor every listener gets, by `actor_after_failure`)."""
    return answer_to(messages, error, what=asked_in(body), who=actor.user_id if actor else None,
                     where=actor.channel_id if actor else None)


async def answer_failure(messages: Messages, error: BaseException, body: dict[str, Any], actor: Actor | None) -> None:
    """Known problems are answered by the features; what escaped them gets this one private answer, sent as
    every listener answers its actor (an event, nobody's request, gets none)."""
    answer = answer_for(messages, error, body, actor)
    if actor is None:
        return
    try:
        await actor.reply(answer)
    except Exception:  # broad on purpose: the answer to a failure failing too must not become a 500 to Slack
        log.exception("Could not tell %s in %s about a failure", actor.user_id, actor.channel_id)


def failed_after_ack(messages: Messages) -> Failed:
    """What Acknowledgements does with a listener's failure after its answer went out: one private answer."""
    async def failed(error: BaseException, args: AsyncArgs) -> None:
        if not verified(args.request):
            log.error("Listener failed on a request nobody vouched for: not answered", exc_info=error)
            return
        await answer_failure(messages, error, args.body, actor_after_failure(args.body, args.context, args.client))

    return failed


def create_slack_app(*, signing_secret: str, client: AsyncWebClient, messages: Messages) -> AsyncApp:
    # Bolt reads SLACK_BOT_TOKEN from the environment on its own and warns that the client given wins: it
    # does on purpose (the client carries the same token, paced), so that one line is left out.
    bolt_log = logging.getLogger(f"slack_bolt.{AsyncApp.__name__}")
    bolt_log.addFilter(_client_given_on_purpose)
    app = AsyncApp(client=client, signing_secret=signing_secret, name="incident-coordinator",
                   process_before_response=True)  # listeners answer first: app/slack/toolkit/acks.py

    @app.error
    async def failed_before_ack(error: Exception, body: dict[str, Any], context: AsyncBoltContext,
                                client: AsyncWebClient, request: AsyncBoltRequest) -> BoltResponse:
        # Not acknowledged yet (acks.first hands later failures to failed_after_ack): acknowledge now,
        # never with a 500; a command's answer is the acknowledgement itself.
        if not verified(request):
            # app/slack/toolkit/signatures.py refuses these at the door; should one get this far (Bolt's own
            # check raising on it), nothing it carries (response_url, ids) is used, and it is not logged.
            return BoltResponse(status=401, body="")
        actor = actor_after_failure(body, context, client)
        if body.get("command"):
            answer = answer_for(messages, error, body, actor)
            return BoltResponse(status=200, body=json.dumps({"response_type": "ephemeral", **answer.as_kwargs()}),
                                headers={"content-type": ["application/json;charset=utf-8"]})
        await answer_failure(messages, error, body, actor)
        return BoltResponse(status=200, body="")

    # Bolt's own check (kept behind ours) logs a refused request's signature and whole body at INFO, under the
    # name of its base class; its level is taken from the root's when the app is built, so set after.
    logging.getLogger(f"slack_bolt.{RequestVerification.__name__}").setLevel(logging.WARNING)
    app.middleware(who_acted)  # after the signature check: every listener's `actor`, resolved once
    return app


def register_fallbacks(app: AsyncApp, deps: Deps) -> None:
    """Registered last: a button or a form from a message we no longer send (or never sent) is answered, not
    a 404."""
    acting = Acting(deps)

    @app.action(re.compile(".*"))
    @deps.acks.first
    async def unknown_button(ack: AsyncAck, actor: Actor) -> None:
        await ack()
        await actor.reply(acting.error_message(interactions.StaleInteraction()))

    @app.view(re.compile(".*"))
    @deps.acks.first
    async def unknown_form(ack: AsyncAck, actor: Actor, client: AsyncWebClient) -> None:
        await ack()
        # Not actor.reply: what a form we do not know carries says nothing we can trust about where to answer.
        await client.chat_postMessage(channel=actor.user_id,
                                      **acting.error_message(interactions.StaleInteraction()).as_kwargs())
