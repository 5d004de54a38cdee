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
