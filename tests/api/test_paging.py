"""Lists a page at a time (issue 16, item 12): ``?limit=`` and ``?after=``, and a
``Link: rel="next"`` header while more follow. Following the links reads every record once,
in order."""

import re

import pytest
from tests.api.conftest import World

NEXT = re.compile(r'^<(?P<url>[^>]+)>; rel="next"$')


def _all_pages(world: World, who: str, path: str) -> tuple[list[int], int]:
    """Every id, following the links from ``path``; and how many pages were read."""
    ids: list[int] = []
    pages = 0
    url: str | None = f"http://testserver/api/v1{path}"
    while url is not None:
        answer = world.client.get(url, headers=world.as_(who))
        assert answer.status_code == 200, answer.text
        pages += 1
        ids.extend(item["id"] for item in answer.json())
        link = answer.headers.get("link")
        found = None if link is None else NEXT.match(link)
        assert (link is None) == (found is None), link
        url = None if found is None else found["url"]
    return ids, pages


def test_check_ins_a_page_at_a_time(world: World) -> None:
    path = f"/patients/{world.patient_a1}/symptom-reports"
    for key in range(5):
        sent = world.client.post(
            f"/api/v1{path}",
            json={"symptoms": {"headache": 1}, "note": f"page test {key}"},
            headers={**world.as_("caregiver_a"), "Idempotency-Key": f"paging-{key}"},
        )
        assert sent.status_code == 201, sent.text
    everything = world.client.get(f"/api/v1{path}", headers=world.as_("nurse_a")).json()

    ids, pages = _all_pages(world, "nurse_a", f"{path}?limit=2")

    assert ids == [item["id"] for item in everything]
    assert len(ids) >= 5
    assert pages == -(-len(ids) // 2)  # a full last page has no link after it
    assert ids == sorted(set(ids))


def test_patients_a_page_at_a_time(world: World) -> None:
    everything = world.client.get("/api/v1/patients", headers=world.as_("nurse_a")).json()

    ids, _ = _all_pages(world, "nurse_a", "/patients?limit=1")

    assert ids == [p["id"] for p in everything]
    assert len(ids) >= 2


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "after=-1", "after=99999999999"])
def test_a_page_out_of_bounds_is_refused_naming_it(world: World, query: str) -> None:
    answer = world.client.get(f"/api/v1/patients?{query}", headers=world.as_("nurse_a"))

    assert answer.status_code == 422
    assert query.split("=")[0] in answer.text
