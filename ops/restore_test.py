"""Restore drill: restore the table and a media prefix into scratch copies, compare, time, delete.

    sdr restore-test --stack <stack> [--region R] [--point-in-time ISO-8601]
        [--from-backup] [--prefix uploads/] [--sample N] [--keep] [--format json] [--outputs FILE]

Table   with PITR (the default): RestoreTableToPointInTime of the region's replica into
        `<table>-restore-test-<run>` at --point-in-time (default: the latest restorable time,
        about 5 minutes ago), encrypted with the live table's key. With --from-backup: the latest
        completed AWS Backup recovery point of the table in the region's vault (created at or
        before --point-in-time), restored by AWS Backup with the stack's backup role; in the copy
        region this is the cross-region copy, which is what survives the loss of the home region.
Media   with versioning (the default): every object under --prefix as it was at --point-in-time
        (the newest version at or before it; keys deleted by then stay absent) is copied into a
        scratch bucket. With --from-backup: AWS Backup restores the bucket's latest recovery
        point into a new scratch bucket (S3 restores are whole-bucket or up to 5 objects).
Compare item and object counts, then a random sample: each sampled restored item (object) is
        hashed against the live one: identical, changed since, or gone from the live data.
Report  the restore time of each (start to usable), the comparison, and the cleanup: scratch
        table and bucket are deleted unless --keep. Exit 1 when a restore failed or came back
        empty while the live data is not.

    sdr copy-back --stack <stack> --scratch-table T [--region R] [--kinds POST,SUB] [--dry-run]

Copy-back puts user data back from a kept scratch table (restore-test --keep --point-in-time
before the bad write): every item of the chosen kinds that differs from the live one, or is
gone from it, is written to the live table, from where it replicates to every region. Items
created since are left alone (counted); the writer's control item, idempotency records and
view counters are never copied. In single-primary write mode it writes only in the primary.

Every call goes to the stack's region with the caller's credentials; the restore itself is free
but the scratch table and bucket are billed while they exist (minutes), and each comparison
reads the whole table once per side (scan).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from ops.errors import CheckFailed, OperatorError

TERMINAL_JOB_STATES = ("COMPLETED", "ABORTED", "FAILED")
# The restore metadata key that names the new resource, per AWS Backup resource type.
SCRATCH_NAME_KEY = {"DynamoDB": "targetTableName", "S3": "DestinationBucketName"}
# Item kinds (the partition key's prefix) that hold user data and may be copied back; never the
# writer's control item (CONTROL), idempotency records (REQ) or per-region counters (VIEWS).
COPYABLE_KINDS = ("POST", "SUB", "SUPPRESS")
# Attributes the first version of global tables (2017) wrote into every item; not user data.
REPLICATION_ATTRIBUTES = ("aws:rep:",)


class RestoreError(CheckFailed):
    """A restore could not be done; the message is the one line the operator sees."""


@dataclass(frozen=True)
class RestoreTarget:
    stack: str
    region: str
    table_name: str
    table_arn: str  # the home replica's ARN: recovery points name it, copies included
    media_bucket: str
    media_bucket_arn: str  # the home bucket's ARN, for the same reason
    backup_role_arn: str | None
    backup_vault: str | None

    @classmethod
    def from_outputs(cls, stack: str, region: str | None, outputs: dict[str, Any]) -> RestoreTarget:
        missing = [k for k in ("regions", "tableName", "tableArns", "mediaBuckets") if k not in outputs]
        if missing:
            raise OperatorError(f"stack {stack}'s outputs lack {', '.join(missing)}: deploy it first (pulumi up)")
        home = outputs.get("homeRegion") or outputs["regions"][0]
        region = region or home
        if region not in outputs["regions"]:
            raise OperatorError(f"region {region} is not a region of stack {stack} ({', '.join(outputs['regions'])})")
        return cls(
            stack=stack,
            region=region,
            table_name=outputs["tableName"],
            table_arn=outputs["tableArns"][home],
            media_bucket=outputs["mediaBuckets"][region],
            media_bucket_arn=f"arn:aws:s3:::{outputs['mediaBuckets'][home]}",
            backup_role_arn=outputs.get("backupRoleArn"),
            backup_vault=(outputs.get("backupVaults") or {}).get(region),
        )


@dataclass
class Comparison:
    live_count: int
    restored_count: int
    sampled: int = 0
    identical: int = 0
    changed_since: int = 0
    gone_from_live: int = 0

    @property
    def plausible(self) -> bool:
        """A restore that came back empty while the live data is not has restored nothing."""
        return self.restored_count > 0 or self.live_count == 0

    def line(self, unit: str) -> str:
        return (
            f"{unit}: live {self.live_count}, restored {self.restored_count}; sample {self.sampled}: "
            f"{self.identical} identical, {self.changed_since} changed since, {self.gone_from_live} gone from live"
        )


@dataclass
class Restored:
    what: str  # "table" or "media"
    source: str
    scratch: str
    method: str
    seconds: float
    comparison: Comparison
    deleted: bool = False


@dataclass
class Clock:
    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    poll_seconds: float = 10.0
    timeout_seconds: float = 4 * 3600.0  # a large table restores in hours, not minutes

    def wait(self, done: Callable[[], bool], what: str) -> None:
        start = self.now()
        while not done():
            if self.now() - start > self.timeout_seconds:
                raise RestoreError(f"{what}: not done after {self.timeout_seconds:.0f} s (--timeout-seconds)")
            self.sleep(self.poll_seconds)


def item_hash(item: dict[str, Any]) -> str:
    """A stable digest of an item in DynamoDB's typed JSON, replication bookkeeping left out."""
    user = {k: v for k, v in item.items() if not k.startswith(REPLICATION_ATTRIBUTES)}
    return hashlib.sha256(json.dumps(user, sort_keys=True, default=repr).encode()).hexdigest()


