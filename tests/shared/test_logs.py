"""Logs never show a customer's number in clear: masked by `mask_phone`, and libraries that dump
whole records at debug level stay at INFO whatever the service's level."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from shared.logs import QUIET_BELOW_INFO, mask_phone
from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("16505551234", "16***34"), ("447700900123", "44***23"), ("1234", "***"), ("", "***")],
)
def test_a_phone_keeps_only_its_country_code_and_last_two_digits(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


def test_record_dumping_libraries_stay_at_info_when_a_service_logs_debug() -> None:
    code = (
        "import json, logging; from shared import logs; from shared.settings import LogSettings; "
        "logs.configure(LogSettings(level='DEBUG'), 'probe'); "
        "print(json.dumps({n: logging.getLogger(n + '.child').isEnabledFor(logging.DEBUG) "
        "for n in logs.QUIET_BELOW_INFO}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    enabled = json.loads(result.stdout)
    assert {name: enabled[name] for name in QUIET_BELOW_INFO} == dict.fromkeys(
        QUIET_BELOW_INFO, False
    )
    assert "aiokafka" in QUIET_BELOW_INFO and "faust" in QUIET_BELOW_INFO
