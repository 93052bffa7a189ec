"""Log patterns mined by Drain: lines made from known templates come back as those
templates, with ``<_>`` where the made lines differ, counted per step and level.

The expected patterns are the templates the lines were made from (their variable slots
written ``<_>``); the expected counts are counted here, from how the lines were made."""

from __future__ import annotations

import random
from collections import Counter

from otelite.query.logql._pattern_mining import MAX_TOKENS, PARAM, mine_patterns, tokenize

STEP = 60 * 10**9


def test_tokens_keep_punctuation_and_one_space_per_gap() -> None:
    assert tokenize('  level=info  msg="GET /a"\t') == [
        "level", "=", "info", " ", "msg", "=", '"', "GET", " ", "/a", '"'
    ]  # fmt: skip


def test_a_very_long_line_is_clustered_by_its_head() -> None:
    tokens = tokenize(" ".join(["w"] * 1000))
    assert len(tokens) == MAX_TOKENS
    assert tokens[-1] == PARAM


def _made(seed: int) -> tuple[list[str], list[int], list[str], Counter[tuple[str, str, int]]]:
    """Lines from three templates at random times over an hour, and the count of each
    (template, level, step) as made."""
    rng = random.Random(seed)

    def get() -> str:
        return f"GET /items/{rng.randint(1, 999)} took {rng.randint(1, 900)}ms"

    def slow() -> str:
        table = rng.choice(["orders", "users", "sku"])
        return f'level=warn msg="slow query" table={table} rows={rng.randint(1, 10**6)}'

    def declined() -> str:
        return f"payment declined for card {rng.randint(1000, 9999)}"

    templates = [
        ("GET <_> took <_>", "info", get),
        ('level=warn msg="slow query" table=<_> rows=<_>', "warn", slow),
        ("payment declined for card <_>", "error", declined),
    ]
    lines, times, levels = [], [], []
    expected: Counter[tuple[str, str, int]] = Counter()
    for _ in range(3000):
        pattern, level, make = rng.choice(templates)
        at = 1_700_000_000 * 10**9 + rng.randrange(3600 * 10**9)
        lines.append(make())
        times.append(at)
        levels.append(level)
        expected[(pattern, level, at - at % STEP)] += 1
    return lines, times, levels, expected


def test_lines_of_known_templates_give_back_those_templates_and_their_counts() -> None:
    lines, times, levels, expected = _made(seed=7)
    found = mine_patterns(lines, times, levels, step_ns=STEP)
    got = Counter({(p.text, p.level, at): count for p in found for at, count in p.samples})
    assert got == expected
    totals = [p.total for p in found]
    assert totals == sorted(totals, reverse=True)
    assert sum(totals) == len(lines)


def test_lines_that_repeat_exactly_are_their_own_pattern_and_levels_stay_apart() -> None:
    lines = ["connection reset by peer"] * 3 + ["user logged out"] * 2
    levels = ["error", "error", "warn", "info", "info"]
    found = mine_patterns(lines, [0, STEP, STEP, 0, 0], levels, step_ns=STEP)
    # The most lines first; ties by text, then level.
    assert [(p.text, p.level, p.samples) for p in found] == [
        ("connection reset by peer", "error", ((0, 1), (STEP, 1))),
        ("user logged out", "info", ((0, 2),)),
        ("connection reset by peer", "warn", ((STEP, 1),)),
    ]


def test_lines_of_different_shapes_never_merge() -> None:
    lines = ["a b c", "a b c d", "a=b"]
    found = mine_patterns(lines, [0, 0, 0], ["info"] * 3, step_ns=STEP)
    assert sorted(p.text for p in found) == ["a b c", "a b c d", "a=b"]
