"""Issue 13 item 7: what the driver creates on a compute host is 0600 and owned by QEMU's user."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ansible_collections.ministack.cloud.plugins.plugin_utils.compute import xmlgen

CAPS = """<capabilities><host><secmodel><model>none</model><doi>0</doi></secmodel>
<secmodel><model>dac</model><doi>0</doi><baselabel type='kvm'>+64055:+108</baselabel>
<baselabel type='qemu'>+64055:+64055</baselabel></secmodel></host></capabilities>"""


def test_volume_xml_is_0600_with_the_qemu_owner():
    perms = ET.fromstring(xmlgen.volume_xml("d", 1024, owner=(64055, 108))).find("target/permissions")
    assert (perms.findtext("mode"), perms.findtext("owner"), perms.findtext("group")) == ("0600", "64055", "108")
    assert ET.fromstring(xmlgen.volume_xml("d", 1024)).findtext("target/permissions/mode") == "0600"


def test_qemu_owner_from_capabilities():
    assert xmlgen.qemu_owner(CAPS, "qemu") == (64055, 64055)
    assert xmlgen.qemu_owner(CAPS, "kvm") == (64055, 108)
    assert xmlgen.qemu_owner("<capabilities><host/></capabilities>") is None
