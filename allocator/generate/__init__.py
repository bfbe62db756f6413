"""Synthetic instances: realistic caseloads for tests, demos and scale runs.

Everything is drawn from one ``random.Random(seed)`` in a fixed order, so the
same seed writes byte-identical files. The shipped instances
(``instances/build.py``) and ``allocator generate`` use the same builders.

How a caseload is made realistic rather than random:

- Active users are spread over a team's advisors along a *staircase*: users
  sorted by municipality are cut into runs proportional to each advisor's
  casework FTE. Every advisor then holds a fair share and touches only one
  or two neighbouring municipalities, as real portfolios do.
- Each active user's needs are drawn from what their current advisor can
  serve (competence, and municipal authority over the user's municipality),
  and attributes are redrawn until routing sends the user to the advisor's
  team kind. The current allocation therefore obeys rules 1 to 3 and 5, and
  ``keep everyone where they are`` is always a feasible answer.
- Capacity per team kind is set from the demand actually drawn, with a
  headroom (about 10-20 % above demand), so a good allocation places
  everybody.

The room's modules: ``catalogue`` (competences, routing, team names),
``profiles`` (what is drawn from), ``helpers``, ``builders`` (the Builder),
``region`` (an arbitrary region), ``office`` (one office shaped like the seed
documents' offices) and ``write`` (the instance written as a folder).
"""

from __future__ import annotations

from allocator.generate.builders import Builder as Builder
from allocator.generate.builders import UserDraft as UserDraft
from allocator.generate.builders import municipality as municipality
from allocator.generate.builders import policy_for as policy_for
from allocator.generate.builders import team as team
from allocator.generate.builders import team_name as team_name
from allocator.generate.catalogue import COMPETENCES as COMPETENCES
from allocator.generate.catalogue import INTAKE_PER_FTE as INTAKE_PER_FTE
from allocator.generate.catalogue import (
    INTRODUCTION_PROGRAMME as INTRODUCTION_PROGRAMME,
)
from allocator.generate.catalogue import ROUTING_ORDER as ROUTING_ORDER
from allocator.generate.catalogue import TEAM_LABELS as TEAM_LABELS
from allocator.generate.catalogue import WEEK as WEEK
from allocator.generate.catalogue import routing_for as routing_for
from allocator.generate.helpers import apportion as apportion
from allocator.generate.helpers import casework_fte as casework_fte
from allocator.generate.helpers import fold_id as fold_id
from allocator.generate.helpers import intake_limit as intake_limit
from allocator.generate.helpers import staircase as staircase
from allocator.generate.office import OFFICE_SHARES as OFFICE_SHARES
from allocator.generate.office import OfficeSize as OfficeSize
from allocator.generate.office import draw_size as draw_size
from allocator.generate.office import generate_office as generate_office
from allocator.generate.office import office_instance as office_instance
from allocator.generate.office import office_locks as office_locks
from allocator.generate.profiles import ADVISOR_PROFILES as ADVISOR_PROFILES
from allocator.generate.profiles import AGES as AGES
from allocator.generate.profiles import CHILDREN as CHILDREN
from allocator.generate.profiles import FIRST_NAMES as FIRST_NAMES
from allocator.generate.profiles import FTES as FTES
from allocator.generate.profiles import LAST_NAMES as LAST_NAMES
from allocator.generate.profiles import LEADER_SHARES as LEADER_SHARES
from allocator.generate.profiles import MUNICIPAL_SECOND as MUNICIPAL_SECOND
from allocator.generate.profiles import NAME_ENDINGS as NAME_ENDINGS
from allocator.generate.profiles import NAME_PREFIXES as NAME_PREFIXES
from allocator.generate.profiles import NAME_STEMS as NAME_STEMS
from allocator.generate.profiles import NEED_WEIGHTS as NEED_WEIGHTS
from allocator.generate.profiles import REQUIRED_NEEDS as REQUIRED_NEEDS
from allocator.generate.profiles import STATE_SPECIALISMS as STATE_SPECIALISMS
from allocator.generate.profiles import USER_WEIGHTS as USER_WEIGHTS
from allocator.generate.region import KIND_SHARES as KIND_SHARES
from allocator.generate.region import Office as Office
from allocator.generate.region import Shape as Shape
from allocator.generate.region import generate as generate
from allocator.generate.region import region_instance as region_instance
from allocator.generate.region import shape_note as shape_note
from allocator.generate.region import synthetic_names as synthetic_names
from allocator.generate.region import synthetic_region as synthetic_region
from allocator.generate.write import symmetric as symmetric
from allocator.generate.write import write_instance as write_instance

# The instance folder's columns and road distances as rows, as the writer has them.
from allocator.io.instance_files import COLUMNS as COLUMNS
from allocator.io.instance_files import travel_rows as travel_rows
