# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Volume backups in Cinder's chunked Swift format (the cinder-backup service's part).

* ``fmt``: names and sizes of the format (container, object prefix, chunk and block sizes).
* ``hostprog``: the stdlib-only program the block host runs to back up or restore.
* ``hostjob``: sends it to the block host through the block host runner, parses progress.
* ``store``: the controller's own Swift calls (container, cleanup, checks) via openstacksdk.
* ``service``: the workflows (create, delete, restore, export/import, reset, settle) with
  the transaction rule: short transaction, host work without a lock, short transaction.
* ``resources``: what the modules call.
"""
