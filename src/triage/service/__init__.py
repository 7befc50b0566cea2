"""HTTP service for helpdesks: FastAPI app, bearer auth, limits, Zammad and Znuny/OTRS webhook adapters.

>>> from triage.service import create_app, ServiceSettings
>>> app = create_app(ServiceSettings(api_token="s3cret"))   # serve with uvicorn, or `triage serve`
"""

from triage.service.app import create_app, create_app_from_env
from triage.service.settings import ServiceSettings

__all__ = ["ServiceSettings", "create_app", "create_app_from_env"]
