"""Swift's own functional test suite (test/functional from the swift 2.38.3 sdist) run against a
deployed proxy (SWIFT_TEST_IN_PROCESS=0, SWIFT_TEST_CONFIG_FILE pointing at it): its virtualenv,
its test.conf, the runs and their counts, and the whole suite's checks, shared by the all-in-one
(test_functional.py) and the lab (test_lab.py).
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from typing import Callable

from .conftest import ROOT, STORAGE_DOMAIN

SWIFT_VERSION = "2.38.3"
FUNCTEST = ROOT / ".cache" / "swift-functest"
SDIST_DIR = FUNCTEST / f"swift-{SWIFT_VERSION}"
VENV = FUNCTEST / "venv"
SUBSET = [
    "test/functional/test_account.py",
    "test/functional/test_container.py",
    "test/functional/test_object.py",
    # test_object.py includes the cross-policy copy (test_cross_policy_copy) and test_container.py the
    # non-default policy tests; tests/integration/object/test_policies.py has the erasure-coded one.
    # S3 (test/functional/s3api) runs in the `full` target.
]

# test/functional/s3api needs boto3 (and boto for a few tests, awscrt for one); pytest-subtests as Swift's
# test-requirements.
S3_TEST_PACKAGES = ["boto3==1.44.8", "botocore==1.44.8", "awscrt==0.38.0", "boto==2.49.0", "pytest-subtests==0.15.0"]
TEST_CONF = """[func_test]
auth_uri = {auth_url}
account = test
username = tester
password = testing
account2 = test2
username2 = tester2
password2 = testing2
username3 = tester3
password3 = testing3
account5 = test5
username5 = tester5
password5 = testing5
service_prefix = SERVICE
account6 = test
username6 = tester6
password6 = testing6
collate = C
storage_domain = {storage_domain}
s3_storage_url = {proxy}/
s3_region = us-east-1
s3_access_key = test:tester
s3_secret_key = testing
s3_access_key2 = test:tester2
s3_secret_key2 = testing2
s3_access_key3 = test:tester3
s3_secret_key3 = testing3
"""


def prepare_functest(s3: bool = True) -> None:
    """The sdist's test tree and a virtualenv with swift, python-swiftclient and pytest, plus boto3
    and what else test/functional/s3api needs when ``s3`` (all cached under .cache/swift-functest)."""
    if not (SDIST_DIR / "test" / "functional").is_dir():
        FUNCTEST.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-binary",
                ":all:",
                "--no-deps",
                f"swift=={SWIFT_VERSION}",
                "-d",
                str(FUNCTEST),
            ],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            ["tar", "-C", str(FUNCTEST), "-xzf", str(FUNCTEST / f"swift-{SWIFT_VERSION}.tar.gz")], check=True
        )
    if not (VENV / "bin" / "pytest").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        subprocess.run(
            [str(VENV / "bin" / "pip"), "install", "-q", f"swift=={SWIFT_VERSION}", "python-swiftclient==4.11.0",
             "pytest==9.2.0"],
            check=True,
            capture_output=True,
        )
    # awscrt: s3api's lower-case request method test signs with it (and skips without it)
    if s3 and not all(list((VENV / "lib").glob(f"python3*/site-packages/{name}")) for name in ("boto3", "awscrt")):
        subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", *S3_TEST_PACKAGES], check=True, capture_output=True)


def write_test_conf(path: pathlib.Path, proxy: str) -> pathlib.Path:
    """test.conf for a cluster whose proxy is at ``proxy`` (http://host:port)."""
    path.write_text(TEST_CONF.format(auth_url=proxy + "/auth/v1.0", storage_domain=STORAGE_DOMAIN, proxy=proxy))
    return path


def run_suite(conf: pathlib.Path, targets: list[str], report: pathlib.Path, timeout: int) -> dict:
    env = dict(os.environ, SWIFT_TEST_CONFIG_FILE=str(conf), SWIFT_TEST_IN_PROCESS="0")
    env.pop("PYTEST_ADDOPTS", None)
    cmd = [
        str(VENV / "bin" / "python"),
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-o",
        "addopts=",
        f"--junitxml={report}",
        *targets,
    ]
    proc = subprocess.run(cmd, cwd=SDIST_DIR, env=env, capture_output=True, text=True, timeout=timeout)
    counts = {"passed": 0, "skipped": 0, "failed": 0, "failed_tests": [], "skip_reasons": {}, "skipped_tests": []}
    for case in ET.parse(report).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            counts["failed"] += 1
            counts["failed_tests"].append(f"{case.get('classname')}::{case.get('name')}")
        elif case.find("skipped") is not None:
            counts["skipped"] += 1
            reason = (case.find("skipped").get("message") or "").strip()[:120]
            counts["skip_reasons"][reason] = counts["skip_reasons"].get(reason, 0) + 1
            counts["skipped_tests"].append([f"{case.get('classname')}::{case.get('name')}", reason])
        else:
            counts["passed"] += 1
    counts["tail"] = proc.stdout[-3000:]
    return counts


def node_id(name: str) -> str:
    """junit's ``test.functional.tests.TestAccount::testX`` -> pytest's node id."""
    classname, _, test = name.partition("::")
    module, _, cls = classname.rpartition(".")
    return f"{module.replace('.', '/')}.py::{cls}::{test}"


def rerun_failures(conf, counts, report, timeout) -> dict:
    """Re-run failures once: right after a deployment, listings are eventually consistent."""
    if not counts["failed"]:
        return counts
    again = run_suite(conf, [node_id(name) for name in counts["failed_tests"]], report, timeout)
    counts["rerun"] = {
        "failed_first": counts["failed"],
        "failed_again": again["failed"],
        "flaky": sorted(set(counts["failed_tests"]) - set(again["failed_tests"])),
    }
    counts["passed"] += again["passed"]
    counts["skipped"] += again["skipped"]
    counts["skipped_tests"] += again["skipped_tests"]
    for reason, n in again["skip_reasons"].items():
        counts["skip_reasons"][reason] = counts["skip_reasons"].get(reason, 0) + n
    counts["failed"] = again["failed"]
    counts["failed_tests"] = again["failed_tests"]
    return counts


def run_full_suite(conf: pathlib.Path, workdir: pathlib.Path) -> dict:
    """test/functional (s3api included) and tests.py; failures re-run once and reported as flaky."""
    results = {}
    for label, targets in (
        ("functional", ["test/functional"]),
        ("tests.py", ["test/functional/tests.py"]),
    ):
        report = workdir / f"functional-full-{label}.xml"
        counts = run_suite(conf, targets, report, timeout=5400)
        results[label] = rerun_failures(conf, counts, report.with_suffix(".rerun.xml"), 900)
    (workdir / "functional-full.json").write_text(json.dumps(results, indent=1))
    total = {k: sum(r[k] for r in results.values()) for k in ("passed", "skipped", "failed")}
    print(
        f"\nswift functional suite: {total['passed']} passed, {total['skipped']} skipped, {total['failed']} failed "
        f"(test/functional: {results['functional']['passed']}/{results['functional']['skipped']}/"
        f"{results['functional']['failed']}; tests.py: {results['tests.py']['passed']}/"
        f"{results['tests.py']['skipped']}/{results['tests.py']['failed']})"
    )
    flaky = [name for r in results.values() for name in r.get("rerun", {}).get("flaky", [])]
    print(f"flaky (failed, then passed on the rerun): {flaky or 'none'}")
    reasons: dict[str, int] = {}
    for r in results.values():
        for reason, n in r["skip_reasons"].items():
            reasons[reason] = reasons.get(reason, 0) + n
    print("skips: " + "; ".join(f"{n} x {reason}" for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1])))
    return {"total": total, "results": results}




