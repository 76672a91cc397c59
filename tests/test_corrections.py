"""Corrections linked to what they correct (storage.links): the pure pairing rule, and what the
``ukparliament`` kind declares from the API's ``linkedStatements`` (the shape of the API's OpenAPI
description; the real list responses of ../shared give them unexpanded, ``[]``)."""

from __future__ import annotations

import json

from crawler.kinds import ukparliament
from storage.links import Declares, correction_pairs
from tests.conftest import PROJECT

GOLDEN = PROJECT / "tests" / "seeds" / "ukparliament"


def test_the_later_made_corrects_the_earlier_whichever_side_declares_it() -> None:
    wrong = Declares(1, "500", "2021-02-01")
    right = Declares(2, "400", "2021-03-29", (("500", "2021-03-29"),))
    assert correction_pairs([wrong, right]) == [(1, 2, "2021-03-29")]
    declared_by_wrong = Declares(1, "500", "2021-02-01", (("400", "2021-03-29"),))
    plain = Declares(2, "400", "2021-03-29")
    assert correction_pairs([plain, declared_by_wrong]) == [(1, 2, "2021-03-29")]


def test_a_pair_declared_on_both_sides_is_one_link_and_the_same_day_goes_by_id() -> None:
    a = Declares(7, "901", "2021-02-01", (("900", "2021-02-02"),))
    b = Declares(3, "900", "2021-02-01", (("901", "2021-02-02"),))
    assert correction_pairs([a, b]) == [(3, 7, "2021-02-02")]


def test_a_link_to_a_statement_not_archived_or_to_itself_is_no_pair() -> None:
    alone = Declares(1, "10", "2021-02-01", (("11", "2021-02-03"), ("10", "")))
    assert correction_pairs([alone, Declares(2, None, "2021-02-05")]) == []


def test_the_kind_declares_correction_links_only() -> None:
    value = json.loads((GOLDEN / "correction-with-html.json").read_text("utf-8"))["value"]
    value["linkedStatements"].append(
        {"linkedStatementId": 77, "linkType": "JointStatement", "linkDate": "2021-03-29T00:00:00"}
    )
    about = ukparliament.read_statement(value).declared().about
    assert about["id"] == 1290001
    assert about["corrections"] == [{"id": "1282160", "linked": "2021-03-29"}]
    assert ukparliament.corrections(None) == ukparliament.corrections([{"linkType": 1}]) == []
