import os

import pytest


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", help="also run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow") or os.environ.get("PYJLCHAR_SLOW") == "1":
        return
    in_ci = os.environ.get("CI") == "true"
    skip = pytest.mark.skip(reason="slow: run with --runslow or PYJLCHAR_SLOW=1")
    for item in items:
        if "slow" in item.keywords and not (in_ci and "ci" in item.keywords):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def jl():
    """The process's embedded Julia with PyJLChar loaded (started once for the whole run)."""
    from pyjlchar import bridge

    return bridge.get()
