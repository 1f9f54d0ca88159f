"""What every integration shares, whatever its kind (tracker, status page, pager, alert source): the one error
a failed call raises (errors.py), one HTTP call that says why it failed (http.py), and its secrets, always named
by a policy file's `*_env` key and read from the environment at start-up (environment.py)."""