def _sample(values: Iterator[Any], size: int, rng: random.Random) -> tuple[list[Any], int]:
    """(a uniform sample of at most `size`, how many there were): reservoir sampling in one pass."""
    chosen: list[Any] = []
    count = 0
    for count, value in enumerate(values, 1):
        if len(chosen) < size:
            chosen.append(value)
        elif (j := rng.randrange(count)) < size:
            chosen[j] = value
    return chosen, count


# --- the table ---


def _scan(dynamodb: Any, table: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    start: dict[str, Any] | None = None
    while True:
        page = dynamodb.scan(TableName=table, **kwargs, **({"ExclusiveStartKey": start} if start else {}))
        yield page
        start = page.get("LastEvaluatedKey")
        if not start:
            return


def _table_active(dynamodb: Any, name: str) -> bool:
    try:
        return dynamodb.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE"
    except dynamodb.exceptions.ResourceNotFoundException:
        return False  # AWS Backup creates the table some time after the job starts


def restore_table_pitr(dynamodb: Any, source: str, scratch: str, at: dt.datetime | None, clock: Clock) -> str:
    live = dynamodb.describe_table(TableName=source)["Table"]
    kwargs: dict[str, Any] = {"SourceTableName": source, "TargetTableName": scratch, "BillingModeOverride": "PAY_PER_REQUEST"}
    kwargs.update({"RestoreDateTime": at} if at else {"UseLatestRestorableTime": True})
    key = (live.get("SSEDescription") or {}).get("KMSMasterKeyArn")
    if key:  # a restored table otherwise falls back to an AWS owned key
        kwargs["SSESpecificationOverride"] = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key}
    dynamodb.restore_table_to_point_in_time(**kwargs)
    clock.wait(lambda: _table_active(dynamodb, scratch), f"restore of {source} into {scratch}")
    return f"point-in-time recovery to {at.isoformat() if at else 'the latest restorable time'}"


def latest_recovery_point(backup: Any, vault: str, resource_arn: str, at: dt.datetime | None) -> dict[str, Any]:
    points = []
    token = None
    while True:
        page = backup.list_recovery_points_by_backup_vault(
            BackupVaultName=vault, ByResourceArn=resource_arn, **({"NextToken": token} if token else {})
        )
        points += [
            p
            for p in page.get("RecoveryPoints", [])
            if p.get("Status") == "COMPLETED" and (at is None or p["CreationDate"] <= at)
        ]
        token = page.get("NextToken")
        if not token:
            break
    if not points:
        when = f" created at or before {at.isoformat()}" if at else ""
        raise RestoreError(f"no completed recovery point of {resource_arn} in vault {vault}{when}")
    return max(points, key=lambda p: p["CreationDate"])


