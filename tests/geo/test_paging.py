"""Households a page at a time: 50 on the page, 100 in the JSON API; a page past the last is empty, not an error."""

import re

import pytest

from outreach.extensions import db
from outreach.geo.services import HouseholdInput, create_household
from tests.conftest import NOW, login


@pytest.fixture
def many(users, geo):
    """101 households of Tân Hà, named so that their order is their number."""
    for n in range(101):
        data = HouseholdInput(village_id=geo["tanha_v1"].id, head_name=f"Hộ {n:03d}")
        create_household(users["leader"], data, now=NOW, confirm_duplicate=True)
    db.session.commit()


def _names(page: str) -> list[str]:
    return re.findall(r"<strong>(Hộ \d{3})</strong>", page)


def _pager(page: str) -> list[str]:
    found = re.search(r'<nav class="pager">(.*?)</nav>', page, re.S)
    if found is None:
        return []
    return re.findall(r'href="([^"]+)"', found.group(1)) + re.findall(r"<span>(.*?)</span>", found.group(1))


def test_the_api_gives_100_households_a_page_and_the_total(client, users, many):
    login(client, "leader.tanha")
    first = client.get("/api/v1/households").get_json()
    assert set(first) == {"total", "page", "households"}
    assert (first["total"], first["page"], len(first["households"])) == (101, 1, 100)
    assert first["households"][0]["head_name"] == "Hộ 000"
    second = client.get("/api/v1/households?page=2").get_json()
    assert (second["total"], second["page"], [h["head_name"] for h in second["households"]]) == (101, 2, ["Hộ 100"])


@pytest.mark.parametrize("asked, answered", [("0", 1), ("-3", 1), ("two", 1), ("", 1)])
def test_the_api_reads_a_page_that_is_not_a_positive_number_as_the_first(client, users, many, asked, answered):
    login(client, "leader.tanha")
    body = client.get(f"/api/v1/households?page={asked}").get_json()
    assert (body["total"], body["page"], len(body["households"])) == (101, answered, 100)


def test_the_api_answers_a_page_past_the_last_with_no_households(client, users, many):
    login(client, "leader.tanha")
    response = client.get("/api/v1/households?page=3")
    assert response.status_code == 200
    assert response.get_json() == {"total": 101, "page": 3, "households": []}


def test_the_api_pages_a_search(client, users, many):
    login(client, "leader.tanha")
    body = client.get("/api/v1/households?q=ho 01").get_json()
    assert (body["total"], body["page"]) == (10, 1)
    assert [h["head_name"] for h in body["households"]] == [f"Hộ {n:03d}" for n in range(10, 20)]


def test_the_page_shows_50_households_and_links_to_the_next(client, users, many):
    login(client, "leader.tanha")
    page = client.get("/households").get_data(as_text=True)
    assert _names(page) == [f"Hộ {n:03d}" for n in range(50)]
    assert _pager(page) == ["/households?q=&amp;page=2", "Trang 1/3"]


def test_the_middle_page_links_both_ways_and_keeps_the_search(client, users, geo, many):
    login(client, "leader.tanha")
    village = geo["tanha_v1"].id
    page = client.get(f"/households?q=ho&village={village}&page=2").get_data(as_text=True)
    assert _names(page) == [f"Hộ {n:03d}" for n in range(50, 100)]
    assert _pager(page) == [
        f"/households?q=ho&amp;village={village}&amp;page=1",
        f"/households?q=ho&amp;village={village}&amp;page=3",
        "Trang 2/3",
    ]


def test_the_last_page_links_back_only(client, users, many):
    login(client, "leader.tanha")
    page = client.get("/households?page=3").get_data(as_text=True)
    assert _names(page) == ["Hộ 100"]
    assert _pager(page) == ["/households?q=&amp;page=2", "Trang 3/3"]


def test_a_page_past_the_last_is_empty_and_links_back(client, users, many):
    login(client, "leader.tanha")
    response = client.get("/households?page=7")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert _names(page) == [] and "101 hộ" in page
    assert _pager(page) == ["/households?q=&amp;page=6", "Trang 7/3"]


@pytest.mark.parametrize("asked", ["0", "-1", "x"])
def test_a_page_that_is_not_a_positive_number_is_the_first(client, users, many, asked):
    login(client, "leader.tanha")
    page = client.get(f"/households?page={asked}").get_data(as_text=True)
    assert _names(page)[0] == "Hộ 000" and _pager(page) == ["/households?q=&amp;page=2", "Trang 1/3"]


def test_one_page_needs_no_pager(client, users, geo):
    login(client, "leader.tanha")
    create_household(users["leader"], HouseholdInput(village_id=geo["tanha_v1"].id, head_name="Hộ 000"), now=NOW)
    db.session.commit()
    page = client.get("/households").get_data(as_text=True)
    assert _names(page) == ["Hộ 000"] and _pager(page) == []