# Skips that only Keystone would lift (tempauth stays: Keystone is out of scope), by reason.
KEYSTONE_SKIPS = ("AUTH VERSION 3 SPECIFIC TEST", "keystoneclient is not available")
# Tests that skip against any deployed (out-of-process) proxy, whatever its configuration, by
# test id, with the reason they give (read in the swift 2.38.3 sdist's test/functional):
UPSTREAM_UNCONDITIONAL = {
    # test_staticweb.py: TestStaticWebUTF8 overrides both with `self.skipTest("Can't remap UTF8
    # containers")`, no condition (domain_remap cannot map a UTF-8 container name into a host name).
    "test.functional.test_staticweb.TestStaticWebUTF8::test_redirect_slash_auth_remap_cont":
        "Can't remap UTF8 containers",
    "test.functional.test_staticweb.TestStaticWebUTF8::test_redirect_slash_anon_remap_cont":
        "Can't remap UTF8 containers",
    # s3api/test_object.py: `if not tf.in_process: raise unittest.SkipTest(...)`; tf.in_process is
    # True only when the suite starts its own servers inside the test process (SWIFT_TEST_IN_PROCESS),
    # never against a deployed proxy (SWIFT_TEST_IN_PROCESS=0).
    "test.functional.s3api.test_object.TestS3ApiObjectBoto3::test_put_object_request_timeout":
        "in-process functests required for predictable client_timeout",
}
# Tests that need a proxy setting off which the rest of the suite needs on (test_object.py's
# test_allow_open_expired_disabled; tests.py's testPUTError, twice): they run in a second pass,
# against the proxy redeployed with these settings, then the proxy is redeployed as before.
SETTING_OFF_SKIPS = {
    "allow_open_expired is enabled": {"object_proxy_allow_open_expired": False},
    "Allow account management is enabled": {"object_proxy_allow_account_management": False},
}


