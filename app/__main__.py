"""`python -m app`: app/process.py (serving, `migrate`, `sandbox`), imported with the garbage collector paused.

Importing the bot builds a few hundred thousand objects that live as long as the process (SQLAlchemy's mappers,
Bolt, pydantic's validators, the templates); the collections that would run in the middle of that free nothing
and cost about a third of the import's CPU (1.65 s without the pause, 1.14 s with it, on two cores). Once what
start-up needs is loaded, `process.loaded` freezes it and turns the collector back on.
"""

import gc
import sys

if __name__ == "__main__":
    gc.disable()
    from app.process import main

    sys.exit(main())
