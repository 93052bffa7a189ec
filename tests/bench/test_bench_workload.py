from __future__ import annotations

from bench._workload import fill_schedule, regenerate_id

DAY = 86_400 * 10**9


def test_fill_schedule_walks_the_pool_and_the_window_in_order() -> None:
    schedule = list(fill_schedule(5, 2, DAY))
    assert [(index, generation) for index, generation, _ in schedule] == [
        (0, 0), (1, 0), (0, 1), (1, 1), (0, 2),
    ]  # fmt: skip
    shifts = [shift for _, _, shift in schedule]
    assert shifts[0] == -DAY
    assert shifts == sorted(shifts)
    assert all(-DAY <= shift < 0 for shift in shifts)


def test_regenerated_ids_are_distinct_per_generation() -> None:
    ids = [bytes([n]) * 16 for n in range(1, 20)]
    seen = {regenerate_id(i, g) for i in ids for g in range(50)}
    assert len(seen) == len(ids) * 50
    assert regenerate_id(ids[0], 0) == ids[0]
    assert regenerate_id(ids[0], 3)[:8] == ids[0][:8]
    assert regenerate_id(b"", 3) == b""