def restore_from_backup(
    backup: Any,
    target: RestoreTarget,
    resource: tuple[str, str],
    overrides: dict[str, str],
    at: dt.datetime | None,
    clock: Clock,
) -> str:
    """Run an AWS Backup restore job of `resource` (ARN, AWS Backup resource type) to completion.

    The job gets the recovery point's own restore metadata with `overrides` (the scratch name) on
    top; the scratch name is also the idempotency token, so a retried drill never restores twice.
    """
    resource_arn, resource_type = resource
    if not (target.backup_vault and target.backup_role_arn):
        raise RestoreError(f"stack {target.stack} has no backups in {target.region} (backups: false): use PITR instead")
    point = latest_recovery_point(backup, target.backup_vault, resource_arn, at)
    metadata = backup.get_recovery_point_restore_metadata(
        BackupVaultName=target.backup_vault, RecoveryPointArn=point["RecoveryPointArn"]
    )["RestoreMetadata"]
    job_id = backup.start_restore_job(
        RecoveryPointArn=point["RecoveryPointArn"],
        Metadata={**metadata, **overrides},
        IamRoleArn=target.backup_role_arn,
        ResourceType=resource_type,
        IdempotencyToken=overrides[SCRATCH_NAME_KEY[resource_type]],
    )["RestoreJobId"]
    job: dict[str, Any] = {}

    def finished() -> bool:
        job.update(backup.describe_restore_job(RestoreJobId=job_id))
        return job["Status"] in TERMINAL_JOB_STATES

    clock.wait(finished, f"restore job {job_id}")
    if job["Status"] != "COMPLETED":
        raise RestoreError(f"restore job {job_id} {job['Status']}: {job.get('StatusMessage', 'no reason given')}")
    return f"recovery point {point['RecoveryPointArn']} of {point['CreationDate'].isoformat()}"


def compare_tables(dynamodb: Any, live: str, restored: str, sample: int, rng: random.Random) -> Comparison:
    keys = [k["AttributeName"] for k in dynamodb.describe_table(TableName=live)["Table"]["KeySchema"]]
    items = (item for page in _scan(dynamodb, restored) for item in page.get("Items", []))
    chosen, restored_count = _sample(items, sample, rng)
    live_count = sum(page["Count"] for page in _scan(dynamodb, live, Select="COUNT"))
    result = Comparison(live_count=live_count, restored_count=restored_count, sampled=len(chosen))
    for item in chosen:
        now = dynamodb.get_item(TableName=live, Key={k: item[k] for k in keys}, ConsistentRead=True).get("Item")
        if now is None:
            result.gone_from_live += 1
        elif item_hash(now) == item_hash(item):
            result.identical += 1
        else:
            result.changed_since += 1
    return result


def delete_table(dynamodb: Any, name: str, clock: Clock) -> None:
    try:
        dynamodb.delete_table(TableName=name)
    except dynamodb.exceptions.ResourceNotFoundException:
        return  # the restore never created it

    def gone() -> bool:
        try:
            dynamodb.describe_table(TableName=name)
        except dynamodb.exceptions.ResourceNotFoundException:
            return True
        return False

    clock.wait(gone, f"deletion of {name}")


@dataclass
class CopyBack:
    kinds: tuple[str, ...]
    dry_run: bool
    identical: int = 0
    reverted: int = 0  # differs in live: the restored version is written back
    recreated: int = 0  # gone from live: written back
    created_since: int = 0  # in live only: left alone

    def line(self) -> str:
        verb = "would write" if self.dry_run else "wrote"
        return (
            f"copy-back of {', '.join(self.kinds)}: {verb} {self.reverted + self.recreated} "
            f"({self.reverted} reverted, {self.recreated} recreated); {self.identical} identical; "
            f"{self.created_since} created since, left alone"
        )


def _kind(item: dict[str, Any]) -> str:
    return item["pk"]["S"].split("#", 1)[0]


def copy_back_at_primary(
    dynamodb: Any, target: RestoreTarget, outputs: dict[str, Any], scratch: str, kinds: tuple[str, ...], dry_run: bool
) -> CopyBack:
    """`copy_back` into `target.region`, refused unless it is the primary for writes (single-primary
    mode): a copy written at another replica would bypass the write fence."""
    if outputs.get("writeMode", "single-primary") == "single-primary":
        from shared import failover

        try:
            control = failover.read_control(dynamodb, target.table_name)
        except Exception as error:
            raise RestoreError(f"cannot read which region is primary in {target.region}: {type(error).__name__}") from None
        current = control["primary_region"]["S"] if control else outputs.get("homeRegion") or outputs["regions"][0]
        if current != target.region:
            raise RestoreError(
                f"{target.region} is not the primary for writes ({current} is): run copy-back with --region {current}"
            )
    return copy_back(dynamodb, scratch, target.table_name, kinds, dry_run)


