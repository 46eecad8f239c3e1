"""The claim's blocking rules are built once for the journal table (issue 15: building their
aliases anew took most of every claim), and anew for a caller's own alias."""

from __future__ import annotations

from sqlalchemy.orm import aliased

from neutrino.db.models import JournalEntry
from neutrino.journal import claim


def test_the_rules_for_the_journal_table_are_built_once():
    for rule in (claim._blocked_by_same_resource, claim._blocked_by_parents,
                 claim._blocked_by_children):
        assert rule(JournalEntry) is rule(JournalEntry)


def test_a_callers_alias_gets_rules_of_its_own():
    mine = aliased(JournalEntry)
    built = claim.blocked(mine)
    assert built is not claim.blocked(mine)
    assert str(built) != str(claim.blocked(JournalEntry))
    assert str(built.compile()) == str(claim.blocked(mine).compile())
