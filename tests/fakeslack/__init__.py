"""The fake Slack now lives in app/sandbox/fakeslack (the sandbox runs on it); tests keep importing it from here."""

from app.sandbox.fakeslack import (
           Call,
           Channel,
           FakeSlack,
           Message,
           ScopeFailure,
           User,
           Usergroup,
           ratelimits,
           scopes,
           spec,
)

__all__ = ["Call", "Channel", "FakeSlack", "Message", "ScopeFailure", "User", "Usergroup",
           "ratelimits", "scopes", "spec"]
