"""gc_held: collection is off while any holder's block runs, and back as it was after the last one."""

from __future__ import annotations

import gc

from airflow_provider_sms._gc import gc_held


def test_nested_holders_restore_collection_only_at_the_end() -> None:
    assert gc.isenabled()
    with gc_held():
        assert not gc.isenabled()
        with gc_held():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer holder is still polling
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled() -> None:
    gc.disable()
    try:
        with gc_held():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def _in_young_generations(obj: object) -> bool:
    return any(o is obj for o in (*gc.get_objects(generation=0), *gc.get_objects(generation=1)))


def test_the_loops_survivors_go_to_the_oldest_generation() -> None:
    from airflow_provider_sms.operators.send import gc_paused

    with gc_paused():
        survivor = [str(n) for n in range(1000)]
        assert _in_young_generations(survivor)
    assert gc.isenabled()
    assert not _in_young_generations(survivor)  # no young collection walks it again
    assert any(o is survivor for o in gc.get_objects(generation=2))
    assert gc.get_freeze_count() == 0


def test_objects_a_process_froze_stay_frozen() -> None:
    from airflow_provider_sms.operators.send import gc_paused

    shared = [[n] for n in range(10)]
    gc.freeze()  # as a forked LocalExecutor worker holds its parent's objects
    try:
        with gc_paused():
            young = [[n] for n in range(10)]
        assert gc.get_freeze_count() > 0
        assert not any(o is shared for o in gc.get_objects())  # still frozen: in no generation
        assert _in_young_generations(young)  # left to the collector's usual course
    finally:
        gc.unfreeze()
