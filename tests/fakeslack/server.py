from app.sandbox.fakeslack.server import *  # noqa: F403 (tests import HANDLERS from here)
