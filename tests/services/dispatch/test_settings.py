"""Dispatch settings: the registry of business phone numbers (account, token and rate)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import SecretStr

from services.dispatch.settings import DispatchCloudApi, DispatchSettings, PhoneNumber
from shared.errors import StartupError


def test_registered_numbers_bring_their_token_and_rate(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("EAAG-from-a-secret\n")
    settings = DispatchSettings(
        cloud_api=DispatchCloudApi(access_token=SecretStr("default-token")),
        numbers={
            "111": PhoneNumber(waba_id="waba-1", mps=1000, access_token_file=token_file),
            "222": PhoneNumber(waba_id="waba-2", access_token=SecretStr("inline")),
            "333": PhoneNumber(waba_id="waba-2"),
        },
    ).with_registry()
    tokens = {k: v.get_secret_value() for k, v in settings.cloud_api.tokens.items()}
    assert tokens == {"111": "EAAG-from-a-secret", "222": "inline"}
    assert settings.rates.mps("111") == pytest.approx(1000 * (1 - settings.rates.headroom))
    assert settings.rates.mps("333") == pytest.approx(80 * (1 - settings.rates.headroom))
    view = settings.registry_view()
    assert view["111"] == {"waba_id": "waba-1", "mps": 1000, "own_token": True}
    assert view["333"]["own_token"] is False
    assert "EAAG" not in json.dumps(view) and "inline" not in json.dumps(view)


@pytest.mark.parametrize("content", [None, "  \n"])
def test_a_missing_or_empty_token_file_stops_the_start(tmp_path: Path, content: str | None) -> None:
    path = tmp_path / "token"
    if content is not None:
        path.write_text(content)
    settings = DispatchSettings(numbers={"111": PhoneNumber(access_token_file=path)})
    with pytest.raises(StartupError, match="111"):
        settings.with_registry()


def test_the_registry_comes_from_the_environment_as_json() -> None:
    settings = DispatchSettings.model_validate(
        {"numbers": json.loads('{"111": {"waba_id": "w", "mps": 1000}}')}
    )
    assert settings.with_registry().rates.numbers_mps == {"111": 1000}
