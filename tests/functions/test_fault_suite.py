"""The fault suite (verify/fault_suite.py): nothing accepted is lost or duplicated, no 5xx, every
answer within the function's timeout, under throttling, 5xx and timeouts injected below botocore.

The suite is shown to be able to fail: with the write conditions removed it counts duplicates,
with deferral that drops intents it counts lost writes, without the deadline hooks it counts
answers past the timeout. `make soak` runs it larger (README "Reliability").
"""

from unittest import mock

import pytest

from verify import fault_suite
from verify.faults import FAULT_KINDS

# One full turn of the weather: every fault kind, intermittent and sustained, calm and the
# dead-letter weather, 15 writes each (make soak runs 4,000 writes over three seeds, 25 a turn).
SEGMENT_WRITES = 10
SUITE_WRITES = SEGMENT_WRITES * (2 + 2 * len(FAULT_KINDS))


@pytest.fixture(scope="module")
def suite():
    return fault_suite.run(seed=20261126, writes=SUITE_WRITES, segment_writes=SEGMENT_WRITES)


def test_writes_under_every_fault_kind_lose_and_duplicate_nothing_and_each_shows_its_fate(suite):
    total = suite.total()
    assert total["tried"] == SUITE_WRITES
    assert (total["lost"], total["duplicated"], total["5xx"], total["over_deadline"]) == (0, 0, 0, 0), total
    assert total["held"] == total["accepted"] and total["pending"] == 0
    # The weather really was bad, the 202 path really was taken, and the dead-letter path too.
    faults_seen = {fault for (_op, fault), counts in suite.rows.items() if counts["tried"]}
    assert faults_seen >= {"none", fault_suite.REFUSED, *FAULT_KINDS}, faults_seen
    assert total["deferred"] >= 100 and suite.injected >= 300
    assert total["dead_lettered"] > 0  # each visible as such (held counts it), none pending
    for operation in fault_suite.OPERATIONS:
        assert suite.by(0)[operation]["accepted"] > 0, operation


def test_the_report_names_every_column_per_fault_and_operation(suite):
    table = fault_suite.render_markdown([suite])
    header = "| fault | tried | accepted | deferred | held | dead lettered | pending | lost | duplicated | 5xx | over deadline |"
    assert header in table
    assert f"| **all** | **{SUITE_WRITES}** |" in table
    for name in ("throttle", "http502_html", "read_timeout_after", "*create*", "*subscribe*"):
        assert f"| {name} |" in table


def test_the_suite_counts_duplicates_when_writes_stop_being_conditional():
    from shared import writes

    real = writes._data_request

    def unconditional(*args, **kwargs):
        kind, request, written = real(*args, **kwargs)
        request = {k: v for k, v in request.items() if k != "ConditionExpression"}
        values = {k: v for k, v in request.pop("ExpressionAttributeValues", {}).items() if k != ":expected"}
        if values:
            request["ExpressionAttributeValues"] = values
        return kind, request, written

    with (
        mock.patch.object(writes, "_data_request", unconditional),
        mock.patch.object(writes, "_record_if_undecided", lambda _epoch: {}),
    ):
        broken = fault_suite.run(seed=5, writes=2 * SEGMENT_WRITES, segment_writes=SEGMENT_WRITES)
    assert broken.total()["duplicated"] > 0


def test_the_suite_counts_lost_writes_when_a_deferral_drops_the_intent():
    from api import writing

    real_client = writing.aws.client

    def dropping_publishes(service, *args, **kwargs):
        return mock.Mock() if service == "sns" else real_client(service, *args, **kwargs)

    with mock.patch.object(writing.aws, "client", dropping_publishes):
        broken = fault_suite.run(seed=5, writes=2 * SEGMENT_WRITES, segment_writes=SEGMENT_WRITES)
    assert broken.total()["lost"] > 0


def test_the_suite_counts_answers_past_the_timeout_without_the_deadline_hooks():
    """Sustained stalls and timeouts against a function with a 6 s timeout (three attempts of a
    1 s connect and a 2 s read timeout do not fit): held with the hooks, overrun without them."""
    from shared import aws

    def no_check(**_):
        return None

    def unbounded(sdk_handler):
        return sdk_handler

    seed, writes = 70, 2 * SEGMENT_WRITES  # the seed's first two segments: a sustained stall, then read timeouts
    guarded = fault_suite.run(seed=seed, writes=writes, timeout_seconds=6, segment_writes=SEGMENT_WRITES)
    assert guarded.total()["over_deadline"] == 0
    with mock.patch.object(aws, "_before_attempt", no_check), mock.patch.object(aws, "_deadline_bound_retries", unbounded):
        broken = fault_suite.run(seed=seed, writes=writes, timeout_seconds=6, segment_writes=SEGMENT_WRITES)
    assert broken.total()["over_deadline"] > 0
