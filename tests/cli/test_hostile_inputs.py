"""Hostile values for every option and argument of every command, through the real entry
point: always an answer and an exit code (2 with a clear message for bad usage), never a
traceback. The servers are unreachable ports, so nothing valid goes anywhere."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.main import main
from cli.output import EXIT_CODES
from cli.params import Instant, Number

NOWHERE = "http://127.0.0.1:1"
ENV = {
    "KAFKA_BOOTSTRAP": "127.0.0.1:1",
    "WAGATE_TEMPLATES_URL": NOWHERE,
    "WAGATE_SANDBOX_URL": NOWHERE,
    "WAGATE_POLICY_URL": NOWHERE,
    "WAGATE_DISPATCH_URL": NOWHERE,
}
SERVER_OPTIONS = {"bootstrap", "topic_prefix", "profile", "url", "policy_url"}
"""Where a valid value would reach a real server: tested with invalid values only, below."""


def _leaves(command: click.Command, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(command, click.Group):
        return [p for name, sub in command.commands.items() for p in _leaves(sub, (*path, name))]
    return [path]


def _command(path: tuple[str, ...]) -> click.Command:
    command: click.Command = main
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


COMMANDS = _leaves(main)
SPECIAL = {
    ("send", "contacts", "payload"): '[{"name": {"formatted_name": "Ana"}}]',
    ("send", "interactive", "payload"): '{"type": "button"}',
}
PLACEHOLDERS = {
    "phone_number_id": "106540352242922",
    "to": "16505551234",
    "wa_id": "16505551234",
    "body": "hi",
    "latitude": "1",
    "longitude": "1",
    "message_id": "wamid.X",
    "name": "shipping_update",
    "language": "en_US",
    "languages": "en_US",
    "topic": "intents",
    "waba_id": "100000000000001",
    "waba_ids": "100000000000001",
    "letter_id": "0:0",
    "letter_ids": "0:0",
    "since": "2026-01-01T00:00:00",
    "mps": "1",
    "numbers": "106540352242922",
}


EXTRAS: dict[tuple[str, ...], dict[str, str]] = {
    ("sandbox", "customer-message"): {"wa_id": "16505551234", "text": "hi"},
    ("sandbox", "marketing"): {"wa_id": "16505551234"},
    ("sandbox", "customer", "change-number"): {"wa_id": "16505551234"},
    ("send", "media"): {"media_id": "9"},
}
"""Optional parameters a command needs one of, so the baseline call is valid."""
SEND_TO = {"to": "16505551234"}  # every send names its customer, by --to or --recipient


def _valid(path: tuple[str, ...], param: click.Parameter, template: Path) -> str:
    if (*path, param.name) in SPECIAL:
        return SPECIAL[(*path, str(param.name))]
    if isinstance(param.type, click.Choice):
        return str(param.type.choices[0])
    if param.name == "file":
        return str(template.with_name("consent.jsonl") if path[0] == "consent" else template)
    return PLACEHOLDERS.get(str(param.name), "1")


def _argv(
    path: tuple[str, ...], template: Path, hostile: click.Parameter | None, value: str
) -> list[str]:
    """The command with every required parameter valid, and `hostile` given `value`."""
    options: list[str] = []
    arguments: list[str] = []
    extras = {**(SEND_TO if path[0] == "send" else {}), **EXTRAS.get(path, {})}
    for param in _command(path).params:
        if param is hostile:
            given_value = value
        elif param.required:
            given_value = _valid(path, param, template)
        elif param.name in extras:
            given_value = extras[str(param.name)]
        else:
            continue
        if isinstance(param, click.Argument):
            arguments.append(given_value)
        else:
            options += [param.opts[0], given_value]
    return [*path, *options, "--", *arguments] if arguments else [*path, *options]


def _params(path: tuple[str, ...]) -> list[click.Parameter]:
    return [
        p
        for p in _command(path).params
        if p.name not in SERVER_OPTIONS
        and not (isinstance(p, click.Option) and (p.is_flag or p.count))
        and p.expose_value
    ]


NUMBERS = st.sampled_from(["nan", "inf", "-inf", "-1", "1e999", "0x10", "", " ", "1" * 400])
TIMES = st.sampled_from(
    ["2026-13-01", "9999-12-31T23:59:59-23:59", "2026-03-05T09:00:00\x00", "now", "25:00"]
)
JSONISH = st.sampled_from(
    ["{", "[1,", '{"a": NaN}', "[" * 50_000, "null", "5", "@/nonexistent", "@/dev/null", "@/"]
)
PAIRS = st.sampled_from(["=", "novalue", "=v", "k==v", "k=\n", "k=\udcff"])
NOT_UTF8 = st.text(max_size=10).map(lambda t: t + "\udcff")  # bytes argv could not decode
HOSTILE = st.one_of(
    st.text(max_size=40),
    st.text(max_size=10).map(lambda t: t + "\x00" + t),
    NOT_UTF8,
    st.text(min_size=1, max_size=3).map(lambda t: t * 3000),
    NUMBERS,
    TIMES,
    JSONISH,
    PAIRS,
)


def check(result: Result) -> None:
    """An answer, never a traceback; exit 2 says what was wrong."""
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception}\n{result.output}"
    )
    assert "Traceback" not in result.output
    assert result.exit_code in EXIT_CODES, result.output
    if result.exit_code == 2:
        assert "Error" in result.stderr or "error" in result.stderr, result.output


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A template file; beside it, a consent file (for `consent import`)."""
    path = tmp_path_factory.mktemp("t") / "t.json"
    path.write_text(json.dumps({"name": "x", "language": "en_US", "components": []}))
    consent = {
        "phone_number_id": "106540352242922",
        "customer": "16505551234",
        "category": "marketing",
        "opted_in": True,
        "at": "2026-01-01T00:00:00+00:00",
        "source": "crm",
    }
    path.with_name("consent.jsonl").write_text(json.dumps(consent) + "\n")
    return path


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_the_baseline_call_of_each_command_is_valid(path: tuple[str, ...], template: Path) -> None:
    """Each command with its placeholders goes as far as the (unreachable) server, so the
    tests below fail only for the value they change."""
    result = CliRunner().invoke(main, _argv(path, template, None, ""), env=ENV)
    check(result)
    assert result.exit_code in (0, 69), result.output


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_value_of_any_parameter_gets_an_answer(
    path: tuple[str, ...], template: Path, data: st.DataObject
) -> None:
    params = _params(path)
    if not params:
        check(CliRunner().invoke(main, list(path), env=ENV))
        return
    param = data.draw(st.sampled_from(params), label="parameter")
    value = data.draw(HOSTILE, label="value")
    check(CliRunner().invoke(main, _argv(path, template, param, value), env=ENV))


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_nul_or_bytes_that_are_not_utf8_anywhere_are_refused(
    path: tuple[str, ...], template: Path, data: st.DataObject
) -> None:
    params = _params(path)
    bad = data.draw(st.sampled_from(["a\x00b", "caf\udce9"]), label="value")
    if params:
        argv = _argv(path, template, data.draw(st.sampled_from(params)), bad)
    else:
        argv = [*path, bad]
    result = CliRunner().invoke(main, argv, env=ENV)
    check(result)
    assert result.exit_code == 2
    assert "NUL character" in result.stderr or "not valid UTF-8" in result.stderr


