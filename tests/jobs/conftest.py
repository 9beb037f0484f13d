"""The web fixtures (the app, a client, credentials) for the job pages' tests."""

from tests.web.conftest import app, client, creds

__all__ = ["app", "client", "creds"]
