from app.sandbox.fakeslack.state import *  # noqa: F403 (tests import Message and Call from here)
