"""The Bolt app: built by a factory, signatures always verified, listeners registered per surface."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncApp, AsyncRespond
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.middleware.request_verification import RequestVerification
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from app.slack import parsing
from app.insights.links import InsightsLinks
from app.slack.declaring import Declarations
from app.slack.flows import IncidentFlows
from app.slack.insights import StatsAnswers
from app.slack.playbooks import ChecklistFlows
from app.slack.signatures import verified
from app.slack.tidy import ChannelTidying
from app.slack.listeners import actions, commands, declaring, picker, views
from app.slack.comms import CommsFlows
from app.slack.listeners import comms as comms_listeners
from app.slack.listeners import home, kickoff, members, reactions, shortcuts
from app.slack.listeners import reviews as review_listeners
from app.statuspage.statuspage_io import StatuspageIo

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


def create_slack_app(*, signing_secret: str, client: AsyncWebClient, flows: IncidentFlows,
                     declarations: Declarations, insights_links: InsightsLinks,
                     statuspage: StatuspageIo | None = None) -> AsyncApp:
    # Bolt reads SLACK_BOT_TOKEN from the environment on its own and warns that the client given wins: it
    # does on purpose (the client carries the same token, paced), so that one line is left out.
    bolt_log = logging.getLogger(f"slack_bolt.{AsyncApp.__name__}")
    bolt_log.addFilter(_client_given_on_purpose)
    app = AsyncApp(client=client, signing_secret=signing_secret, name="incident-coordinator",
                   process_before_response=True)  # listeners answer first: app/slack/acks.py
    flows.handlers[parsing.Declare] = declarations.declare
    commands.register(app, flows, declarations)
    views.register(app, flows)
    checklists = ChecklistFlows(flows)
    flows.handlers[parsing.ShowChecklist] = lambda command, actor: checklists.show(actor)
    flows.handlers[parsing.Notified] = lambda command, actor: checklists.notified(actor, command.deadline)
    flows.handlers[parsing.ShowStats] = StatsAnswers(flows, insights_links).show
    flows.handlers[parsing.Reopen] = ChannelTidying(flows).reopen
    actions.register(app, flows, checklists)
    comms_listeners.register(app, flows, CommsFlows(flows, statuspage))
    review_listeners.register(app, flows)
    declaring.register(app, flows, declarations)
    picker.register(app, flows)
    reactions.register(app, flows)
    kickoff.register(app, flows)
    members.register(app, flows)
    shortcuts.register(app, flows)
    home.register(app, flows)
    actions.register_fallback(app, flows)  # last: only what nothing above took
    views.register_fallback(app, flows)

    async def answer_failure(error: BaseException, body: dict[str, Any], respond: AsyncRespond | None,
                             client: AsyncWebClient) -> None:
        # Known problems are answered by the flows; this is for what escaped them (a listener's own
        # failure, an outage): flows.answer_to words it, and the person gets it exactly once.
        user_id, channel_id = who_and_where(body)
        answer = flows.answer_to(error, what=asked_in(body), who=user_id, where=channel_id)
        try:
            if respond is not None and body.get("response_url"):
                await respond(response_type="ephemeral", replace_original=False, **answer.as_kwargs())
            elif user_id:
                # A form has no response_url: the person hears back in a direct message, as after declaring.
                await client.chat_postMessage(channel=user_id, **answer.as_kwargs())
        except Exception:  # noqa: BLE001 - the answer to a failure failing too must not become a 500 to Slack
            log.exception("Could not tell %s in %s about a failure", user_id, channel_id)

    async def failed_after_ack(error: BaseException, args: AsyncArgs) -> None:
        if not verified(args.request):
            log.error("Listener failed on a request nobody vouched for: not answered", exc_info=error)
            return
        await answer_failure(error, args.body, args.respond, args.client)

    flows.acks.failed = failed_after_ack

    @app.error
    async def failed_before_ack(error: Exception, body: dict[str, Any], respond: AsyncRespond | None,
                                client: AsyncWebClient, request: AsyncBoltRequest) -> BoltResponse:
        # Not acknowledged yet (acks.first hands later failures to failed_after_ack): acknowledge now,
        # never with a 500; a command's answer is the acknowledgement itself.
        if not verified(request):
            # app/slack/signatures.py refuses these at the door; should one get this far (Bolt's own check
            # raising on it), nothing it carries (response_url, ids) is used, and it is not logged.
            return BoltResponse(status=401, body="")
        if body.get("command"):
            user_id, channel_id = who_and_where(body)
            answer = flows.answer_to(error, what=asked_in(body), who=user_id, where=channel_id)
            return BoltResponse(status=200, body=json.dumps({"response_type": "ephemeral", **answer.as_kwargs()}),
                                headers={"content-type": ["application/json;charset=utf-8"]})
        await answer_failure(error, body, respond, client)
        return BoltResponse(status=200, body="")

    # Bolt's own check (kept behind ours) logs a refused request's signature and whole body at INFO, under the
    # name of its base class; its level is taken from the root's when the app is built, so set after.
    logging.getLogger(f"slack_bolt.{RequestVerification.__name__}").setLevel(logging.WARNING)
    return app
