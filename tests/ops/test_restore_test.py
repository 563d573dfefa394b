"""The restore drill: PITR and object versions on moto; AWS Backup restore jobs through stubs.

moto restores a table to a point in time by copying every item, whatever the time asked for, and
has no AWS Backup restore API (no recovery points, no restore jobs). So: the table's restore is
tested for the calls, the comparison and the cleanup, with the live table changed after the
restore to stand for writes after the restore point; the media restore's point-in-time choice is
tested for real on versioned moto buckets under a controlled S3 clock; the AWS Backup path runs
against botocore's Stubber (which checks every request against the service model), with the
scratch table created in moto where AWS Backup would create it.
"""

import datetime as dt
import json
import random

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from ops import restore_test
from ops.restore_test import Clock, RestoreError, RestoreTarget, RestoreTest
from tests.helpers import FakeClock, sdr

REGION = "us-east-1"
TABLE, BUCKET, VAULT = "app-table-1a2b3c4", "media-us-east-1-5d6e7f8", "backups-us-east-1-9a8b7c6"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:123456789012:table/{TABLE}"
ROLE_ARN = "arn:aws:iam::123456789012:role/backups-role-1234567"
RUN = "20261126091500"
T0 = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)
OUTPUTS = {
    "regions": [REGION, "us-west-2"],
    "homeRegion": REGION,
    "tableName": TABLE,
    "tableArns": {REGION: TABLE_ARN, "us-west-2": TABLE_ARN.replace(REGION, "us-west-2")},
    "mediaBuckets": {REGION: BUCKET, "us-west-2": "media-us-west-2-0a1b2c3"},
    "backupRoleArn": ROLE_ARN,
    "backupVaults": {REGION: VAULT, "us-west-2": "backups-us-west-2-1b2c3d4"},
}


def _clock(timeout=3600.0):
    fake = FakeClock()
    return Clock(now=fake, sleep=fake.sleep, poll_seconds=5, timeout_seconds=timeout)


