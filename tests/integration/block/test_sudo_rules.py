"""The block_host role's sudo rules, run for real by sudo on this machine: the role's own tasks
make a throwaway user (removed afterwards) and its sudoers drop-ins; then the block library, as
that user through ``sudo -n``, creates a volume from an image, exports it over tgt (QEMU's iSCSI
client reads the image's bytes back), unexports and deletes it; and command lines outside the
rules are refused by sudo, leaving their victims untouched."""

from __future__ import annotations

import json
import os
import pathlib
import pwd
import subprocess
import uuid

import pytest
from ansible_collections.ministack.cloud.plugins.plugin_utils.backup import hostjob
from ansible_collections.ministack.cloud.plugins.plugin_utils.block import backends, runner, targets
from fixtures.block.iscsi import qemu_io, qemu_url
from fixtures.block.play import Play

PLAYBOOKS = pathlib.Path(__file__).parent / "playbooks"


def _as(user):
    """A become runner whose commands start as ``user`` (runuser), as over SSH as that user."""

    class AsUser(runner.LocalRunner):
        def _execute(self, argv, input_text, timeout):
            return super()._execute(["runuser", "-u", user, "--", *argv], input_text, timeout)

        def _local_argv(self, full):
            return ["runuser", "-u", user, "--", *full]

    return AsUser(become=True)


@pytest.fixture(scope="module")
def sudo_user(tmp_path_factory):
    """A throwaway user with the role's rules for the file backend and for LVM (two drop-ins)."""
    work = tmp_path_factory.mktemp("sudo")
    os.chmod(work, 0o755)
    user = f"mss{uuid.uuid4().hex[:8]}"
    key = work / "id"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    files = [f"/etc/sudoers.d/zz-{user}-file", f"/etc/sudoers.d/zz-{user}-lvm"]
    common = {"block_host_controller_user": user, "block_host_controller_public_key": (work / "id.pub").read_text(),
              "block_host_install_packages": False, "block_host_file_directory": str(work / "volumes"),
              "block_host_tgt_conf_dir": str(work / "conf.d"), "block_host_volume_group": "mssudo-vg"}
    play = Play(PLAYBOOKS, work, common)
    try:
        runs = [play("controller_user.yml", block_host_backend="file", block_host_sudoers_file=files[0]),
                play("controller_user.yml", block_host_backend="lvm", block_host_sudoers_file=files[1]),
                play("controller_user.yml", block_host_backend="file", block_host_sudoers_file=files[0])]
        for run in runs:
            assert run.returncode == 0, run.stdout[-3000:]
        yield {"user": user, "work": work, "files": files, "runs": runs}
    finally:
        subprocess.run(["userdel", "-r", user], capture_output=True, check=False)
        for path in files:
            if os.path.exists(path):
                os.unlink(path)


def test_the_role_makes_the_user_its_key_and_a_0440_drop_in_and_a_second_run_changes_nothing(sudo_user):
    entry = pwd.getpwnam(sudo_user["user"])
    assert entry.pw_uid != 0 and entry.pw_shell == "/bin/sh"
    keys = pathlib.Path(entry.pw_dir, ".ssh", "authorized_keys").read_text()
    assert (sudo_user["work"] / "id.pub").read_text().split()[1] in keys
    for path in sudo_user["files"]:
        assert oct(os.stat(path).st_mode & 0o777) == "0o440"
        assert subprocess.run(["visudo", "-cf", path], capture_output=True).returncode == 0
    assert sudo_user["runs"][2].changed() == 0, sudo_user["runs"][2].changed_tasks()


