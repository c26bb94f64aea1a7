"""Test configuration: the ``slow`` marker.

``python -m pytest -q`` runs the fast suite (pyproject's addopts deselect ``slow``);
``python -m pytest -q -m slow`` runs the long statistical and end-to-end tests.
.ci/run runs both.
"""


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long statistical or end-to-end tests; run with `python -m pytest -q -m slow`")