def _create_table(dynamodb, name, kms_key=None):
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        **({"SSESpecification": {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": kms_key}} if kms_key else {}),
    )


def _post(n, title=None):
    return {"pk": {"S": f"POST#{n}"}, "sk": {"S": "META"}, "title": {"S": title or f"post {n}"}, "version": {"N": "1"}}


@pytest.fixture
def aws():
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        yield session


@pytest.fixture
def live(aws):
    dynamodb, s3 = aws.client("dynamodb"), aws.client("s3")
    key = aws.client("kms").create_key()["KeyMetadata"]["Arn"]
    _create_table(dynamodb, TABLE, kms_key=key)
    for n in range(30):
        dynamodb.put_item(TableName=TABLE, Item=_post(n))
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return {"dynamodb": dynamodb, "s3": s3, "key": key, "session": aws}


def _drill(aws, clock=None, backup=None, out=None):
    return RestoreTest(
        target=RestoreTarget.from_outputs("dr", None, OUTPUTS),
        dynamodb=aws.client("dynamodb"),
        s3=aws.client("s3"),
        backup=backup or aws.client("backup"),
        run_id=RUN,
        clock=clock or _clock(),
        rng=random.Random(7),
        out=out or (lambda line: None),
    )


def test_pitr_restore_compares_with_the_live_table_and_deletes_the_scratch_table(live):
    test = _drill(live["session"])
    sent = {}
    dynamodb = test.dynamodb

    def after_restore(**_):
        # Writes after the restore point: one post edited, one deleted.
        dynamodb.put_item(TableName=TABLE, Item=_post(3, title="edited later"))
        dynamodb.delete_item(TableName=TABLE, Key={"pk": {"S": "POST#4"}, "sk": {"S": "META"}})

    dynamodb.meta.events.register("before-call.dynamodb.RestoreTableToPointInTime", lambda params, **_: sent.update(params))
    dynamodb.meta.events.register("after-call.dynamodb.RestoreTableToPointInTime", after_restore)

    result = test.table(at=None, from_backup=False, sample=100, keep=False)

    c = result.comparison
    assert (c.live_count, c.restored_count, c.sampled) == (29, 30, 30)
    assert (c.identical, c.changed_since, c.gone_from_live) == (28, 1, 1)
    assert result.scratch == f"{TABLE}-restore-test-{RUN}" and result.deleted
    assert result.scratch not in dynamodb.list_tables()["TableNames"]
    body = sent["body"] if isinstance(sent["body"], dict) else json.loads(sent["body"])
    assert body["UseLatestRestorableTime"] is True and body["BillingModeOverride"] == "PAY_PER_REQUEST"
    assert body["SSESpecificationOverride"] == {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": live["key"]}


def test_a_point_in_time_is_sent_as_the_restore_time_and_keep_leaves_the_copy(live):
    test = _drill(live["session"])
    sent = {}
    test.dynamodb.meta.events.register(
        "before-parameter-build.dynamodb.RestoreTableToPointInTime", lambda params, **_: sent.update(params)
    )
    result = test.table(at=T0, from_backup=False, sample=5, keep=True)
    assert sent["RestoreDateTime"] == T0 and "UseLatestRestorableTime" not in sent
    assert not result.deleted and result.scratch in test.dynamodb.list_tables()["TableNames"]
    assert result.comparison.sampled == 5 and result.comparison.identical == 5


def test_media_prefix_is_restored_as_it_was_at_the_point_in_time(live, monkeypatch):
    s3_now = {"t": T0}
    monkeypatch.setattr("moto.s3.models.utcnow", lambda: s3_now["t"].replace(tzinfo=None))
    s3 = live["s3"]
    for name in ("a", "b", "c"):
        s3.put_object(Bucket=BUCKET, Key=f"uploads/{name}.jpg", Body=f"{name} v1".encode())
    s3_now["t"] = T0 + dt.timedelta(minutes=10)  # after the point in time: the mistake
    s3.put_object(Bucket=BUCKET, Key="uploads/a.jpg", Body=b"a overwritten")
    s3.delete_object(Bucket=BUCKET, Key="uploads/b.jpg")
    s3.put_object(Bucket=BUCKET, Key="uploads/d.jpg", Body=b"new")
    s3.put_object(Bucket=BUCKET, Key="thumbnails/a.jpg", Body=b"thumb")

    test = _drill(live["session"])
    restored = restore_test.versions_at(s3, BUCKET, "uploads/", T0 + dt.timedelta(minutes=5))
    assert sorted(restored) == ["uploads/a.jpg", "uploads/b.jpg", "uploads/c.jpg"]

    result = test.media("uploads/", at=T0 + dt.timedelta(minutes=5), from_backup=False, sample=10, keep=True)
    scratch = result.scratch
    assert s3.get_object(Bucket=scratch, Key="uploads/a.jpg")["Body"].read() == b"a v1"
    c = result.comparison
    assert (c.live_count, c.restored_count) == (3, 3)  # live: a c d; restored: a b c
    assert (c.identical, c.changed_since, c.gone_from_live) == (1, 1, 1)
    # The scratch bucket is as private and encrypted as the live one.
    block = s3.get_public_access_block(Bucket=scratch)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    rule = s3.get_bucket_encryption(Bucket=scratch)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert len(scratch) <= 63


def test_media_scratch_bucket_is_deleted_with_its_objects(live):
    live["s3"].put_object(Bucket=BUCKET, Key="uploads/a.jpg", Body=b"a")
    result = _drill(live["session"]).media("uploads/", at=None, from_backup=False, sample=10, keep=False)
    assert result.deleted and result.comparison.identical == 1
    assert result.scratch not in [b["Name"] for b in live["s3"].list_buckets()["Buckets"]]


def _points(*specs):
    return {
        "RecoveryPoints": [
            {
                "RecoveryPointArn": f"arn:aws:backup:{REGION}:123456789012:recovery-point:{rid}",
                "Status": status,
                "CreationDate": when,
            }
            for rid, status, when in specs
        ]
    }


def test_from_backup_restores_the_latest_completed_point_before_the_time_with_its_metadata(live):
    backup = live["session"].client("backup")
    scratch = f"{TABLE}-restore-test-{RUN}"
    chosen = f"arn:aws:backup:{REGION}:123456789012:recovery-point:older"
    with Stubber(backup) as stub:
        stub.add_response(
            "list_recovery_points_by_backup_vault",
            _points(
                ("older", "COMPLETED", T0 - dt.timedelta(days=1)),
                ("failed", "FAILED", T0 - dt.timedelta(hours=1)),
                ("too-new", "COMPLETED", T0 + dt.timedelta(hours=1)),
                ("oldest", "COMPLETED", T0 - dt.timedelta(days=2)),
            ),
            {"BackupVaultName": VAULT, "ByResourceArn": TABLE_ARN},
        )
        stub.add_response(
            "get_recovery_point_restore_metadata",
            {"RestoreMetadata": {"originalTableName": TABLE, "encryptionType": "Default"}},
            {"BackupVaultName": VAULT, "RecoveryPointArn": chosen},
        )
        stub.add_response(
            "start_restore_job",
            {"RestoreJobId": "job-1"},
            {
                "RecoveryPointArn": chosen,
                "Metadata": {"originalTableName": TABLE, "encryptionType": "Default", "targetTableName": scratch},
                "IamRoleArn": ROLE_ARN,
                "ResourceType": "DynamoDB",
                "IdempotencyToken": scratch,
            },
        )
        stub.add_response("describe_restore_job", {"RestoreJobId": "job-1", "Status": "RUNNING"}, {"RestoreJobId": "job-1"})
        stub.add_response("describe_restore_job", {"RestoreJobId": "job-1", "Status": "COMPLETED"}, {"RestoreJobId": "job-1"})
        # AWS Backup creates the table; here it is created where it would appear.
        _create_table(live["dynamodb"], scratch)
        for n in range(30):
            live["dynamodb"].put_item(TableName=scratch, Item=_post(n))
        clock = _clock()
        result = _drill(live["session"], clock=clock, backup=backup).table(at=T0, from_backup=True, sample=10, keep=False)
        stub.assert_no_pending_responses()
    assert chosen in result.method and result.seconds == 5  # one poll while RUNNING
    assert result.comparison.identical == 10 and result.deleted


def test_from_backup_media_asks_for_a_new_encrypted_scratch_bucket(live):
    backup = live["session"].client("backup")
    scratch = _drill(live["session"]).scratch_bucket()
    point = f"arn:aws:backup:{REGION}:123456789012:recovery-point:s3-1"
    with Stubber(backup) as stub:
        stub.add_response(
            "list_recovery_points_by_backup_vault",
            _points(("s3-1", "COMPLETED", T0)),
            {"BackupVaultName": VAULT, "ByResourceArn": f"arn:aws:s3:::{BUCKET}"},
        )
        stub.add_response("get_recovery_point_restore_metadata", {"RestoreMetadata": {}}, None)
        stub.add_response("start_restore_job", {"RestoreJobId": "job-2"}, None)
        stub.add_response("describe_restore_job", {"RestoreJobId": "job-2", "Status": "COMPLETED"}, None)
        live["s3"].create_bucket(Bucket=scratch)
        sent = {}
        backup.meta.events.register("before-parameter-build.backup.StartRestoreJob", lambda params, **_: sent.update(params))
        result = _drill(live["session"], backup=backup).media("uploads/", at=None, from_backup=True, sample=5, keep=False)
    assert sent["RecoveryPointArn"] == point and sent["ResourceType"] == "S3"
    assert sent["Metadata"] == {
        "DestinationBucketName": scratch,
        "NewBucket": "true",
        "Encrypted": "true",
        "EncryptionType": "SSE-S3",
        "CreationToken": f"restore-test-{RUN}",
    }
    assert result.deleted


def test_a_failed_restore_job_is_one_line_naming_the_job_and_its_reason(live):
    backup = live["session"].client("backup")
    with Stubber(backup) as stub:
        stub.add_response("list_recovery_points_by_backup_vault", _points(("p", "COMPLETED", T0)), None)
        stub.add_response("get_recovery_point_restore_metadata", {"RestoreMetadata": {}}, None)
        stub.add_response("start_restore_job", {"RestoreJobId": "job-3"}, None)
        stub.add_response(
            "describe_restore_job",
            {"RestoreJobId": "job-3", "Status": "FAILED", "StatusMessage": "Access denied to KMS key"},
            None,
        )
        with pytest.raises(RestoreError, match="restore job job-3 FAILED: Access denied to KMS key"):
            _drill(live["session"], backup=backup).table(at=None, from_backup=True, sample=5, keep=False)


def test_no_recovery_point_and_a_stuck_job_are_refused_with_the_reason(live):
    backup = live["session"].client("backup")
    with Stubber(backup) as stub:
        stub.add_response("list_recovery_points_by_backup_vault", _points(("p", "COMPLETED", T0)), None)
        with pytest.raises(
            RestoreError, match=f"no completed recovery point of {TABLE_ARN} in vault {VAULT} created at or before"
        ):
            _drill(live["session"], backup=backup).table(at=T0 - dt.timedelta(days=1), from_backup=True, sample=5, keep=False)
    with Stubber(backup) as stub:
        stub.add_response("list_recovery_points_by_backup_vault", _points(("p", "COMPLETED", T0)), None)
        stub.add_response("get_recovery_point_restore_metadata", {"RestoreMetadata": {}}, None)
        stub.add_response("start_restore_job", {"RestoreJobId": "job-4"}, None)
        for _ in range(4):
            stub.add_response("describe_restore_job", {"RestoreJobId": "job-4", "Status": "RUNNING"}, None)
        with pytest.raises(RestoreError, match="restore job job-4: not done after 10 s"):
            _drill(live["session"], clock=_clock(timeout=10), backup=backup).table(
                at=None, from_backup=True, sample=5, keep=False
            )


def test_an_empty_restore_of_a_table_that_is_not_empty_fails_the_drill(live):
    lines = []
    test = _drill(live["session"], out=lines.append)
    empty = restore_test.Comparison(live_count=30, restored_count=0)
    fine = restore_test.Comparison(live_count=0, restored_count=0)
    results = [
        restore_test.Restored("table", TABLE, "s", "pitr", 1.0, empty, True),
        restore_test.Restored("media", BUCKET, "b", "versions", 1.0, fine, True),
    ]
    assert test.report(results) is False
    assert lines[-1] == "  result: EMPTY RESTORE of table"


def test_a_stack_without_backups_refuses_from_backup_and_names_the_alternative(live):
    outputs = {k: v for k, v in OUTPUTS.items() if not k.startswith("backup")}
    test = _drill(live["session"])
    test.target = RestoreTarget.from_outputs("dev", None, outputs)
    with pytest.raises(RestoreError, match=r"has no backups in us-east-1 .*use PITR instead"):
        test.table(at=None, from_backup=True, sample=5, keep=False)


@pytest.mark.parametrize(
    ("text", "reason"),
    [("yesterday", "is not an ISO-8601 time"), ("2026-11-26T08:00:00", "has no time zone")],
)
def test_point_in_time_must_be_an_iso_time_with_a_zone(text, reason):
    with pytest.raises(RestoreError, match=reason):
        restore_test.parse_time(text)
    assert restore_test.parse_time("2026-11-26T08:00:00Z") == T0


def test_the_restore_test_command_runs_in_the_home_region_by_default(live, tmp_path):
    live["s3"].put_object(Bucket=BUCKET, Key="uploads/a.jpg", Body=b"a")
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(OUTPUTS))
    result = sdr(
        "restore-test",
        "--stack",
        "dr",
        "--outputs",
        str(path),
        "--sample",
        "5",
        "--format",
        "json",
        session_factory=lambda: live["session"],
        sleep=lambda s: None,
        out=lambda line: print(line),
    )
    out = result.stdout
    assert result.exit_code == 0
    assert out.startswith("restore-test dr in us-east-1\n")
    assert f"table {TABLE} -> {TABLE}-restore-test-" in out and "items: live 30, restored 30" in out
    assert "objects: live 1, restored 1; sample 1: 1 identical" in out
    assert json.loads(out[out.index("[") :])[0]["what"] == "table"


def test_drill_actions_need_a_region(tmp_path):
    result = sdr("drill", "drain", "--stack", "dr", "--outputs", str(tmp_path / "x.json"))
    assert result.exit_code == 2 and "Missing option '--region'" in result.stderr


def test_an_unknown_region_is_one_line(live, tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(OUTPUTS))
    result = sdr(
        "restore-test", "--stack", "dr", "--region", "eu-west-1", "--outputs", str(path), session_factory=lambda: live["session"]
    )
    assert result.exit_code == 2
    assert result.stderr == "sdr restore-test: region eu-west-1 is not a region of stack dr (us-east-1, us-west-2)\n"


def _copy_back_tables(live):
    """Scratch as restored before the mistake; live after it (one edit, one deletion, one new post)."""
    dynamodb = live["dynamodb"]
    scratch = f"{TABLE}-restore-test-{RUN}"
    _create_table(dynamodb, scratch)
    for n in range(30):
        dynamodb.put_item(TableName=scratch, Item=_post(n))
    control = {"pk": {"S": "CONTROL#writer"}, "sk": {"S": "CONTROL"}, "primary_region": {"S": REGION}, "epoch": {"N": "1"}}
    dynamodb.put_item(TableName=scratch, Item=control)
    dynamodb.put_item(TableName=TABLE, Item={**control, "epoch": {"N": "2"}})
    dynamodb.put_item(TableName=TABLE, Item=_post(3, title="vandalised"))
    dynamodb.delete_item(TableName=TABLE, Key={"pk": {"S": "POST#4"}, "sk": {"S": "META"}})
    dynamodb.put_item(TableName=TABLE, Item=_post(99))
    return dynamodb, scratch


def test_copy_back_reverts_and_recreates_posts_and_leaves_new_ones_and_the_control_item(live):
    dynamodb, scratch = _copy_back_tables(live)
    dry = restore_test.copy_back(dynamodb, scratch, TABLE, ("POST",), dry_run=True)
    assert (dry.reverted, dry.recreated, dry.identical, dry.created_since) == (1, 1, 28, 1)
    assert (
        dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "POST#3"}, "sk": {"S": "META"}})["Item"]["title"]["S"] == "vandalised"
    )

    done = restore_test.copy_back(dynamodb, scratch, TABLE, ("POST",), dry_run=False)
    assert done.line() == "copy-back of POST: wrote 2 (1 reverted, 1 recreated); 28 identical; 1 created since, left alone"
    again = restore_test.copy_back(dynamodb, scratch, TABLE, ("POST",), dry_run=False)
    assert (again.reverted, again.recreated, again.identical) == (0, 0, 30)  # idempotent
    control = dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "CONTROL#writer"}, "sk": {"S": "CONTROL"}})["Item"]
    assert control["epoch"]["N"] == "2"  # the writer's fencing state is never rolled back


