"""People's text on its way in (cleaning, splitting around Slack's entities, the /incident parser) and
our text on its way out (cut to Slack's limits, counted as Slack counts). Pure functions, no app."""

from __future__ import annotations

import pytest

from app.incidents.models import Role, Severity, Status
from app.slack.toolkit import command_line
from app.slack.toolkit.text import ELLIPSIS, clean, fit, split_fields, utf16_length

BOB = "<@U0BOB|bob>"
GENERAL = "<#C0GENERAL|general>"
ONCALL = "<!subteam^S0ONCALL|@oncall>"
LINK = "<https://status.example.com/x?a=1|status page>"
DATE = "<!date^1795617000^{date_short_pretty} {time}|2026-11-25 14:30 UTC>"


# -- split_fields ---------------------------------------------------------------------------------


@pytest.mark.parametrize("entity", [BOB, GENERAL, ONCALL, LINK, DATE])
def test_a_bar_inside_an_entity_does_not_split(entity: str) -> None:
    assert split_fields(f"Checkout down for {entity} | 5% of carts fail") == [
        f"Checkout down for {entity}", "5% of carts fail"]
    assert split_fields(f"{entity}|{entity}") == [entity, entity]
    assert split_fields(entity) == [entity]


def test_split_fields_stops_after_maxsplit_and_strips_each_part() -> None:
    assert split_fields(f" a {BOB} |  b | c | d ", 2) == [f"a {BOB}", "b", "c | d"]
    assert split_fields("a | b | c", 1) == ["a", "b | c"]
    assert split_fields("a | b", 0) == ["a | b"]
    assert split_fields("") == [""]
    assert split_fields("a ||") == ["a", "", ""]


def test_an_unclosed_angle_bracket_is_not_an_entity() -> None:
    assert split_fields("x < y | z") == ["x < y", "z"]
    assert split_fields("<a | b> | c") == ["<a | b>", "c"]


# -- clean ----------------------------------------------------------------------------------------


def test_clean_drops_control_characters_and_keeps_everything_else() -> None:
    typed = "Check\x00out\x07 down\x1b[31m \x7f\x85\x9f→ 💥 é\u200d"
    assert clean(typed) == "Checkout down[31m → 💥 é\u200d"
    assert clean(typed, multiline=False) == "Checkout down[31m → 💥 é\u200d"


def test_clean_keeps_lines_and_tabs_only_where_text_may_span_lines() -> None:
    assert clean("one\r\ntwo\rthree\n\tfour\v\f") == "one\ntwo\nthree\n\tfour"
    assert clean("one\r\ntwo\tthree\nfour", multiline=False) == "one  two three four"


# -- fit ------------------------------------------------------------------------------------------


def test_fit_leaves_text_within_the_limit_alone() -> None:
    assert fit("short", 5) == "short"
    assert fit("💥" * 5, 10) == "💥" * 5


def test_fit_counts_utf16_code_units_like_slack() -> None:
    emoji = "💥" * 200
    assert len(emoji) == 200 and utf16_length(emoji) == 400
    fitted = fit(emoji, 250)
    assert utf16_length(fitted) <= 250 and fitted.endswith(ELLIPSIS)
    assert fitted == "💥" * 124 + ELLIPSIS  # 248 units of emoji, one for the ellipsis, no half a surrogate pair


@pytest.mark.parametrize("entity", ["&amp;", "&lt;", "&gt;", "<@U0BOB>", "<!channel>", DATE, BOB])
def test_fit_never_cuts_an_entity(entity: str) -> None:
    for prefix in range(12):
        text = "x" * prefix + entity + " tail" * 10
        for limit in range(prefix + len(entity) + 2):
            fitted = fit(text, limit)
            assert utf16_length(fitted) <= limit
            body = fitted.removesuffix(ELLIPSIS)
            assert text.startswith(body) and (len(body) <= prefix or entity in body), (text, limit, fitted)


def test_fit_drops_an_entity_longer_than_the_limit_whole() -> None:
    assert fit(DATE + " and more", 20) == ELLIPSIS


# -- the /incident parser -------------------------------------------------------------------------


@pytest.mark.parametrize("entity", [BOB, GENERAL, ONCALL, LINK])
def test_declare_keeps_an_entity_in_the_title_and_the_impact_whole(entity: str) -> None:
    command = command_line.parse_command(f"declare P2 Checkout down for {entity} | {entity} sees 5% of carts fail")

    assert command == command_line.Declare(severity=Severity.P2, title=f"Checkout down for {entity}",
                                      impact=f"{entity} sees 5% of carts fail")


def test_declare_keeps_role_arguments_next_to_mentions_in_the_title() -> None:
    command = command_line.parse_command(f"declare P1 Ask {BOB} about {ONCALL} | carts fail ic:<@U0ALICE|alice> "
                                    "tech:<@U0CAROL|carol>")

    assert isinstance(command, command_line.Declare)
    assert command.title == f"Ask {BOB} about {ONCALL}" and command.impact == "carts fail"
    assert command.roles == {Role.IC: "U0ALICE", Role.TECH: "U0CAROL"}


def test_update_splits_findings_action_and_eta_only_at_bare_bars() -> None:
    command = command_line.parse_command(f"update identified Pool in {GENERAL} exhausted, ask {BOB} | Page {ONCALL}"
                                    f" | see {LINK}")

    assert command == command_line.Update(command_line.StatusUpdate(
        Status.IDENTIFIED, f"Pool in {GENERAL} exhausted, ask {BOB}", f"Page {ONCALL}", f"see {LINK}"))


def test_resolve_splits_root_cause_and_resolution_only_at_a_bare_bar() -> None:
    assert command_line.parse_command(f"resolve Deploy by {BOB} | Rolled back, told {ONCALL}") == command_line.Resolve(
        f"Deploy by {BOB}", f"Rolled back, told {ONCALL}")
    with pytest.raises(command_line.UsageError):
        command_line.parse_command(f"resolve Deploy by {BOB}")  # the bar inside the mention is no separator


def test_control_characters_never_reach_a_command() -> None:
    command = command_line.parse_command("declare P1 Check\x00out\x07 down\x1b | carts\x9b fail")

    assert command == command_line.Declare(severity=Severity.P1, title="Checkout down", impact="carts fail")
    note = command_line.parse_command("note first line\x00\nsecond\tline\x1b")
    assert note == command_line.Note("first line\nsecond\tline")
