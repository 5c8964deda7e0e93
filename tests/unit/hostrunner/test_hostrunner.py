"""The one host runner: inventory variables -> connection spec -> the ssh command Ansible would
run; local commands for real (stdin, masking, failures)."""

from __future__ import annotations

import pytest
from ansible_collections.ministack.cloud.plugins.plugin_utils import hostrunner
from ansible_collections.ministack.cloud.plugins.plugin_utils.block import runner as block_runner
from ansible_collections.ministack.cloud.plugins.plugin_utils.block.errors import CommandFailed

LAB_VARS = {
    "inventory_hostname": "h2",
    "ansible_host": "10.89.80.12",
    "ansible_user": "root",
    "ansible_ssh_private_key_file": "/lab/state/id_ed25519",
    "ansible_ssh_common_args": "-o ProxyJump=ops@bastion:2222 -o 'UserKnownHostsFile=/dev/null'",
    "ansible_ssh_args": "-C -o ControlMaster=auto -o ControlPersist=60s",
    "ansible_port": "2200",
    "ansible_become": False,
    "ansible_ssh_timeout": "7",
    "host_key_checking": "False",
}


def test_spec_from_inventory_variables():
    spec = hostrunner.connection_spec(LAB_VARS)
    assert spec == {
        "connection": "ssh", "become": False, "address": "10.89.80.12", "port": 2200, "user": "root",
        "identity_file": "/lab/state/id_ed25519", "connect_timeout": 7, "host_key_checking": False,
        "ssh_args": ["-C", "-o", "ControlMaster=auto", "-o", "ControlPersist=60s",
                     "-o", "ProxyJump=ops@bastion:2222", "-o", "UserKnownHostsFile=/dev/null"],
    }
    # A stored spec gives itself back (the catalog keeps it; the runner is built from it later).
    assert hostrunner.connection_spec(spec) == spec


def test_ssh_command_puts_the_inventory_first_and_quotes_the_remote_argv():
    run = hostrunner.runner_for(LAB_VARS)
    argv = run.command(["tgtadm", "--op", "show", "a b;rm -rf /"])
    # ssh keeps the first value of an option: the inventory's arguments come before the runner's.
    assert argv[:8] == ["ssh", "-C", "-o", "ControlMaster=auto", "-o", "ControlPersist=60s", "-o",
                        "ProxyJump=ops@bastion:2222"]
    # host_key_checking false: any key, as Ansible's setting says.
    assert "StrictHostKeyChecking=no" in argv and "StrictHostKeyChecking=yes" not in argv
    assert 'IdentityFile="/lab/state/id_ed25519"' in argv and "IdentitiesOnly=yes" in argv
    assert "ConnectTimeout=7" in argv and "Port=2200" in argv and 'User="root"' in argv
    assert argv[-3:] == ["10.89.80.12", "--", "tgtadm --op show 'a b;rm -rf /'"]


def test_become_and_local_and_podman():
    become = hostrunner.runner_for({"ansible_host": "b1", "ansible_user": "ops", "ansible_become": "yes",
                                    "ansible_become_user": "cinder"})
    assert become.command(become._wrap(["lvs"]))[-1] == "sudo -n -u cinder lvs"
    assert hostrunner.connection_spec({"inventory_hostname": "localhost"}) == {"connection": "local", "become": False}
    assert hostrunner.connection_spec({"ansible_connection": "local", "ansible_host": "10.0.0.1"})["connection"] \
        == "local"
    assert isinstance(hostrunner.runner_for({"connection": "local"}), hostrunner.LocalRunner)
    pod = hostrunner.runner_for({"ansible_connection": "containers.podman.podman", "inventory_hostname": "mol-1"})
    assert isinstance(pod, hostrunner.PodmanRunner) and pod.container == "mol-1"
    # The spec the block_host role used to write (sudo, address) still works.
    old = hostrunner.connection_spec({"connection": "ssh", "address": "b2", "user": "ops", "port": 22, "sudo": True})
    assert old == {"connection": "ssh", "become": True, "address": "b2", "port": 22, "user": "ops"}


@pytest.mark.parametrize("values, field", [
    ({"ansible_host": "b1", "ansible_password": "hunter2"}, "ansible_password"),
    ({"ansible_host": "b1", "ansible_become_password": "hunter2"}, "ansible_become_password"),
    ({"ansible_host": "b1", "ansible_connection": "winrm"}, "ansible_connection"),
    ({"ansible_host": "b1", "ansible_port": "ssh"}, "ansible_port"),
    ({"ansible_host": "b1", "ansible_become": True, "ansible_become_method": "su"}, "ansible_become_method"),
])
def test_bad_inventory_values_name_the_variable(values, field):
    with pytest.raises(hostrunner.ConnectionSpecError) as err:
        hostrunner.connection_spec(values)
    assert str(err.value).startswith(f"{field}:")
    assert "hunter2" not in str(err.value)


def test_local_runner_stdin_masking_and_failures(tmp_path):
    run = block_runner.runner_for({"connection": "local"})
    target = tmp_path / "chap.conf"
    run.write_file(str(target), "incominguser u s3cret-XYZ\n", mode="0600")
    assert target.read_text() == "incominguser u s3cret-XYZ\n" and oct(target.stat().st_mode)[-3:] == "600"
    assert run.read_file(str(target)) == "incominguser u s3cret-XYZ\n"
    assert run.read_file(str(tmp_path / "missing")) is None
    with pytest.raises(CommandFailed) as err:  # the block library's own error class
        run.run(["sh", "-c", "echo s3cret-XYZ >&2; exit 4"], secrets=["s3cret-XYZ"])
    assert err.value.rc == 4 and "s3cret-XYZ" not in str(err.value) and "s3cret-XYZ" not in err.value.stderr


def test_unreachable_host_says_which_inventory_variables_to_check():
    run = hostrunner.runner_for({"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": 1,
                                 "ansible_user": "root",
                                 "ansible_ssh_timeout": 2})
    with pytest.raises(hostrunner.HostCommandFailed) as err:
        run.run(["true"])
    assert err.value.rc == 255
    assert "cannot reach the host over ssh root@127.0.0.1:1" in str(err.value)
    assert "ansible_ssh_private_key_file" in str(err.value)


def test_a_controller_without_dot_ssh_gets_one_for_the_control_socket(tmp_path, monkeypatch):
    """ssh does not make ControlPath's directory: without ~/.ssh every command failed with
    "unix_listener: cannot bind to path ...: No such file or directory" (seen on a fresh controller)."""
    import types

    monkeypatch.setattr(hostrunner.pwd, "getpwuid", lambda uid: types.SimpleNamespace(pw_dir=str(tmp_path)))
    run = hostrunner.runner_for({"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": 1,
                                 "ansible_ssh_timeout": 2})
    with pytest.raises(hostrunner.HostCommandFailed):
        run.run(["true"])
    assert (tmp_path / ".ssh").is_dir() and (tmp_path / ".ssh").stat().st_mode & 0o777 == 0o700


def test_host_keys_are_checked_against_the_controller_file_by_default():
    checked = hostrunner.runner_for({"ansible_host": "b1", "known_hosts": "/inv/known_hosts"})
    argv = checked.command(["true"])
    assert "StrictHostKeyChecking=yes" in argv and "UserKnownHostsFile=/inv/known_hosts" in argv
    assert "accept-new" not in " ".join(argv)
