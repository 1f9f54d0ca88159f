# The bot, as the README installs and runs it. Build: docker build -t incident-coordinator .
# Release step (once per deploy, before the new replicas): docker run --rm -e DATABASE_URL=... incident-coordinator python -m app migrate
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=3000

RUN useradd --create-home --uid 10001 bot
WORKDIR /home/bot/app

# The README's install step: a venv, then `pip install -e .` (the package's files first, for the layer cache).
COPY --chown=bot:bot pyproject.toml README.md ./
COPY --chown=bot:bot app ./app
RUN python3 -m venv /home/bot/.venv && /home/bot/.venv/bin/pip install -e . && chown -R bot:bot /home/bot/.venv
COPY --chown=bot:bot alembic.ini manifest.yml Procfile ./
COPY --chown=bot:bot messages ./messages
COPY --chown=bot:bot playbooks ./playbooks

USER bot
ENV PATH=/home/bot/.venv/bin:$PATH
EXPOSE 3000
# Liveness only: readiness (/ready) is for the load balancer, and a failing database is not cured by a restart.
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/health', timeout=2)"
# SIGTERM stops it gracefully within 10 s (docker stop waits 10 s before SIGKILL; compose.yaml allows 15).
STOPSIGNAL SIGTERM
CMD ["python", "-m", "app"]
