# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Catalog migrations: NNNN_name.py files with ``def upgrade(op):`` (see ../migrate.py).

Ranges: 0001-0099 catalog core, 0100-0199 compute, 0200-0299 block, 0300-0399 object/images.
"""