def _by_name(path: tuple[str, ...], name: str) -> click.Parameter:
    return next(p for p in _command(path).params if p.name == name)


INVALID = {
    "number": st.one_of(
        NUMBERS.filter(lambda v: v not in ("-1", "1" * 400)), st.text("abcdxyz", min_size=1)
    ),
    "time": st.one_of(TIMES, st.text("abcdxyz :", min_size=1)),
    "json": st.one_of(
        JSONISH.filter(lambda v: v not in ("null", "5", "@/dev/null")),
        st.text(st.characters(exclude_characters='"}\x00'), max_size=20).map(lambda t: "{" + t),
    ),
    "pairs": st.text(st.characters(exclude_characters="=\x00"), max_size=20),
}
JSON_OPTIONS = [
    (("send", "interactive"), "payload"),
    (("send", "contacts"), "payload"),
    (("send", "template"), "components"),
    (("sandbox", "customer-message"), "content"),
    (("sandbox", "customer-message"), "referral"),
    (("templates", "preview"), "params"),
]
PAIR_OPTIONS = [
    (("send", "text"), "metadata"),
    (("tail",), "filters"),
    (("sandbox", "faults"), "settings"),
]
NUMERIC = (click.types.FloatParamType, click.types.IntParamType, Number)
CASES = [
    *[
        (c, str(p.name), "number")
        for c in COMMANDS
        for p in _params(c)
        if isinstance(p.type, NUMERIC)
    ],
    *[
        (c, str(p.name), "time")
        for c in COMMANDS
        for p in _params(c)
        if isinstance(p.type, Instant)
    ],
    *[(p, n, "json") for p, n in JSON_OPTIONS],
    *[(p, n, "pairs") for p, n in PAIR_OPTIONS],
]


