"""The values the rules return: issues naming their field, and the verdict they add up to."""

from __future__ import annotations

from services.templates.rules.issues import Issue, Verdict, error, warning

NAME = error("name", "INVALID_NAME", "lowercase letters, digits and underscores only")
PROMO = warning("components[0].text", "PROMOTIONAL_UTILITY", "promotional wording")


def test_an_issue_is_an_error_unless_it_says_otherwise() -> None:
    assert Issue("name", "X", "m").severity == "error" == NAME.severity
    assert PROMO.severity == "warning"
    assert PROMO.as_dict() == {
        "field": "components[0].text",
        "code": "PROMOTIONAL_UTILITY",
        "message": "promotional wording",
        "severity": "warning",
    }


def test_a_verdict_sorts_issues_and_refuses_only_on_errors() -> None:
    verdict = Verdict.of([PROMO, NAME, PROMO])
    assert verdict.errors == (NAME,) and verdict.warnings == (PROMO, PROMO)
    assert not verdict.ok
    assert Verdict.of([PROMO]).ok and Verdict().ok


def test_a_verdict_as_json_lists_errors_then_warnings() -> None:
    assert Verdict.of([PROMO, NAME]).as_dict() == {
        "errors": [NAME.as_dict()],
        "warnings": [PROMO.as_dict()],
    }
    assert Verdict().as_dict() == {"errors": [], "warnings": []}
