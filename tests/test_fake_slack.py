"""The fake Slack, driven by slack_sdk's real AsyncWebClient over loopback HTTP."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler, AsyncServerErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from app.sandbox.fakeslack import FakeSlack, scopes, spec

# `fake` (started FakeSlack, asserting no violations at teardown) comes from tests/conftest.py;
# tests here that provoke violations check and clear them.


@pytest.fixture
def fake_scopes() -> tuple[str, ...]:
    """Every scope the fake knows: these tests exercise methods the app does not use (and so the
    manifest does not grant). Tests of scope refusal build their own FakeSlack."""
    return scopes.ALL


@pytest.fixture
def client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=fake.api_url)


async def slack_error(call) -> str:
    with pytest.raises(SlackApiError) as caught:
        await call
    return caught.value.response["error"]


async def test_start_and_stop_are_idempotent():
    fake = FakeSlack(bot_token="xoxb-test", team_id="T0042")
    async with fake:
        url = fake.api_url
        await fake.start()
        assert fake.api_url == url and url.startswith("http://127.0.0.1:") and url.endswith("/api/")
        answer = await AsyncWebClient(token="xoxb-test", base_url=url).auth_test()
        assert (answer["team_id"], answer["user_id"]) == ("T0042", fake.bot_user_id)
        assert fake.users[fake.bot_user_id].name == "incident-bot"
    await fake.stop()


async def test_create_channel_makes_the_bot_a_member(fake, client):
    answer = await client.conversations_create(name="inc-42-db-outage", is_private=False)

    channel = answer["channel"]
    assert channel["id"].startswith("C") and channel["name"] == "inc-42-db-outage"
    assert {"is_private", "is_archived", "created", "topic"} <= channel.keys()
    assert fake.channel_by_name("inc-42-db-outage").members == {fake.bot_user_id}
    assert fake.calls_to("conversations.create")[0].args == {"name": "inc-42-db-outage", "is_private": "0"}


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", "invalid_name_required"),
        ("Inc Outage", "invalid_name_specials"),
        ("inc.outage", "invalid_name_specials"),
        ("a" * 81, "invalid_name_maxlength"),
        ("--_", "invalid_name_punctuation"),
        ("incidents", "name_taken"),
        ("old-incident", "name_taken"),
    ],
)
async def test_channel_name_rules(fake, client, name, error):
    fake.add_channel("incidents")
    fake.add_channel("old-incident", is_archived=True)

    assert await slack_error(client.conversations_create(name=name)) == error


async def test_private_channel_from_form_and_json_bodies(fake):
    headers = {"Authorization": "Bearer xoxb-test"}
    async with aiohttp.ClientSession() as http:
        form = await http.post(f"{fake.api_url}conversations.create?name=sev1", data={"is_private": "true"},
                               headers=headers)
        assert (await form.json())["channel"]["is_private"] is True
        posted = await http.post(
            f"{fake.api_url}chat.postMessage?channel=sev1", json={"text": "hello"}, headers=headers
        )
        assert (await posted.json())["ok"] is True
        anonymous = await http.post(f"{fake.api_url}auth.test")
        assert (await anonymous.json())["error"] == "not_authed"
    assert [m.text for m in fake.messages_in(fake.channel_by_name("sev1").id)] == ["hello"]
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=fake.api_url)
    assert await slack_error(wrong.auth_test()) == "invalid_auth"


async def test_invite_semantics(fake, client):
    alice, bob = fake.add_user("alice"), fake.add_user("bob")
    cid = (await client.conversations_create(name="inc-1"))["channel"]["id"]
    outside = fake.add_channel("outside", members=[alice])
    archived = fake.add_channel("archived", is_archived=True, members=[fake.bot_user_id])

    await client.conversations_invite(channel=cid, users=[alice])
    assert await slack_error(client.conversations_invite(channel=cid, users=[alice])) == "already_in_channel"
    await client.conversations_invite(channel=cid, users=[alice, bob])  # some new: the others are added
    assert fake.channels[cid].members == {fake.bot_user_id, alice, bob}

    assert await slack_error(client.conversations_invite(channel=cid, users="U404")) == "user_not_found"
    assert await slack_error(client.conversations_invite(channel=cid, users=fake.bot_user_id)) == "cant_invite_self"
    assert await slack_error(client.conversations_invite(channel=outside, users=bob)) == "not_in_channel"
    assert await slack_error(client.conversations_invite(channel=archived, users=bob)) == "is_archived"
    assert await slack_error(client.conversations_invite(channel="C404", users=bob)) == "channel_not_found"


async def test_post_update_pin_and_history(fake, client):
    alice = fake.add_user("alice")
    cid = fake.add_channel("inc-2", members=[fake.bot_user_id, alice])

    first = await client.chat_postMessage(channel=cid, text="Declared",
                                          metadata={"event_type": "x", "event_payload": {}})
    second = await client.chat_postMessage(
        channel=cid, text="Thread", blocks=[{"type": "divider"}], thread_ts=first["ts"]
    )
    assert float(second["ts"]) > float(first["ts"]) and first["message"]["text"] == "Declared"
    await client.chat_update(channel=cid, ts=first["ts"], text="Declared: SEV1")
    await client.pins_add(channel=cid, timestamp=first["ts"])

    message = fake.messages_in(cid)[0]
    assert (message.text, message.edited, message.history) == ("Declared: SEV1", True, [("Declared", None)])
    assert fake.channels[cid].pins == {first["ts"]}
    assert await slack_error(client.pins_add(channel=cid, timestamp=first["ts"])) == "already_pinned"
    assert await slack_error(client.pins_add(channel=cid, timestamp="1.000001")) == "message_not_found"
    assert await slack_error(client.pins_add(channel=cid)) == "no_item_specified"
    assert await slack_error(client.chat_update(channel=cid, ts="1.000001", text="x")) == "message_not_found"
    theirs = fake.post(fake.channels[cid], alice, text="I'm on it")
    assert await slack_error(client.chat_update(channel=cid, ts=theirs.ts, text="x")) == "cant_update_message"

    await client.reactions_add(channel=cid, timestamp=theirs.ts, name="eyes")
    assert await slack_error(client.reactions_add(channel=cid, timestamp=theirs.ts, name="eyes")) == "already_reacted"
    history = await client.conversations_history(channel=cid, limit=1)
    assert [m["text"] for m in history["messages"]] == ["I'm on it"] and history["has_more"] is True
    link = await client.chat_getPermalink(channel=cid, message_ts=first["ts"])
    assert link["permalink"] == f"https://fake.slack.com/archives/{cid}/p{first['ts'].replace('.', '')}"


async def test_where_the_bot_cannot_post(fake, client):
    private = fake.add_channel("secret", is_private=True)
    archived = fake.add_channel("done", is_archived=True, members=[fake.bot_user_id])

    assert await slack_error(client.chat_postMessage(channel=private, text="x")) == "channel_not_found"
    assert await slack_error(client.chat_postMessage(channel=archived, text="x")) == "is_archived"
    assert await slack_error(client.chat_postMessage(channel="C404", text="x")) == "channel_not_found"


async def test_direct_messages_and_ephemerals(fake, client):
    alice, bob = fake.add_user("alice", tz="Europe/Paris"), fake.add_user("bob")
    cid = fake.add_channel("inc-3", members=[fake.bot_user_id, alice])

    opened = await client.conversations_open(users=[alice])
    await client.chat_postMessage(channel=opened["channel"]["id"], text="You are IC")
    direct = await client.chat_postMessage(channel=alice, text="Reminder")
    assert opened["channel"]["id"].startswith("D") and direct["channel"] == opened["channel"]["id"]
    assert [m.text for m in fake.dms_to(alice)] == ["You are IC", "Reminder"]

    await client.chat_postEphemeral(channel=cid, user=alice, text="Only you")
    assert fake.ephemerals[0] | {"message_ts": None, "thread_ts": None} == {
        "channel": cid, "user": alice, "text": "Only you", "blocks": None, "message_ts": None, "thread_ts": None,
    }
    assert await slack_error(client.chat_postEphemeral(channel=cid, user=bob, text="x")) == "user_not_in_channel"


async def test_channel_settings(fake, client):
    cid = (await client.conversations_create(name="inc-4"))["channel"]["id"]

    answer = await client.conversations_setTopic(channel=cid, topic="SEV2 | IC @alice")
    assert answer["channel"]["topic"]["value"] == "SEV2 | IC @alice"
    await client.conversations_setPurpose(channel=cid, purpose="Checkout errors")
    assert await slack_error(client.conversations_setTopic(channel=cid, topic="x" * 251)) == "too_long"
    # Slack counts UTF-16 code units: 126 emoji are 252 of them.
    assert await slack_error(client.conversations_setTopic(channel=cid, topic="🔥" * 126)) == "too_long"
    await client.conversations_rename(channel=cid, name="inc-4-resolved")
    await client.conversations_archive(channel=cid)
    assert await slack_error(client.conversations_archive(channel=cid)) == "already_archived"
    assert await slack_error(client.conversations_setTopic(channel=cid, topic="x")) == "is_archived"
    await client.conversations_unarchive(channel=cid)
    assert await slack_error(client.conversations_unarchive(channel=cid)) == "not_archived"
    channel = fake.channels[cid]
    assert (channel.name, channel.topic, channel.purpose) == ("inc-4-resolved", "SEV2 | IC @alice", "Checkout errors")


async def test_lists_paginate(fake, client):
    members = [fake.add_user(f"user{i}") for i in range(3)]
    for name in ("a", "b", "c"):
        fake.add_channel(name, members=members)

    first = await client.conversations_list(limit=2, exclude_archived=True)
    rest = await client.conversations_list(limit=2, cursor=first["response_metadata"]["next_cursor"])
    assert [c["name"] for c in first["channels"] + rest["channels"]] == ["a", "b", "c"]
    assert rest["response_metadata"]["next_cursor"] == ""
    page = await client.conversations_members(channel=fake.channel_by_name("a").id, limit=2)
    assert len(page["members"]) == 2 and page["response_metadata"]["next_cursor"]


async def test_users_and_usergroups(fake, client):
    alice = fake.add_user("alice", real_name="Alice A", email="alice@example.com")
    group = fake.add_usergroup("management", users=[alice])

    assert (await client.users_info(user=alice))["user"]["real_name"] == "Alice A"
    assert (await client.users_lookupByEmail(email="alice@example.com"))["user"]["id"] == alice
    assert (await client.usergroups_users_list(usergroup=group))["users"] == [alice]
    assert await slack_error(client.users_info(user="U404")) == "user_not_found"
    assert await slack_error(client.users_lookupByEmail(email="nobody@example.com")) == "users_not_found"
    assert await slack_error(client.usergroups_users_list(usergroup="S404")) == "no_such_subteam"


async def test_views(fake, client):
    alice = fake.add_user("alice")
    modal = {"type": "modal", "callback_id": "declare", "title": {"type": "plain_text", "text": "Declare"},
             "blocks": []}

    opened = await client.views_open(trigger_id="123.456.abc", view=modal)
    assert await slack_error(client.views_open(trigger_id="123.456.abc", view=modal)) == "exchanged_trigger_id"
    updated = await client.views_update(view_id=opened["view"]["id"], view=modal | {"callback_id": "declare2"})
    await client.views_publish(user_id=alice, view={"type": "home", "blocks": []})

    assert updated["view"]["id"] == opened["view"]["id"]
    assert [(v["method"], v["trigger_id"]) for v in fake.views] == [
        ("views.open", "123.456.abc"), ("views.update", None), ("views.publish", None),
    ]


async def test_rate_limit_is_retried_after_retry_after(fake):
    client = AsyncWebClient(
        token="xoxb-test", base_url=fake.api_url, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)]
    )
    cid = fake.add_channel("inc-5", members=[fake.bot_user_id])
    fake.fail("chat.postMessage", status=429, retry_after=1)

    await client.chat_postMessage(channel=cid, text="after the wait")

    limited, accepted = fake.calls_to("chat.postMessage")
    assert (limited.status, accepted.status) == (429, 200)
    assert accepted.at - limited.at >= 1.0
    assert [m.text for m in fake.messages_in(cid)] == ["after the wait"]


async def test_server_errors_and_error_answers(fake, client):
    fake.fail("conversations.create", status=500)
    with pytest.raises(SlackApiError) as caught:
        await client.conversations_create(name="inc-6")
    assert (caught.value.response.status_code, caught.value.response["error"]) == (500, "internal_error")

    retrying = AsyncWebClient(
        token="xoxb-test",
        base_url=fake.api_url,
        retry_handlers=[AsyncServerErrorRetryHandler(interval_calculator=FixedValueRetryIntervalCalculator(0.01))],
    )
    fake.fail("conversations.create", status=500)
    assert (await retrying.conversations_create(name="inc-6"))["ok"] is True

    fake.fail("users.info", error="user_not_found", times=2)
    assert await slack_error(client.users_info(user=fake.bot_user_id)) == "user_not_found"
    assert await slack_error(client.users_info(user=fake.bot_user_id)) == "user_not_found"
    assert (await client.users_info(user=fake.bot_user_id))["user"]["is_bot"] is True
    assert [c.status for c in fake.calls_to("conversations.create")] == [500, 500, 200]


async def test_spec_violations_are_recorded(fake, client):
    cid = fake.add_channel("inc-7", members=[fake.bot_user_id])

    assert await slack_error(client.api_call("chat.postMesage", json={"channel": cid})) == "unknown_method"
    assert await slack_error(client.api_call("chat.postMessage", json={"text": "x"})) == "invalid_arguments"
    assert await slack_error(client.api_call("conversations.invite", params={"channel": cid})) == "invalid_arguments"
    with pytest.warns(UserWarning, match="text"):  # slack_sdk warns too
        assert await slack_error(client.chat_postMessage(channel=cid)) == "no_text"
    assert await slack_error(client.api_call("emoji.list")) == "fake_not_implemented"

    assert len(fake.violations) == 5
    assert "chat.postMesage" in fake.violations[0] and "channel" in fake.violations[1]
    assert "users" in fake.violations[2]
    assert spec.is_known("files.getUploadURLExternal") and not spec.is_known("chat.postMesage")
    fake.violations.clear()


async def test_files_upload_v2_end_to_end(fake, client):
    cid = fake.add_channel("inc-8", members=[fake.bot_user_id])

    answer = await client.files_upload_v2(
        channel=cid, content="12:00 declared\n", filename="timeline.md", title="Timeline", initial_comment="Timeline"
    )

    assert answer["file"]["title"] == "Timeline"
    assert fake.files == [
        {
            "id": answer["file"]["id"],
            "filename": "timeline.md",
            "title": "Timeline",
            "content": b"12:00 declared\n",
            "channel_id": cid,
            "initial_comment": "Timeline",
        }
    ]
    [message] = fake.messages_in(cid)
    assert message.text == "Timeline" and message.files[0]["id"] == answer["file"]["id"]


async def test_response_url_captures_posts(fake):
    url, other = fake.new_response_url(), fake.new_response_url()

    await AsyncWebhookClient(url).send(text="Declared", response_type="ephemeral")  # what Bolt's respond() uses
    async with aiohttp.ClientSession() as http:
        async with http.post(other, json={"replace_original": True, "text": "Done"}) as answer:
            assert answer.status == 200
        async with http.post(f"{fake.base_url}/response/unknown", json={}) as answer:
            assert answer.status == 404

    assert fake.responses_to(url) == [{"text": "Declared", "response_type": "ephemeral"}]
    assert [r["url"] for r in fake.responses] == [url, other]


async def test_latency_and_wait_for(fake, client):
    cid = fake.add_channel("inc-9", members=[fake.bot_user_id])
    fake.latency = 0.05

    started = time.monotonic()
    await client.chat_postMessage(channel=cid, text="slow")
    assert time.monotonic() - started >= 0.05
    assert (await fake.wait_for(lambda: fake.messages_in(cid)))[0].text == "slow"
    with pytest.raises(AssertionError, match=r"chat\.postMessage"):
        await fake.wait_for(lambda: fake.dms_to(fake.bot_user_id), timeout=0.05)


async def test_join_kick_and_history_window(fake, client):
    alice = fake.add_user("alice")
    cid = fake.add_channel("inc-10", members=[alice])
    private = fake.add_channel("inc-10-private", is_private=True)

    assert await slack_error(client.conversations_history(channel=cid)) == "not_in_channel"
    await client.conversations_join(channel=cid)
    assert (await client.conversations_join(channel=cid))["warning"] == "already_in_channel"
    assert await slack_error(client.conversations_join(channel=private)) == "channel_not_found"  # invisible
    dm = (await client.conversations_open(users=[alice]))["channel"]["id"]
    assert await slack_error(client.conversations_join(channel=dm)) == "method_not_supported_for_channel_type"
    stamps = [(await client.chat_postMessage(channel=cid, text=str(i)))["ts"] for i in range(4)]
    window = await client.conversations_history(channel=cid, oldest=stamps[0], latest=stamps[3])
    assert [m["text"] for m in window["messages"]] == ["2", "1"]
    await client.conversations_kick(channel=cid, user=alice)
    assert await slack_error(client.conversations_kick(channel=cid, user=alice)) == "not_in_channel"
    assert fake.channels[cid].members == {fake.bot_user_id}


# -- at least as strict as Slack: scopes, plans, revoked tokens, rate limits ---------------------------


def test_every_method_the_fake_answers_has_a_scope_and_a_rate_tier():
    from app.sandbox.fakeslack import ratelimits
    from app.sandbox.fakeslack.server import HANDLERS

    assert set(HANDLERS) <= scopes.METHOD_SCOPES.keys()
    assert set(HANDLERS) <= set(ratelimits.METHOD_TIERS) | set(ratelimits.PER_CHANNEL)


async def test_by_default_the_bot_has_the_scopes_the_manifest_asks_for():
    async with FakeSlack() as fake:
        assert fake.scopes == scopes.manifest_scopes() and "commands" in fake.scopes


@pytest.mark.parametrize("fake_scopes", [("chat:write", "channels:history")])
async def test_a_call_without_its_scope_is_refused_with_needed_and_provided(fake, client):
    public = fake.add_channel("inc-public", members=[fake.bot_user_id])
    private = fake.add_channel("inc-private", is_private=True, members=[fake.bot_user_id])
    alice = fake.add_user("alice")
    dm = (await client.chat_postMessage(channel=alice, text="You are IC"))["channel"]  # chat:write is enough

    assert (await client.conversations_history(channel=public))["ok"] is True
    with pytest.raises(SlackApiError) as caught:
        await client.conversations_history(channel=private)
    assert caught.value.response.status_code == 200
    assert caught.value.response.data == {
        "ok": False, "error": "missing_scope", "needed": "groups:history", "provided": "chat:write,channels:history",
    }
    assert (await slack_error(client.conversations_history(channel=dm))) == "missing_scope"
    assert await slack_error(client.conversations_create(name="inc-2", is_private=True)) == "missing_scope"
    assert await slack_error(client.users_lookupByEmail(email="alice@example.com")) == "missing_scope"

    assert [(f.method, f.needed) for f in fake.scope_failures] == [
        ("conversations.history", "groups:history"),
        ("conversations.history", "im:history"),
        ("conversations.create", "groups:write"),
        ("users.lookupByEmail", "users:read.email"),
    ]
    assert fake.channel_by_name("inc-2") is None and fake.violations == []
    assert [c.status for c in fake.calls_to("conversations.history")] == [200, 200, 200]


@pytest.mark.parametrize("fake_scopes", [("channels:read", "groups:read")])
async def test_conversations_list_needs_the_scope_of_every_type_asked_for(fake, client):
    assert (await client.conversations_list(types="public_channel,private_channel"))["ok"] is True
    with pytest.raises(SlackApiError) as caught:
        await client.conversations_list(types="public_channel,im")
    assert caught.value.response["needed"] == "im:read"


@pytest.mark.parametrize("fake_scopes", [("chat:write",), ("chat:write", "chat:write.public")])
async def test_posting_where_the_bot_has_not_joined_needs_chat_write_public(fake, client, fake_scopes):
    joined = fake.add_channel("incidents", members=[fake.bot_user_id])
    elsewhere = fake.add_channel("general")

    await client.chat_postMessage(channel=joined, text="in a channel the bot is in")
    if "chat:write.public" in fake_scopes:
        await client.chat_postMessage(channel=elsewhere, text="announcement")
        assert [m.text for m in fake.messages_in(elsewhere)] == ["announcement"] and fake.scope_failures == []
    else:
        assert await slack_error(client.chat_postMessage(channel=elsewhere, text="announcement")) == "not_in_channel"
        assert fake.messages_in(elsewhere) == []
        [failure] = fake.scope_failures
        assert (failure.method, failure.needed, failure.error) == ("chat.postMessage", "chat:write.public",
                                                                   "not_in_channel")


@pytest.mark.parametrize("fake_plan", ["free", "paid"])
async def test_user_groups_need_a_paid_plan(fake, client, fake_plan):
    group = fake.add_usergroup("management", users=[fake.bot_user_id])

    if fake_plan == "free":
        assert await slack_error(client.usergroups_list()) == "plan_upgrade_required"
        assert await slack_error(client.usergroups_users_list(usergroup=group)) == "plan_upgrade_required"
    else:
        assert (await client.usergroups_users_list(usergroup=group))["users"] == [fake.bot_user_id]
    assert (await client.users_info(user=fake.bot_user_id))["ok"] is True  # the rest works on Free
    with pytest.raises(ValueError):
        FakeSlack(plan="enterprise")


async def test_a_revoked_token_is_inactive_and_a_wrong_one_invalid(fake, client):
    assert (await client.auth_test())["ok"] is True

    fake.revoke()

    assert await slack_error(client.auth_test()) == "account_inactive"
    assert await slack_error(client.chat_postMessage(channel=fake.bot_user_id, text="x")) == "account_inactive"
    wrong = AsyncWebClient(token="xoxb-someone-else", base_url=fake.api_url)
    assert await slack_error(wrong.auth_test()) == "invalid_auth"


async def test_a_private_channel_the_bot_is_not_in_does_not_exist_for_it(fake, client):
    alice = fake.add_user("alice")
    secret = fake.add_channel("secret", is_private=True, members=[alice])
    ts = fake.post(fake.channels[secret], alice, text="hush").ts

    for call in (
        client.conversations_info(channel=secret),
        client.conversations_members(channel=secret),
        client.conversations_history(channel=secret),
        client.conversations_replies(channel=secret, ts=ts),
        client.conversations_invite(channel=secret, users=alice),
        client.conversations_setTopic(channel=secret, topic="x"),
        client.conversations_archive(channel=secret),
        client.chat_postMessage(channel=secret, text="x"),
        client.chat_update(channel=secret, ts=ts, text="x"),
        client.pins_add(channel=secret, timestamp=ts),
        client.reactions_add(channel=secret, timestamp=ts, name="eyes"),
        client.bookmarks_add(channel_id=secret, title="Doc", type="link", link="https://example.com"),
    ):
        assert await slack_error(call) == "channel_not_found"
    assert fake.channels[secret].pins == set() and fake.messages_in(secret)[0].reactions == {}


async def test_writes_to_an_archived_channel_are_refused(fake, client):
    cid = fake.add_channel("inc-old", members=[fake.bot_user_id])
    ts = (await client.chat_postMessage(channel=cid, text="kickoff"))["ts"]
    await client.conversations_archive(channel=cid)

    for call in (
        client.chat_postMessage(channel=cid, text="x"),
        client.chat_update(channel=cid, ts=ts, text="x"),
        client.chat_delete(channel=cid, ts=ts),
        client.conversations_setTopic(channel=cid, topic="x"),
        client.conversations_invite(channel=cid, users=fake.add_user("alice")),
        client.pins_add(channel=cid, timestamp=ts),
        client.reactions_add(channel=cid, timestamp=ts, name="eyes"),
        client.bookmarks_add(channel_id=cid, title="Doc", type="link", link="https://example.com"),
    ):
        assert await slack_error(call) == "is_archived"
    assert [m.text for m in fake.messages_in(cid)] == ["kickoff"]


class ManualTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_rate_limits_are_off_unless_turned_on(fake, client):
    for _ in range(30):
        await client.users_list()
    assert fake.ratelimited == {}


async def test_a_tier_2_method_allows_a_burst_then_answers_429_with_retry_after(fake, client):
    time_now = ManualTime()
    fake.rate_limits(clock=time_now)

    for _ in range(5):  # a quarter of Tier 2's 20 a minute, at once
        await client.users_list()
    with pytest.raises(SlackApiError) as caught:
        await client.users_list()

    response = caught.value.response
    assert (response.status_code, response.data) == (429, {"ok": False, "error": "ratelimited"})
    assert response.headers["Retry-After"] in (["3"], "3")  # one token every 60/20 s
    assert fake.ratelimited == {"users.list": 1}
    assert (await client.users_info(user=fake.bot_user_id))["ok"] is True  # limits are per method
    assert await slack_error(client.api_call("emoji.list")) == "fake_not_implemented"  # untiered: no crash
    fake.violations.clear()

    time_now.now += 2.9
    assert await slack_error(client.users_list()) == "ratelimited"
    time_now.now += 3.0
    assert (await client.users_list())["ok"] is True
    assert fake.ratelimited == {"users.list": 2}


async def test_chat_post_message_is_limited_per_channel(fake, client):
    time_now = ManualTime()
    fake.rate_limits(clock=time_now)
    busy = fake.add_channel("inc-busy", members=[fake.bot_user_id])
    quiet = fake.add_channel("inc-quiet", members=[fake.bot_user_id])

    for i in range(3):
        await client.chat_postMessage(channel=busy, text=str(i))
    assert await slack_error(client.chat_postMessage(channel=busy, text="too fast")) == "ratelimited"
    await client.chat_postMessage(channel=quiet, text="another channel")
    time_now.now += 1.0
    await client.chat_postMessage(channel=busy, text="a second later")

    assert [m.text for m in fake.messages_in(busy)] == ["0", "1", "2", "a second later"]
    assert fake.ratelimited == {"chat.postMessage": 1}


async def test_slack_sdk_recovers_from_a_real_rate_limit_and_speed_scales_time(fake):
    fake.rate_limits(speed=60)  # a minute's allowance refills in a second
    retrying = AsyncWebClient(token="xoxb-test", base_url=fake.api_url,
                              retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)])

    started = time.monotonic()
    answers = await asyncio.gather(*(retrying.conversations_create(name=f"inc-{i}") for i in range(10)))

    # Tier 2's burst of 5 goes through; the others wait Retry-After (1 s, the minimum) and are accepted.
    assert all(a["ok"] for a in answers) and len(fake.channels) == 10
    assert time.monotonic() - started >= 1.0
    statuses = [c.status for c in fake.calls_to("conversations.create")]
    assert statuses.count(200) == 10 and statuses.count(429) == fake.ratelimited["conversations.create"] >= 5
    fake.rate_limits(enabled=False)
    await asyncio.gather(*(retrying.conversations_create(name=f"inc-more-{i}") for i in range(10)))
    assert statuses.count(429) == fake.ratelimited["conversations.create"]


# Arguments good enough for each scoped method the app calls to reach its scope check ("C" is a public channel).
APP_METHOD_ARGS: dict[str, dict[str, str]] = {
    "bookmarks.add": {"channel_id": "C", "title": "Review", "type": "link", "link": "https://example.com"},
    "chat.postMessage": {"channel": "C", "text": "x"}, "chat.postEphemeral": {"channel": "C", "user": "U", "text": "x"},
    "chat.update": {"channel": "C", "ts": "1.0", "text": "x"}, "conversations.archive": {"channel": "C"},
    "conversations.create": {"name": "incident-x"}, "conversations.history": {"channel": "C"},
    "conversations.info": {"channel": "C"}, "conversations.invite": {"channel": "C", "users": "U"},
    "conversations.list": {}, "conversations.members": {"channel": "C"}, "conversations.open": {"users": "U"},
    "conversations.replies": {"channel": "C", "ts": "1.0"}, "conversations.setTopic": {"channel": "C", "topic": "t"},
    "files.completeUploadExternal": {"files": '[{"id": "F1"}]'},
    "files.getUploadURLExternal": {"filename": "review.md", "length": "1"},
    "pins.add": {"channel": "C", "timestamp": "1.0"}, "reactions.get": {"channel": "C", "timestamp": "1.0"},
    "usergroups.list": {}, "usergroups.users.list": {"usergroup": "S"}, "users.info": {"user": "U"},
    "users.lookupByEmail": {"email": "alice@example.com"},
}


def scoped_app_methods() -> list[tuple[str, str]]:
    """(method, the bot scope it needs on a public channel) for every Web API method the app calls that needs one."""
    from tests.test_manifest import app_calls
    found = []
    for method in sorted(app_calls()):
        needed = scopes.METHOD_SCOPES.get(method)
        if needed is not None:
            found.append((method, needed if isinstance(needed, str) else needed.get("public") or needed["im"]))
    return found


def test_every_scoped_method_the_app_calls_is_tried_below() -> None:
    assert {method for method, _ in scoped_app_methods()} == set(APP_METHOD_ARGS)


@pytest.mark.parametrize(("method", "scope"), scoped_app_methods())
async def test_each_method_the_app_calls_is_refused_without_its_scope(method: str, scope: str) -> None:
    """The manifest's scopes less the one the method needs: Slack's missing_scope, naming it, and nothing done."""
    async with FakeSlack(scopes=[s for s in scopes.manifest_scopes() if s != scope]) as fake:
        channel = fake.add_channel("general", members=[fake.bot_user_id])
        user = fake.add_user("alice", email="alice@example.com")
        args = {key: {"C": channel, "U": user}.get(value, value) for key, value in APP_METHOD_ARGS[method].items()}
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
        with pytest.raises(SlackApiError) as caught:
            await client.api_call(method, params=args)
        assert caught.value.response["error"] == "missing_scope" and caught.value.response["needed"] == scope
        assert [(f.method, f.needed) for f in fake.scope_failures] == [(method, scope)]
        fake.scope_failures.clear()