@pytest.mark.parametrize(
    ("path", "name", "kind"), CASES, ids=lambda v: " ".join(v) if isinstance(v, tuple) else v
)
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_malformed_numbers_times_json_and_pairs_are_usage_errors(
    path: tuple[str, ...], name: str, kind: str, template: Path, data: st.DataObject
) -> None:
    value = data.draw(INVALID[kind], label="value")
    if kind == "pairs" and path == ("sandbox", "faults"):
        value = data.draw(st.sampled_from([value, "x=abc", "x=nan", "x=1e999"]))
    result = CliRunner().invoke(main, _argv(path, template, _by_name(path, name), value), env=ENV)
    check(result)
    assert result.exit_code == 2, (value, result.output)


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--bootstrap", "kafka:port", "tail", "intents"], "is not host:port"),
        (
            ["--bootstrap", "a b:1", "send", "text", "--from", "1", "--to", "2", "--body", "x"],
            "host:port",
        ),
        (["--topic-prefix", "a/b", "tail", "intents"], "topic prefix"),
        (["--profile", "/nonexistent", "tail", "intents"], "cannot read profile"),
        (["templates", "--url", "templates:8082", "list"], "not an http(s) URL"),
        (["templates", "--url", "http://x:99999", "list"], "not an http(s) URL"),
        (["templates", "--api-key", "a\nb", "list"], "printable"),
        (["sandbox", "--url", "http://a b", "messages"], "not an http(s) URL"),
        (["spend", "--dispatch-url", "dispatch:8084"], "not an http(s) URL"),
        (["window", "1", "2", "--policy-url", "file:///etc/passwd"], "not an http(s) URL"),
        (["send", "text", "--from", "1", "--to", "2", "--body", "x" * 4097], "at most 4096"),
        (
            ["send", "text", "--from", "1", "--to", "2", "--body", "x", "--intent-id", "i" * 129],
            "intent_id",
        ),
        (
            [
                "send",
                "template",
                "--from",
                "1",
                "--to",
                "2",
                "--name",
                "n",
                "--language",
                "en",
                "--button-url-param",
                "\u00b2=x",
            ],
            "INDEX=VALUE",
        ),
        (["templates", "create", "/nonexistent.json", "--waba", "1"], "cannot read"),
        (["deadletter", "show", "3"], "PARTITION:OFFSET"),
        (["tail", "nope"], "unknown topic"),
    ],
)
def test_servers_files_and_limits_are_checked_before_any_connection(
    argv: list[str], said: str
) -> None:
    result = CliRunner().invoke(main, argv, env=ENV)
    check(result)
    assert result.exit_code == 2 and said in result.stderr, result.output


def test_template_files_that_are_not_json_or_yaml_are_usage_errors(tmp_path: Path) -> None:
    cases = {
        "t.json": b"{oops",
        "t.yaml": b"a: [unclosed",
        "dates.yaml": b"when: 2026-03-05\n",
        "latin.json": b'{"name": "caf\xe9"}',
        "list.json": b"[1, 2]",
        "empty.yaml": b"",
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        result = CliRunner().invoke(
            main, ["templates", "create", str(tmp_path / name), "--waba", "1"], env=ENV
        )
        check(result)
        assert result.exit_code == 2, (name, result.output)


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ('[{"type": "body", "parameters": [{"type": "text", "text": "a\\u0000b"}]}]', "NUL"),
        ('[{"type": "body", "parameters": [{"type": "text", "text": 1e999}]}]', "too large"),
    ],
)
def test_a_json_value_no_intent_may_carry_is_a_usage_error(
    value: str, said: str, template: Path
) -> None:
    path = ("send", "template")
    result = CliRunner().invoke(
        main, _argv(path, template, _by_name(path, "components"), value), env=ENV
    )
    check(result)
    assert result.exit_code == 2 and said in result.stderr, result.output
