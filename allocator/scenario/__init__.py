"""Scenarios: another structure for the same users (FORMAT.md section 6).

A scenario is a small TOML file of changes to a base instance: host
agreements, routing and competences replaced or appended, policy keys
overridden, rows of the municipalities, teams, advisors, travel and locks
tables changed by key or in bulk by ``where``, added, or removed. The users
never change, so every structure is measured on the same demand.

How an overlay is applied, and why this way: the base instance is turned
back into what its files said (instance.toml as a document, every table as
rows of strings, in the forms the writer uses), the changes are made on
those, and the result goes through the reader's own parse, checks and build
(``allocator.io.read.build_instance``). A changed instance therefore passes
exactly the rules of FORMAT.md sections 1 to 4 that a folder on disk would,
checked by the same code. Problems are then traced back: a cell, row or
array entry the scenario wrote is reported at the scenario file, its entry
(``advisors[2]``) and key; anything else at the base file "with scenario"
named. Nothing is written.

The room's modules: ``model`` (what a scenario file may say, and the
Scenario), ``read`` (reading one), ``find`` (finding them) and ``apply``
(the overlay).
"""

from __future__ import annotations

# The changed instance is written as an ordinary folder (``allocator scenario``).
from allocator.io.instance_files import write_instance as write_instance
from allocator.scenario.apply import apply_scenario as apply_scenario
from allocator.scenario.apply import check_fix_locks as check_fix_locks
from allocator.scenario.find import find_scenario as find_scenario
from allocator.scenario.find import scenario_files as scenario_files
from allocator.scenario.model import ARRAYS as ARRAYS
from allocator.scenario.model import BASE_ID as BASE_ID
from allocator.scenario.model import EXPECTED as EXPECTED
from allocator.scenario.model import ID_MAX_BYTES as ID_MAX_BYTES
from allocator.scenario.model import ID_PUNCTUATION as ID_PUNCTUATION
from allocator.scenario.model import KEYS as KEYS
from allocator.scenario.model import KINDS as KINDS
from allocator.scenario.model import POLICY_TABLES as POLICY_TABLES
from allocator.scenario.model import TABLES as TABLES
from allocator.scenario.model import TOP_KEYS as TOP_KEYS
from allocator.scenario.model import USERS_FIXED as USERS_FIXED
from allocator.scenario.model import Removal as Removal
from allocator.scenario.model import Scenario as Scenario
from allocator.scenario.model import TableEntry as TableEntry
from allocator.scenario.read import folder_key as folder_key
from allocator.scenario.read import read_scenario as read_scenario
from allocator.scenario.read import scenario_id_problem as scenario_id_problem