def copy_back(dynamodb: Any, scratch: str, live: str, kinds: tuple[str, ...], dry_run: bool) -> CopyBack:
    refused = sorted(set(kinds) - set(COPYABLE_KINDS))
    if refused:
        raise RestoreError(f"--kinds {','.join(refused)}: only {', '.join(COPYABLE_KINDS)} hold user data to copy back")
    result = CopyBack(kinds=kinds, dry_run=dry_run)
    restored_keys = set()
    for page in _scan(dynamodb, scratch):
        for item in (i for i in page.get("Items", []) if _kind(i) in kinds):
            key = {"pk": item["pk"], "sk": item["sk"]}
            restored_keys.add((item["pk"]["S"], item["sk"]["S"]))
            now = dynamodb.get_item(TableName=live, Key=key, ConsistentRead=True).get("Item")
            if now is not None and item_hash(now) == item_hash(item):
                result.identical += 1
                continue
            if now is None:
                result.recreated += 1
            else:
                result.reverted += 1
            if not dry_run:
                dynamodb.put_item(TableName=live, Item=item)
    for page in _scan(dynamodb, live, ProjectionExpression="pk, sk"):
        result.created_since += sum(
            1 for i in page.get("Items", []) if _kind(i) in kinds and (i["pk"]["S"], i["sk"]["S"]) not in restored_keys
        )
    return result


# --- the media bucket ---


def create_scratch_bucket(s3: Any, name: str, region: str) -> None:
    """Private and encrypted like the live bucket; it lives for the drill only."""
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=name, ObjectOwnership="BucketOwnerEnforced", **location)
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
    )


def versions_at(s3: Any, bucket: str, prefix: str, at: dt.datetime | None) -> dict[str, str]:
    """{key: version id} of every key under `prefix` as it was at `at` (now when None)."""
    newest: dict[str, tuple[dt.datetime, str | None]] = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        entries = [(v, v["VersionId"]) for v in page.get("Versions", [])]
        entries += [(m, None) for m in page.get("DeleteMarkers", [])]  # deleted by then: absent
        for entry, version in entries:
            when = entry["LastModified"]
            if (at is None or when <= at) and (entry["Key"] not in newest or when >= newest[entry["Key"]][0]):
                newest[entry["Key"]] = (when, version)
    return {key: version for key, (_, version) in newest.items() if version is not None}


def restore_prefix_from_versions(s3: Any, bucket: str, prefix: str, at: dt.datetime | None, scratch: str, region: str) -> str:
    create_scratch_bucket(s3, scratch, region)
    for key, version in sorted(versions_at(s3, bucket, prefix, at).items()):
        # The managed copy switches to multipart for objects over 5 GB.
        s3.copy({"Bucket": bucket, "Key": key, "VersionId": version}, scratch, key)
    return f"object versions as of {at.isoformat() if at else 'now'}"


def _objects(s3: Any, bucket: str, prefix: str) -> Iterator[str]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        yield from (o["Key"] for o in page.get("Contents", []))