def test_a_volume_from_an_image_is_exported_read_back_and_removed_as_the_user(sudo_user):
    work, run = sudo_user["work"], _as(sudo_user["user"])
    root = runner.LocalRunner()
    backends.FileBackend(root, str(work / "volumes")).setup()  # the role makes the directory (0700 root)
    files = backends.FileBackend(run, str(work / "volumes"))
    tgt = targets.TgtTarget(run, conf_dir=str(work / "conf.d"))
    image = work / "image.raw"
    image.write_bytes(b"ministack-sudo!\n" * 4096)
    vid = str(uuid.uuid4())
    name = f"volume-{vid}"
    assert files.capacity()["total_capacity_gb"] > 0
    files.create(name, 1)
    try:
        with files.image_on_host(str(image)) as staged:
            assert staged.startswith("/var/tmp/ministack-image-")  # through sudo the image is always staged
            files.copy_image(staged, "raw", name)
        assert not list(pathlib.Path("/var/tmp").glob(f"ministack-image-{os.getpid()}-*"))
        user, secret = targets.generate_chap()
        info = tgt.export(vid, files.path(name), user, secret, initiator_addresses=["127.0.0.1"])
        try:
            read = qemu_io(qemu_url(info, user, secret), "read -P 0x6d 0 1")  # 'm' of ministack
            assert read.returncode == 0 and "read 1/1 bytes" in read.stdout, read.stdout + read.stderr
            assert oct(os.stat(tgt.conf_path(vid)).st_mode & 0o777) == "0o600"
        finally:
            tgt.unexport(vid)
        assert tgt.show(vid) is None and not os.path.exists(tgt.conf_path(vid))
    finally:
        files.delete(name)
    assert not files.exists(name)


@pytest.mark.parametrize("argv", [
    ["/bin/sh", "-c", "id"],
    ["sh", "-c", "id"],
    ["cat", "/etc/shadow"],
    ["id"],
    ["/usr/sbin/lvm", "lvs"],
    ["lvremove", "-f", "othervg/root"],
    ["python3", "-c", "import os"],
    ["tgt-admin", "-e"],
])
def test_anything_else_is_refused_by_sudo(sudo_user, argv):
    res = _as(sudo_user["user"]).run(argv, check=False)
    assert res.rc == 1 and "a password is required" in res.stderr, (argv, res)
    assert "refused" in res.stderr  # the runner's hint names the rules


def test_lvm_rules_let_lvm_answer_and_refuse_other_groups_and_victims_stay(sudo_user):
    run, work = _as(sudo_user["user"]), sudo_user["work"]
    # allowed by sudo: LVM itself answers (the group does not exist here), not sudo
    res = run.run(["vgs", "--noheadings", "mssudo-vg"], check=False)
    assert res.rc == 5 and "mssudo-vg" in res.stderr and "password" not in res.stderr, res
    victim = work / "volumes" / "victim"
    victim.write_text("keep me")
    os.chmod(victim, 0o600)
    for argv in (["rm", "-f", str(victim)], ["dd", f"of={victim}", "status=none"],
                 ["truncate", "-s", "0", str(victim)], ["rm", "-f", f"{work}/volumes/volume-x/../victim"],
                 ["cp", "--reflink=auto", "--sparse=always", "/etc/shadow", f"{work}/volumes/volume-x"]):
        res = run.run(argv, check=False, input_text="")
        assert res.rc == 1 and "password is required" in res.stderr, (argv, res)
    assert victim.read_text() == "keep me"
    assert not (work / "volumes" / "volume-x").exists()


def test_the_backup_job_runs_as_root_through_its_one_rule(sudo_user):
    """The backup copy program's bootstrap (quotes, brackets, braces) matches its rule exactly; the
    program on stdin runs as root (which is why docs/security.md calls the rule root-equivalent)."""
    lines = []
    payload = json.dumps({"program": "import os\nprint('done', os.getuid(), JOB['n'])", "job": {"n": 7}}) + "\n"
    res = _as(sudo_user["user"]).stream(["python3", "-u", "-c", hostjob.BOOTSTRAP], lines.append, input_text=payload)
    assert res.rc == 0 and lines == ["done 0 7"], (res, lines)
