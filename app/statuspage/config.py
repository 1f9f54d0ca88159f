"""The `statuspage_io:` section of playbooks/status_page.yml: where approved updates are also published. The
page id and API key are never in the file: it names the environment variables that hold them."""

from __future__ import annotations

from app.integrations.environment import EnvName
from app.policy_files import HttpUrl, StrictModel

DEFAULT_API_URL = "https://api.statuspage.io/v1"


class StatuspageIoSettings(StrictModel):
    api_url: HttpUrl = DEFAULT_API_URL
    page_id_env: EnvName = "STATUSPAGE_PAGE_ID"  # the page's id (API info)
    api_key_env: EnvName = "STATUSPAGE_API_KEY"  # an API key of the account (API info)
