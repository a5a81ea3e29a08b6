"""Interactive messages: reply buttons, lists, CTA URL, location request (§1.3, §6.6)."""

from __future__ import annotations

from typing import Any

import pytest

from services.sandbox.rules.interactive import check_interactive


def _buttons(*titles: str, ids: list[str] | None = None) -> dict[str, Any]:
    keys = ids or [f"b{i}" for i in range(len(titles))]
    return {
        "type": "button",
        "body": {"text": "Pick one"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": k, "title": t}}
                for k, t in zip(keys, titles, strict=True)
            ]
        },
    }


def _list(rows_per_section: list[int], **row: str) -> dict[str, Any]:
    sections = [
        {
            "title": f"S{s}",
            "rows": [{"id": f"r{s}-{r}", "title": "Row", **row} for r in range(n)],
        }
        for s, n in enumerate(rows_per_section)
    ]
    return {
        "type": "list",
        "body": {"text": "Choose"},
        "action": {"button": "Options", "sections": sections},
    }


def _cta(display: str = "See Dates", url: str = "https://example.com") -> dict[str, Any]:
    return {
        "type": "cta_url",
        "body": {"text": "Tap below"},
        "action": {"name": "cta_url", "parameters": {"display_text": display, "url": url}},
    }


def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**base, **changes}


@pytest.mark.parametrize(
    "obj",
    [
        pytest.param(_buttons("Yes"), id="one-button"),
        pytest.param(_buttons("Yes", "No", "x" * 20), id="three-buttons-title-20"),
        pytest.param(_buttons("Yes", ids=["i" * 256]), id="id-256"),
        pytest.param(
            _with(
                _buttons("Yes"),
                header={"type": "text", "text": "h" * 60},
                footer={"text": "f" * 60},
            ),
            id="header-footer-60",
        ),
        pytest.param(
            _with(_buttons("Yes"), header={"type": "image", "image": {"link": "https://x/a.png"}}),
            id="image-header",
        ),
        pytest.param(_with(_buttons("Yes"), body={"text": "b" * 1024}), id="button-body-1024"),
        pytest.param(_list([10]), id="list-10-rows"),
        pytest.param(_list([5, 5]), id="list-two-sections"),
        pytest.param(_with(_list([1]), body={"text": "b" * 4096}), id="list-body-4096"),
        pytest.param(_list([1], description="d" * 72), id="row-description-72"),
        pytest.param(_cta(), id="cta"),
        pytest.param(_cta(display="d" * 20), id="cta-display-20"),
        pytest.param(
            {
                "type": "location_request_message",
                "body": {"text": "Where?"},
                "action": {"name": "send_location"},
            },
            id="location-request",
        ),
    ],
)
def test_well_formed_interactive_messages_pass(obj: dict[str, Any]) -> None:
    assert check_interactive(obj) is None


@pytest.mark.parametrize(
    ("obj", "code", "details"),
    [
        pytest.param({"action": {}}, 131008, "interactive.type", id="no-subtype"),
        pytest.param(_with(_buttons("Yes"), type="carousel_x"), 100, "not supported", id="subtype"),
        pytest.param(_with(_buttons("Yes"), action=None), 131008, "action", id="no-action"),
        pytest.param(_with(_buttons("Yes"), body=None), 131008, "body", id="no-body"),
        pytest.param(
            _with(_buttons("Yes"), body={"text": "b" * 1025}), 100, "1024", id="body-1025"
        ),
        pytest.param(_with(_list([1]), body={"text": "b" * 4097}), 100, "4096", id="list-body"),
        pytest.param(_with(_buttons("Yes"), footer={"text": "f" * 61}), 100, "60", id="footer-61"),
        pytest.param(
            _with(_buttons("Yes"), header={"type": "text", "text": "h" * 61}),
            100,
            "60",
            id="header-61",
        ),
        pytest.param(
            _with(_buttons("Yes"), header={"text": "h"}), 131008, "header", id="header-type"
        ),
        pytest.param(
            _with(_list([1]), header={"type": "image", "image": {"id": "1"}}),
            100,
            "not allowed on list",
            id="list-media-header",
        ),
        pytest.param(
            _with(_buttons("Yes"), header={"type": "video", "video": {}}),
            100,
            "id/link",
            id="header-media",
        ),
        pytest.param(_buttons(), 131008, "buttons", id="zero-buttons"),
        pytest.param(_buttons("a", "b", "c", "d"), 100, "at most 3", id="four-buttons"),
        pytest.param(_buttons("x" * 21), 100, "20", id="title-21"),
        pytest.param(_buttons("Yes", ids=["i" * 257]), 100, "256", id="id-257"),
        pytest.param(_buttons("Yes", "Yes"), 100, "unique", id="duplicate-title"),
        pytest.param(_buttons("Yes", "No", ids=["a", "a"]), 100, "unique", id="duplicate-id"),
        pytest.param(
            {"type": "button", "body": {"text": "x"}, "action": {"buttons": [{"type": "url"}]}},
            100,
            "reply",
            id="not-a-reply-button",
        ),
        pytest.param(_list([11]), 100, "10 rows", id="eleven-rows"),
        pytest.param(_list([6, 5]), 100, "10 rows", id="eleven-rows-in-total"),
        pytest.param(_list([1] * 11), 100, "10 sections", id="eleven-sections"),
        pytest.param(_list([1], title="t" * 25), 100, "24", id="row-title-25"),
        pytest.param(_list([1], description="d" * 73), 100, "72", id="row-description-73"),
        pytest.param(
            _with(_list([1]), action={"button": "b" * 21, "sections": []}),
            100,
            "20",
            id="list-button-21",
        ),
        pytest.param(
            _with(_list([1]), action={"sections": []}), 131008, "button", id="no-list-button"
        ),
        pytest.param(
            _with(_list([1]), action={"button": "B"}), 131008, "sections", id="no-sections"
        ),
        pytest.param(_cta(display="d" * 21), 100, "20", id="cta-display-21"),
        pytest.param(_cta(url="www.example.com"), 131009, "url", id="cta-url-scheme"),
        pytest.param(
            _with(_cta(), action={"name": "cta_url"}), 131008, "parameters", id="cta-no-parameters"
        ),
        pytest.param(
            _with(_cta(), action={"name": "link", "parameters": {}}), 100, "cta_url", id="cta-name"
        ),
    ],
)
def test_malformed_interactive_messages_get_metas_code(
    obj: dict[str, Any], code: int, details: str
) -> None:
    error = check_interactive(obj)

    assert error is not None
    assert error.code == code
    assert error.details is not None and details in error.details


def test_sections_need_titles_only_when_there_are_several() -> None:
    single = _list([2])
    del single["action"]["sections"][0]["title"]
    several = _list([1, 1])
    del several["action"]["sections"][1]["title"]

    assert check_interactive(single) is None
    error = check_interactive(several)
    assert error is not None and error.code == 131008