def _body_hash(s3: Any, bucket: str, key: str) -> str | None:
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    except s3.exceptions.NoSuchKey:
        return None
    digest = hashlib.sha256()
    for chunk in iter(lambda: body.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()


def compare_prefix(s3: Any, live: str, restored: str, prefix: str, sample: int, rng: random.Random) -> Comparison:
    chosen, restored_count = _sample(_objects(s3, restored, prefix), sample, rng)
    result = Comparison(live_count=sum(1 for _ in _objects(s3, live, prefix)), restored_count=restored_count, sampled=len(chosen))
    for key in chosen:
        now = _body_hash(s3, live, key)
        if now is None:
            result.gone_from_live += 1
        elif now == _body_hash(s3, restored, key):
            result.identical += 1
        else:
            result.changed_since += 1
    return result


def delete_bucket(s3: Any, name: str) -> None:
    """Every version and delete marker, then the bucket (a restored bucket may be versioned)."""
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
            doomed = [
                {"Key": v["Key"], "VersionId": v["VersionId"]} for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            if doomed:
                s3.delete_objects(Bucket=name, Delete={"Objects": doomed, "Quiet": True})
    except s3.exceptions.NoSuchBucket:
        return  # the restore never created it
    s3.delete_bucket(Bucket=name)


# --- the drill ---


@dataclass
class RestoreTest:
    target: RestoreTarget
    dynamodb: Any
    s3: Any
    backup: Any
    run_id: str
    clock: Clock = field(default_factory=Clock)
    rng: random.Random = field(default_factory=random.Random)
    out: Callable[[str], None] = print

    def scratch_table(self) -> str:
        return f"{self.target.table_name}-restore-test-{self.run_id}"

    def scratch_bucket(self) -> str:
        # Bucket names stop at 63 characters: keep the live name's start, then the run.
        return f"{self.target.media_bucket[:44]}-rt-{self.run_id}".lower()

    def _timed(self, restore: Callable[[], str]) -> tuple[str, float]:
        """(how it was restored, seconds from the request until the copy could be read)."""
        start = self.clock.now()
        method = restore()
        return method, self.clock.now() - start

    def table(self, at: dt.datetime | None, from_backup: bool, sample: int, keep: bool) -> Restored:
        t, scratch = self.target, self.scratch_table()

        def restore() -> str:
            if not from_backup:
                return restore_table_pitr(self.dynamodb, t.table_name, scratch, at, self.clock)
            overrides = {SCRATCH_NAME_KEY["DynamoDB"]: scratch}
            method = restore_from_backup(self.backup, t, (t.table_arn, "DynamoDB"), overrides, at, self.clock)
            self.clock.wait(lambda: _table_active(self.dynamodb, scratch), f"restored table {scratch}")
            return method

        try:
            method, seconds = self._timed(restore)
            comparison = compare_tables(self.dynamodb, t.table_name, scratch, sample, self.rng)
        finally:
            deleted = not keep and self._cleanup(lambda: delete_table(self.dynamodb, scratch, self.clock), scratch)
        return Restored("table", t.table_name, scratch, method, seconds, comparison, deleted)

    def media(self, prefix: str, at: dt.datetime | None, from_backup: bool, sample: int, keep: bool) -> Restored:
        t, scratch = self.target, self.scratch_bucket()

        def restore() -> str:
            if not from_backup:
                return restore_prefix_from_versions(self.s3, t.media_bucket, prefix, at, scratch, t.region)
            overrides = {
                SCRATCH_NAME_KEY["S3"]: scratch,
                "NewBucket": "true",
                "Encrypted": "true",
                "EncryptionType": "SSE-S3",
                "CreationToken": f"restore-test-{self.run_id}",
            }
            return restore_from_backup(self.backup, t, (t.media_bucket_arn, "S3"), overrides, at, self.clock)

        try:
            method, seconds = self._timed(restore)
            comparison = compare_prefix(self.s3, t.media_bucket, scratch, prefix, sample, self.rng)
        finally:
            deleted = not keep and self._cleanup(lambda: delete_bucket(self.s3, scratch), scratch)
        return Restored("media", f"{t.media_bucket}/{prefix}", scratch, method, seconds, comparison, deleted)

    def _cleanup(self, delete: Callable[[], None], name: str) -> bool:
        try:
            delete()
        except Exception as error:  # a failed cleanup is reported; it never hides the result
            self.out(f"  could not delete {name}: {str(error).splitlines()[0]} (delete it by hand)")
            return False
        return True

    def report(self, results: list[Restored]) -> bool:
        t = self.target
        self.out(f"restore-test {t.stack} in {t.region}")
        for r in results:
            self.out(f"  {r.what} {r.source} -> {r.scratch}: {r.method}, usable after {r.seconds:.0f} s")
            self.out(f"    {r.comparison.line('items' if r.what == 'table' else 'objects')}")
            self.out(f"    scratch {'deleted' if r.deleted else 'kept: delete it when done'}")
        ok = all(r.comparison.plausible for r in results)
        empty = [r.what for r in results if not r.comparison.plausible]
        self.out(f"  result: {'restored and compared' if ok else 'EMPTY RESTORE of ' + ', '.join(empty)}")
        return ok


def results_json(results: list[Restored]) -> str:
    return json.dumps([asdict(r) for r in results], indent=2, default=str)


def parse_time(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise RestoreError(f"--point-in-time {text!r} is not an ISO-8601 time like 2026-11-26T08:15:00Z") from None
    if value.tzinfo is None:
        raise RestoreError(f"--point-in-time {text!r} has no time zone: add Z for UTC")
    return value.astimezone(dt.UTC)
