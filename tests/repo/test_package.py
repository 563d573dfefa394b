"""The components as a package: the built wheel installs into a fresh virtualenv and a small
program outside this repository uses two components under Pulumi's mocks."""

import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = textwrap.dedent(
    """
    import asyncio, json
    import pulumi, pulumi_aws as aws

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args):
            state = dict(args.inputs)
            state.setdefault("arn", f"arn:aws:{args.typ.split(':')[1].split('/')[0]}:us-east-1:123456789012:{args.name}")
            if args.typ == "aws:s3/bucket:Bucket":
                state.update(bucket=args.name, bucketRegionalDomainName=f"{args.name}.s3.amazonaws.com")
            if args.typ == "aws:cloudfront/distribution:Distribution":
                state.update(domainName="d111.cloudfront.net", hostedZoneId="Z2FDTNDATAQYW2")
            return f"{args.name}-id", state

        def call(self, args):
            return {"accountId": "123456789012", "id": "123456789012", "arn": "arn:aws:iam::123456789012:root", "userId": "x"}

    pulumi.runtime.set_mocks(Mocks(), project="elsewhere", stack="test", preview=False)

    from serverless_dr import GlobalTable, GlobalTableArgs, StaticSite, StaticSiteArgs

    providers = {r: aws.Provider(f"aws-{r}", region=r) for r in ("us-east-1", "us-west-2")}
    table = GlobalTable("orders", GlobalTableArgs(regions=list(providers), providers=providers, deletion_protection=False))
    site = StaticSite("shop", StaticSiteArgs(regions=list(providers), providers=providers, global_provider=providers["us-east-1"],
                                             site_dir=__import__("pathlib").Path("content"), api_origin_pattern="https://api.shop.test"))

    async def show():
        print(json.dumps({"table_regions": sorted((await pulumi.Output.all(**table.arns).future()).keys()),
                          "site": await site.url.future(), "module": GlobalTable.__module__}))
    asyncio.get_event_loop().run_until_complete(show())
    """
)


def test_the_wheel_installs_in_a_fresh_virtualenv_and_an_outside_program_uses_two_components(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(ROOT)],
        check=True,
        cwd=tmp_path,
    )
    [wheel] = wheels.glob("serverless_dr_components-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", str(wheel)], check=True
    )
    # The dependencies (pulumi, pulumi-aws: hundreds of MB) come from this project's environment
    # instead of the network; the package itself only from the wheel.
    target_site = Path(
        subprocess.check_output(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    (target_site / "borrowed-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    program = tmp_path / "program"
    (program / "content").mkdir(parents=True)
    (program / "content" / "index.html").write_text("<!doctype html><title>shop</title>")
    (program / "content" / "404.html").write_text("<!doctype html><title>not found</title>")
    (program / "main.py").write_text(PROGRAM)
    result = subprocess.run([str(python), "main.py"], cwd=program, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    last = result.stdout.strip().splitlines()[-1]
    import json

    shown = json.loads(last)
    assert shown["table_regions"] == ["us-east-1", "us-west-2"]
    assert shown["site"] == "https://d111.cloudfront.net/" and shown["module"].startswith("serverless_dr.")
    # The package came from the wheel, not from this checkout.
    located = subprocess.check_output(
        [str(python), "-c", "import serverless_dr; print(serverless_dr.__file__)"], cwd=program, text=True
    )
    assert str(venv) in located and str(ROOT) not in located
