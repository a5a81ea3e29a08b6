"""The per-number circuit: refused credentials open it, one probe after the cool-down."""

from __future__ import annotations

from services.dispatch.circuit import Circuit, CircuitState

OPEN, HALF, CLOSED = CircuitState.OPEN, CircuitState.HALF_OPEN, CircuitState.CLOSED


def test_a_refusal_opens_and_the_cooldown_lets_one_probe_through() -> None:
    circuit = Circuit(cooldown_s=30, max_cooldown_s=600)
    assert circuit.allows(0)
    circuit.refused(0)
    assert circuit.state is OPEN and not circuit.allows(10)
    assert circuit.reopens_in(10) == 20
    assert circuit.allows(30) and circuit.state is HALF
    assert not circuit.allows(30)  # only one probe
    circuit.succeeded()
    assert circuit.state is CLOSED and circuit.allows(31)


def test_each_refused_probe_doubles_the_cooldown_up_to_the_cap() -> None:
    circuit = Circuit(cooldown_s=100, max_cooldown_s=300)
    cooldowns = []
    now = 0.0
    circuit.refused(now)
    for _ in range(4):
        cooldowns.append(circuit.current_cooldown_s)
        now += circuit.current_cooldown_s
        assert circuit.allows(now)
        circuit.refused(now)
    assert cooldowns == [100, 200, 300, 300]


def test_a_probe_without_an_answer_keeps_it_open_for_another_cooldown() -> None:
    circuit = Circuit(cooldown_s=10)
    circuit.refused(0)
    assert circuit.allows(10)
    circuit.inconclusive(12)
    assert circuit.state is OPEN and circuit.reopens_in(12) == 10
    circuit.inconclusive(13)  # only a probe moves it
    assert circuit.reopens_in(13) == 9
