import pytest

from clinic_etl.sandbox.cliniko import SANDBOX_CLINIKO_API_KEY, build_practice, create_app
from clinic_etl.sandbox.transport import InProcessTransport
from clinic_etl.sources.cliniko.client import ClinikoClient


@pytest.fixture(scope="session")
def practice():
    return build_practice()


def make_client(practice, **app_options) -> tuple[ClinikoClient, list[float]]:
    sleeps: list[float] = []
    app = create_app(practice, **app_options)
    client = ClinikoClient(
        SANDBOX_CLINIKO_API_KEY,
        "http://cliniko.sandbox/v1",
        transport=InProcessTransport(app),
        sleep=sleeps.append,
        clock=app_options.get("clock", __import__("time").time),
    )
    return client, sleeps


@pytest.fixture
def cliniko(practice):
    return make_client(practice)[0]
