"""benchmarks/replicas.py's bookkeeping: what counts as a failed list request, and which writes fall in
an outage. (The benchmark itself starts PostgreSQL, two replicas with the real model and wrk: minutes,
not a test; docs/benchmarks.md has its commands.)"""

from __future__ import annotations

from benchmarks.replicas import Write, list_errors, summarise_wrk, writes_between


def test_every_answer_but_a_2xx_and_every_socket_error_and_timeout_is_a_failed_list_request() -> None:
    run = summarise_wrk(
        {
            "connections": 32,
            "requests": 1000,
            "rps": 100.0,
            "errors": {"connect": 1, "read": 2, "write": 3, "status": 7, "timeout": 4},
            "statuses": {"200": 990, "204": 3, "304": 2, "503": 5},
            "p50_ms": 1.0,
            "p99_ms": 9.0,
        }
    )
    assert (run["non_2xx"], run["socket_errors"], run["timeouts"]) == (7, 6, 4)
    assert list_errors({"a": run, "b": run}) == 34


def test_an_outage_holds_the_writes_sent_after_the_kill_and_answered_before_the_restart() -> None:
    def write(sent: float, answered: float, status: int | None, retry_after: str | None = None) -> Write:
        return Write("a", "s", "t", sent, answered, status, retry_after, None if status else "ConnectError")

    writes = [
        write(0.5, 0.9, 200),  # before the kill
        write(0.9, 1.2, 200),  # answered after the kill: in no phase
        write(1.1, 1.3, 503, "1"),
        write(1.4, 1.5, 503),  # no Retry-After
        write(1.6, 1.7, None),
        write(2.5, 2.6, 200),  # after the restart
    ]
    outage = writes_between(writes, 1.0, 2.0)
    assert outage == {
        "attempted": 3,
        "by_answer": {"503": 2, "ConnectError": 1},
        "503_with_retry_after": 1,
        "acknowledged": 0,
        "slowest_answer_s": 0.2,
    }
    assert writes_between(writes, 0, 1.0)["acknowledged"] == 1
    assert writes_between(writes, 2.0, float("inf"))["acknowledged"] == 1
