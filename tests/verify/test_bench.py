"""The benchmark's own logic: markdown rendering, README update, artefact sizes (no timing asserts)."""

import pytest

from verify import bench


def sample_results():
    timing = {"median_s": 1.0, "min_s": 0.9, "max_s": 1.2, "runs": 3}
    return {
        "measured_at": "2026-11-24 12:00 UTC",
        "runs": 3,
        "machine": {"python": "3.11.7", "platform": "Linux", "cpus": 2, "cpu_model": "Test CPU"},
        "plan": {
            "import_floor": timing,
            "service_modules": ["s3"],
            "target_ratio": 1.5,
            "stacks": {"dev": {**timing, "ratio_to_floor": 2.0, "target_met": False}},
        },
        "scaling": {
            "rows": [{"regions": 1, "resources": 10, **timing}],
            "resources_per_added_region": [12, 10, 10],
            "seconds_per_added_region": [0.5, 0.5, 0.5],
            "one_off_resources_at_second_region": 2,
            "constant_resources_per_region": True,
        },
        "cold_start": {
            "boto3": timing,
            "target_ratio": 1.5,
            "handlers": {
                "api": {**timing, "ratio_to_boto3": 1.2, "target_met": True, "clients_at_import": 0, "powertools_objects": []}
            },
        },
        "artefacts": {
            "code_archives": {"api": {"bytes": 2048, "target_met": True}},
            "archive_limit_bytes": 262144,
            "layer": {"bytes": 3 * 1024 * 1024, "unzipped_bytes": 9 * 1024 * 1024, "within_lambda_limit": True},
        },
    }


def test_markdown_marks_met_and_missed_targets():
    table = bench.render_markdown(sample_results())
    assert "| offline plan `dev` | 1.0 s | 0.9-1.2 s | 2.0 x floor | <= 1.5 x: **missed** |" in table
    assert "| import `api.app` (0 clients at import) | 1.0 s | 0.9-1.2 s | 1.2 x boto3 | <= 1.5 x: met |" in table
    assert "| code archive `api` | 2 KB | | | <= 256 KB: met |" in table
    assert "(+2 once: home-region replication): met |" in table
    assert table.startswith("Measured 2026-11-24 12:00 UTC on 2 CPU(s) (Test CPU)")


def test_readme_section_is_replaced_between_its_markers(tmp_path):
    from verify.readme import replace_section

    readme = tmp_path / "README.md"
    readme.write_text("# x\n<!-- bench:start -->\nold\n<!-- bench:end -->\ntail\n")
    replace_section("bench", "| new |\n", readme)
    assert readme.read_text() == "# x\n<!-- bench:start -->\n| new |\n<!-- bench:end -->\ntail\n"
    readme.write_text("no markers")
    with pytest.raises(SystemExit, match="no <!-- bench:start -->"):
        replace_section("bench", "x", readme)


def test_code_archives_are_measured_for_every_handler():
    sizes = bench.bench_artefacts()["code_archives"]
    assert set(sizes) == set(bench.HANDLERS)
    assert all(0 < row["bytes"] <= bench.ARCHIVE_LIMIT for row in sizes.values())
