"""Property tests: any bytes and any JSON values give a report, never an exception."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peftstudio.data import DataReport, check_file

SUFFIXES = [".jsonl", ".json", ".csv", ".tsv", ".txt", ".parquet", ".dat"]
_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["messages", "role", "content", "prompt", "completion", "text", "label", "from", "value",
                         "instruction", "output", "x"]) | st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def _check(path: Path) -> DataReport:
    report = check_file(path)
    assert isinstance(report, DataReport)
    assert report.rows >= 0
    for f in report.findings:
        assert f.severity in ("error", "warning", "info") and f.message
        assert all(r >= 1 for r in f.rows)
    return report


@_SETTINGS
@given(data=st.binary(max_size=2000), suffix=st.sampled_from(SUFFIXES))
def test_arbitrary_bytes_give_a_report(tmp_path: Path, data: bytes, suffix: str) -> None:
    path = tmp_path / f"any{suffix}"
    path.write_bytes(data)
    _check(path)


@_SETTINGS
@given(values=st.lists(json_values, max_size=8), suffix=st.sampled_from([".jsonl", ".json"]))
def test_arbitrary_json_values_give_a_report(tmp_path: Path, values: list, suffix: str) -> None:  # type: ignore[type-arg]
    path = tmp_path / f"values{suffix}"
    if suffix == ".jsonl":
        path.write_text("".join(json.dumps(v) + "\n" for v in values))
    else:
        path.write_text(json.dumps(values if len(values) != 1 else values[0]))
    _check(path)


@_SETTINGS
@given(text=st.text(max_size=400), suffix=st.sampled_from([".csv", ".tsv", ".txt", ".jsonl"]),
       encoding=st.sampled_from(["utf-8", "utf-16", "utf-8-sig", "utf-32"]))
def test_arbitrary_text_in_any_encoding_gives_a_report(tmp_path: Path, text: str, suffix: str,
                                                       encoding: str) -> None:
    path = tmp_path / f"text{suffix}"
    path.write_bytes(text.encode(encoding, errors="surrogatepass"))
    _check(path)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 300) | st.integers(0, 10**9), min_size=1, max_size=200))
def test_length_statistics_are_the_order_statistics_of_the_lengths(values: list[int]) -> None:
    """Counted (small ranges) or partitioned (wide ones): the same numbers a sort gives."""
    from array import array

    from peftstudio.data.check import length_stats

    stats = length_stats(array("q", values), estimated=True)
    ordered, n = sorted(values), len(values)
    assert (stats.tokens_min, stats.tokens_median, stats.tokens_p95, stats.tokens_max, stats.tokens_total) == (
        ordered[0], ordered[(n - 1) // 2], ordered[min(n - 1, int(0.95 * n))], ordered[-1], sum(values))
    assert sum(b.count for b in stats.histogram) == n
