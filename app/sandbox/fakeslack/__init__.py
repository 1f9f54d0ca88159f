"""A stateful fake of Slack's Web API, served over HTTP on loopback for the test suite and the sandbox."""

from .server import FakeSlack
from .state import Call, Channel, Message, ScopeFailure, User, Usergroup

__all__ = ["Call", "Channel", "FakeSlack", "Message", "ScopeFailure", "User", "Usergroup"]
