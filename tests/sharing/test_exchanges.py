"""Who sees what partners exchange on the server, each answer with its reason."""

from __future__ import annotations

from jointplan.sharing import exchanges


def test_a_thread_is_seen_by_its_opener_and_those_it_is_shared_with():
    assert exchanges.thread_audience("AAA", ["BBB"]) == {"AAA", "BBB"}
    assert exchanges.sees_thread("BBB", "AAA", ["BBB"])
    decision = exchanges.sees_thread("CCC", "AAA", ["BBB"])
    assert not decision and decision.reason == "CCC is not a partner of the thread"


def test_a_message_is_seen_by_its_author_and_its_share_only():
    assert exchanges.sees_message("AAA", "AAA", []).reason == "AAA wrote the message"
    assert exchanges.sees_message("BBB", "AAA", ["BBB"])
    assert not exchanges.sees_message("CCC", "AAA", ["BBB"])


def test_a_proposal_is_between_its_proposer_and_the_plans_owner():
    assert exchanges.sees_proposal("AAA", "AAA", "BBB")
    assert exchanges.sees_proposal("BBB", "AAA", "BBB").reason.startswith("BBB owns")
    assert not exchanges.sees_proposal("CCC", "AAA", "BBB")


def test_a_decision_is_seen_by_its_opener_and_the_partners_asked():
    assert exchanges.sees_decision("AAA", "AAA", ["BBB"])
    assert exchanges.sees_decision("BBB", "AAA", ["BBB"])
    assert not exchanges.sees_decision("CCC", "AAA", ["BBB"])


def test_an_acknowledgement_is_between_provider_and_expecter():
    assert exchanges.sees_acknowledgement("BBB", "BBB", "AAA")
    assert exchanges.sees_acknowledgement("AAA", "BBB", "AAA")
    assert not exchanges.sees_acknowledgement("CCC", "BBB", "AAA")
    assert not exchanges.sees_acknowledgement("CCC", "BBB", None)


def test_a_partner_reads_audit_entries_about_its_data_or_its_people():
    assert exchanges.reads_audit_entry("AAA", "AAA", []).reason == "one of AAA's people acted"
    assert exchanges.reads_audit_entry("AAA", "BBB", ["AAA", "BBB"])
    assert not exchanges.reads_audit_entry("CCC", "BBB", ["AAA", "BBB"])
    assert exchanges.sees_own_side("AAA", "AAA") and not exchanges.sees_own_side("AAA", "BBB")
