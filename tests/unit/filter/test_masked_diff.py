from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.ministack.cloud.plugins.filter.masked_diff import masked_diff

OLD = "[swift-hash]\nswift_hash_path_prefix = abc123\nswift_hash_path_suffix = zz99\n\n[storage-policy:0]\nname = gold\n"


def test_a_changed_setting_shows_and_the_secrets_never_do():
    new = OLD.replace("name = gold", "name = silver")
    diff = masked_diff(OLD, new, ["abc123", "zz99"], name="/etc/swift/swift.conf")
    assert "--- /etc/swift/swift.conf (before)\n+++ /etc/swift/swift.conf (after)\n" in diff
    assert "-name = gold\n+name = silver\n" in diff
    assert "abc123" not in diff and "zz99" not in diff
    assert " swift_hash_path_suffix = ********\n" in diff  # context lines are masked too


def test_a_changed_secret_shows_as_a_changed_line_without_either_value():
    new = OLD.replace("abc123", "def456")
    diff = masked_diff(OLD, new, ["abc123", "def456", "zz99"])
    assert "abc123" not in diff and "def456" not in diff
    assert diff.endswith("# only secret values changed (not shown)\n")


def test_a_new_file_is_all_additions_masked_and_equal_texts_give_nothing():
    diff = masked_diff("", OLD, ["abc123", "zz99"], name="swift.conf")
    added = [line for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert len(added) == OLD.count("\n") and "abc123" not in diff
    assert masked_diff(OLD, OLD, ["abc123"]) == ""


def test_a_secret_inside_another_is_masked_whole_and_no_newline_is_said():
    diff = masked_diff("pw = s3cr3t-long", "pw = other", ["s3cr3t", "s3cr3t-long"])
    assert "-pw = ********\n\\ No newline at end of file\n+pw = other\n" in diff
    assert "-long" not in diff


@pytest.mark.parametrize(("before", "after", "secrets", "word"), [
    ({"a": 1}, "x", [], "the input"), ("x", 3, [], "after"), ("x", "y", "abc", "secrets")])
def test_bad_input_fails_with_one_message_naming_the_field(before, after, secrets, word):
    with pytest.raises(AnsibleFilterError, match=word):
        masked_diff(before, after, secrets)