def proxy_redeployer(workdir: pathlib.Path, inventory: pathlib.Path) -> Callable[[dict], None]:
    """A function that redeploys the proxy of ``inventory`` with playbooks/proxy.yml, the given
    settings as extravars ({}: as the inventory says)."""
    from .conftest import run_playbook

    def redeploy(settings: dict) -> None:
        run = run_playbook(workdir, "proxy.yml", inventory=inventory, extravars=settings or None, timeout=1200)
        assert run.rc == 0, f"redeploying the proxy with {settings}: {run.stdout[-3000:]}"

    return redeploy


def run_with_settings_off(conf, outcome: dict, redeploy: Callable[[dict], None], workdir: pathlib.Path) -> dict:
    """The suite's tests skipped because a setting is on, run (failures re-run once) against the
    proxy redeployed with it off; the proxy is redeployed as before in any case."""
    skipped = [
        (name, reason)
        for result in outcome["results"].values()
        for name, reason in result["skipped_tests"]
        if reason in SETTING_OFF_SKIPS
    ]
    if not skipped:
        return {"passed": 0, "skipped": 0, "failed": 0, "failed_tests": [], "skipped_tests": [], "ran": [],
                "settings": {}}
    settings = {k: v for _name, reason in skipped for k, v in SETTING_OFF_SKIPS[reason].items()}
    redeploy(settings)
    try:
        report = workdir / "functional-off.xml"
        counts = run_suite(conf, [node_id(name) for name, _reason in skipped], report, 600)
        counts = rerun_failures(conf, counts, report.with_suffix(".rerun.xml"), 300)
    finally:
        redeploy({})
    counts["ran"] = [name for name, _reason in skipped]
    counts["settings"] = settings
    return counts


def accepted_skip(name: str, reason: str) -> bool:
    """Keystone's (by reason) or one of the named upstream unconditional skips (by id and reason)."""
    return reason.startswith(KEYSTONE_SKIPS) or UPSTREAM_UNCONDITIONAL.get(name) == reason


def check_whole_suite(conf: pathlib.Path, workdir: pathlib.Path, redeploy: Callable[[dict], None]) -> dict:
    """Swift's whole functional suite against a deployed proxy, then the tests that need a setting off
    (``redeploy(settings)`` redeploys the proxy with them, ``redeploy({})`` as before). Asserts more
    than the hand-made all-in-one's 977 passed, 0 failed, and no skip but Keystone's and the named
    upstream ones."""
    started = time.time()
    outcome = run_full_suite(conf, workdir)
    print(f"whole suite: {time.time() - started:.0f} s, load {os.getloadavg()}")
    off = run_with_settings_off(conf, outcome, redeploy, workdir)
    flaky = [name for r in outcome["results"].values() for name in r.get("rerun", {}).get("flaky", [])]
    flaky += off.get("rerun", {}).get("flaky", [])
    print(f"second pass, proxy redeployed with {off['settings'] or 'nothing'}: {off['passed']} passed, "
          f"{off['skipped']} skipped, {off['failed']} failed of {off['ran']}")
    passed = outcome["total"]["passed"] + off["passed"]
    failed_tests = [name for r in outcome["results"].values() for name in r["failed_tests"]] + off["failed_tests"]
    skips = [
        (name, reason)
        for result in outcome["results"].values()
        for name, reason in result["skipped_tests"]
        if name not in off["ran"]
    ] + off["skipped_tests"]
    unexpected = [[name, reason] for name, reason in skips if not accepted_skip(name, reason)]
    summary = {"passed": passed, "skipped": len(skips), "failed": len(failed_tests), "failed_tests": failed_tests,
               "flaky": flaky, "skips": skips, "unexpected_skips": unexpected, "second_pass": off,
               "seconds": round(time.time() - started), "load": os.getloadavg()}
    (workdir / "functional-whole.json").write_text(json.dumps(summary, indent=1))
    print(f"in all: {passed} passed, {len(skips)} skipped, {len(failed_tests)} failed, flaky: {flaky or 'none'}, "
          f"{summary['seconds']} s, load {summary['load']}")
    assert passed > 977, f"{passed} passed, not above the hand-made all-in-one's 977"
    assert not failed_tests, f"failed: {failed_tests}"
    assert not unexpected, f"skips other than Keystone's and the named upstream ones: {unexpected}"
    return summary
