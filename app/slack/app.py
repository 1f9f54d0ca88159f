"""The Bolt app: built by a factory, signatures always verified, failures answered once; the features' listeners
are registered by app/slack/bootstrap.py, and the answers for a button or form we no longer send last."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.middleware.request_verification import RequestVerification
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from app.slack.toolkit import interactions
from app.slack.toolkit.acks import Failed
from app.slack.toolkit.acting import Acting, Actor, answer_to
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.messages import Messages
from app.slack.toolkit.signatures import verified
from app.slack.toolkit.who_acted import who_acted

log = logging.getLogger(__name__)


def asked_in(body: dict[str, Any]) -> str:
    """What a request from Slack asked for, in the keys of errors/store_unreachable.j2."""
    if body.get("command"):
        words = str(body.get("text") or "").split(maxsplit=1)
        return words[0].lower() if words else "help"
    return {"block_actions": "button", "view_submission": "form"}.get(str(body.get("type")), "request")


def who_and_where(body: dict[str, Any]) -> tuple[str | None, str | None]:
    user_id = (body.get("user") or {}).get("id") or body.get("user_id")
    channel_id = (body.get("channel") or {}).get("id") or body.get("channel_id")
    return user_id, channel_id


def _client_given_on_purpose(record: logging.LogRecord) -> bool:
    return record.getMessage() != warning_client_prioritized_and_token_skipped()


async def answer_failure(messages: Messages, error: BaseException, body: dict[str, Any],
                         respond: AsyncRespond | None, client: AsyncWebClient) -> None:
    # Known problems are answered by the features; this is for what escaped them (a listener's own
    # failure, an outage): answer_to words it, and the person gets it exactly once.
    user_id, channel_id = who_and_where(body)
    answer = answer_to(messages, error, what=asked_in(body), who=user_id, where=channel_id)
    try:
        if respond is not None and body.get("response_url"):
            await respond(response_type="ephemeral", replace_original=False, **answer.as_kwargs())
        elif user_id:
            # A form has no response_url: the person hears back in a direct message, as after declaring.
            await client.chat_postMessage(channel=user_id, **answer.as_kwargs())
    except Exception:  # broad on purpose: the answer to a failure failing too must not become a 500 to Slack
        log.exception("Could not tell %s in %s about a failure", user_id, channel_id)


def failed_after_ack(messages: Messages) -> Failed:
    """What Acknowledgements does with a listener's failure after its answer went out: one private answer."""
    async def failed(error: BaseException, args: AsyncArgs) -> None:
        if not verified(args.request):
            log.error("Listener failed on a request nobody vouched for: not answered", exc_info=error)
            return
        await answer_failure(messages, error, args.body, args.respond, args.client)

    return failed


def create_slack_app(*, signing_secret: str, client: AsyncWebClient, messages: Messages) -> AsyncApp:
    # Bolt reads SLACK_BOT_TOKEN from the environment on its own and warns that the client given wins: it
    # does on purpose (the client carries the same token, paced), so that one line is left out.
    bolt_log = logging.getLogger(f"slack_bolt.{AsyncApp.__name__}")
    bolt_log.addFilter(_client_given_on_purpose)
    app = AsyncApp(client=client, signing_secret=signing_secret, name="incident-coordinator",
                   process_before_response=True)  # listeners answer first: app/slack/toolkit/acks.py

    @app.error
    async def failed_before_ack(error: Exception, body: dict[str, Any], respond: AsyncRespond | None,
                                client: AsyncWebClient, request: AsyncBoltRequest) -> BoltResponse:
        # Not acknowledged yet (acks.first hands later failures to failed_after_ack): acknowledge now,
        # never with a 500; a command's answer is the acknowledgement itself.
        if not verified(request):
            # app/slack/toolkit/signatures.py refuses these at the door; should one get this far (Bolt's own
            # check raising on it), nothing it carries (response_url, ids) is used, and it is not logged.
            return BoltResponse(status=401, body="")
        if body.get("command"):
            user_id, channel_id = who_and_where(body)
            answer = answer_to(messages, error, what=asked_in(body), who=user_id, where=channel_id)
            return BoltResponse(status=200, body=json.dumps({"response_type": "ephemeral", **answer.as_kwargs()}),
                                headers={"content-type": ["application/json;charset=utf-8"]})
        await answer_failure(messages, error, body, respond, client)
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