def test_copy_back_refuses_kinds_that_are_not_user_data(live):
    dynamodb, scratch = _copy_back_tables(live)
    with pytest.raises(RestoreError, match="--kinds CONTROL,REQ: only POST, SUB, SUPPRESS"):
        restore_test.copy_back(dynamodb, scratch, TABLE, ("POST", "CONTROL", "REQ"), dry_run=True)


def test_copy_back_command_writes_only_in_the_primary_region(live, tmp_path):
    dynamodb, scratch = _copy_back_tables(live)
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({**OUTPUTS, "writeMode": "single-primary"}))
    args = ["copy-back", "--stack", "dr", "--scratch-table", scratch, "--outputs", str(path)]
    dry = sdr(*args, "--dry-run", session_factory=lambda: live["session"])
    assert dry.exit_code == 0 and "would write 2 (1 reverted, 1 recreated)" in dry.stdout
    dynamodb.put_item(
        TableName=TABLE,
        Item={"pk": {"S": "CONTROL#writer"}, "sk": {"S": "CONTROL"}, "primary_region": {"S": "us-west-2"}, "epoch": {"N": "3"}},
    )
    refused = sdr(*args, session_factory=lambda: live["session"])
    assert refused.exit_code == 1
    assert (
        refused.stderr
        == "sdr copy-back: us-east-1 is not the primary for writes (us-west-2 is): run copy-back with --region us-west-2\n"
    )
