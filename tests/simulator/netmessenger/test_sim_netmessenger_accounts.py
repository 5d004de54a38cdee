"""NetMessenger child users: ``CreateUser`` and ``UpdateCredits`` moving credits between parent and child."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_sms.simulator.server import SimulatorServer
from tests.simulator.netmessenger.test_sim_netmessenger_units import NmClient

CHILD = {
    "ChildUsername": "kid",
    "ChildPassword": "kid-pass-123",
    "AccessLevel": "Normal",
    "FirstName": "Kim",
    "LastName": "Doe",
    "Email": "kim@example.com",
    "Credits": "100",
}


@pytest.fixture
def nm(sms_simulator: SimulatorServer) -> NmClient:
    return NmClient(sms_simulator)


def create(nm: NmClient, **overrides: Any) -> str:
    return nm.call("CreateUser", **{**CHILD, **overrides})


def test_create_user_takes_its_credits_from_the_parent(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    assert create(nm, Telephone="447700900001", Alert="30", AccessLevel="admin", **{"Credit Reminder": "10"}) == "1"
    assert nm.call("CheckCredits") == "900"
    (child,) = sms_simulator.netmessenger.child_users()
    assert child["username"] == "kid"
    assert (child["access_level"], child["credits"], child["credit_reminder"], child["alert"]) == ("Admin", 100, 10, 30)
    assert "kid-pass-123" not in repr(child)


def test_create_user_reads_credit_reminder_as_the_page_spells_it(nm: NmClient,
                                                                 sms_simulator: SimulatorServer) -> None:
    assert create(nm, **{"Credit Reminder": "5"}) == "1"
    assert sms_simulator.netmessenger.child_users()[0]["credit_reminder"] == 5
    # The .NET SDK's "CreditReminder" is not the page's parameter: like any unknown one, ignored.
    assert create(nm, ChildUsername="kid2", CreditReminder="7") == "1"
    assert sms_simulator.netmessenger.child_users()[1]["credit_reminder"] is None


def test_create_user_missing_or_invalid_details_is_507_with_details(nm: NmClient) -> None:
    fields = {k: v for k, v in CHILD.items() if k not in ("FirstName", "Email")}
    assert nm.call("CreateUser", **fields) == "-507\nMissing FirstName\nMissing Email"
    assert create(nm, AccessLevel="Boss", ShowErrorMessage="1") == (
        "-507\nInvalid/Missing Details\nAccessLevel must be Normal or Admin"
    )
    assert create(nm, Email="nobody").startswith("-507\n")
    assert create(nm, Credits="-1").startswith("-507\n")
    assert create(nm, Credits="ten").startswith("-507\n")
    assert create(nm, Alert="soon").startswith("-507\n")
    assert nm.call("CheckCredits") == "1000"


def test_duplicate_username_is_508(nm: NmClient) -> None:
    assert create(nm) == "1"
    assert create(nm).startswith("-508\n")
    assert create(nm, ChildUsername="demo", ShowErrorMessage="1").startswith("-508\nError Creating User\n")
    assert nm.call("CheckCredits") == "900"


def test_create_user_with_more_credits_than_the_parent_is_100(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    assert create(nm, Credits="1001") == "-100"
    assert sms_simulator.netmessenger.child_users() == []


def test_update_credits_moves_credits_both_ways(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    create(nm)
    assert nm.call("UpdateCredits", ChildUsername="kid", Quantity="50") == "1"
    assert (nm.call("CheckCredits"), sms_simulator.netmessenger.child_users()[0]["credits"]) == ("850", 150)
    assert nm.call("UpdateCredits", ChildUsername="kid", Quantity="-150") == "1"
    assert (nm.call("CheckCredits"), sms_simulator.netmessenger.child_users()[0]["credits"]) == ("1000", 0)
    assert sms_simulator.netmessenger.credits() == 1000


def test_update_credits_errors(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    create(nm)
    assert nm.call("UpdateCredits", ChildUsername="nobody", Quantity="5", ShowErrorMessage="1") == (
        "-509\nUnknown/Invalid User"
    )
    assert nm.call("UpdateCredits", Quantity="5") == "-509"
    assert nm.call("UpdateCredits", ChildUsername="kid", Quantity="1.5") == "-702"
    assert nm.call("UpdateCredits", ChildUsername="kid", Quantity="lots") == "-702"
    assert nm.call("UpdateCredits", ChildUsername="kid", Quantity="0") == "-702"
    assert nm.call("UpdateCredits", ChildUsername="kid") == "-702"
    assert nm.call("UpdateCredits", ChildUsername="kid", Quantity="-101", ShowErrorMessage="1") == (
        "-510\nYou cannot set a user\u2019s credits to be less than 0"
    )
    assert nm.call("UpdateCredits", ChildUsername="kid", Quantity="901") == "-100"
    assert nm.call("CheckCredits") == "900"
    assert sms_simulator.netmessenger.child_users()[0]["credits"] == 100
