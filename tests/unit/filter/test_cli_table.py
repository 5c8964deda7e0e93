from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.ministack.cloud.plugins.filter.cli_table import cli_show, cli_table

SEED_FLAVOR_LIST = """\
+----+-----------+-------+------+-----------+-------+-----------+
| ID | Name      |   RAM | Disk | Ephemeral | VCPUs | Is Public |
+----+-----------+-------+------+-----------+-------+-----------+
| 1  | m1.tiny   |   512 |    1 |         0 |     1 | True      |
| 2  | m1.small  |  2048 |   20 |         0 |     1 | True      |
| 20 | newflavor |   768 |    1 |         0 |     1 | True      |
| 3  | m1.medium |  4096 |   40 |         0 |     2 | True      |
| 4  | m1.large  |  8192 |   80 |         0 |     4 | True      |
| 5  | m1.xlarge | 16384 |  160 |         0 |     8 | True      |
+----+-----------+-------+------+-----------+-------+-----------+"""


def test_flavor_list_matches_the_seed_byte_for_byte():
    flavors = [
        ("1", "m1.tiny", 512, 1, 1), ("2", "m1.small", 2048, 20, 1), ("20", "newflavor", 768, 1, 1),
        ("3", "m1.medium", 4096, 40, 2), ("4", "m1.large", 8192, 80, 4), ("5", "m1.xlarge", 16384, 160, 8),
    ]
    rows = [dict(id=i, name=n, ram=r, disk=d, ephemeral=0, vcpus=v, is_public=True) for i, n, r, d, v in flavors]
    columns = [["ID", "id"], ["Name", "name"], ["RAM", "ram"], ["Disk", "disk"], ["Ephemeral", "ephemeral"],
               ["VCPUs", "vcpus"], ["Is Public", "is_public"]]
    assert cli_table(rows, columns) == SEED_FLAVOR_LIST


def test_show_sorts_fields_and_formats_properties():
    out = cli_show({"status": "ACTIVE", "properties": {"b": "2", "a": 1}, "host": None}).splitlines()
    assert out[1] == "| Field      | Value        |"
    assert out[3].startswith("| host ") and "None" in out[3]
    assert "a='1', b='2'" in out[4]
    assert out[5].startswith("| status ")


def test_bad_input_names_what_is_wrong():
    with pytest.raises(AnsibleFilterError, match="list of dicts"):
        cli_table("flavors", ["id"])
    with pytest.raises(AnsibleFilterError, match="column"):
        cli_table([], [["a", "b", "c"]])
    with pytest.raises(AnsibleFilterError, match="must be a dict"):
        cli_show(["x"])


def test_a_multi_line_cell_spans_lines_and_keeps_the_table_whole():
    out = cli_show({"name": "instance01", "volumes_attached": "id='a1'\nid='b2'"})
    assert out == (
        "+------------------+------------+\n"
        "| Field            | Value      |\n"
        "+------------------+------------+\n"
        "| name             | instance01 |\n"
        "| volumes_attached | id='a1'    |\n"
        "|                  | id='b2'    |\n"
        "+------------------+------------+"
    )
    widths = {len(line) for line in out.splitlines()}
    assert len(widths) == 1
