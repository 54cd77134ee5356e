"""Server-side apply: field ownership (managedFields) and the apply merge.

``fieldsets`` holds sets of field paths and their FieldsV1 encoding;
``schema`` says how each field of an API object merges (struct, granular
map, atomic, set or keyed list); ``apply`` is the Apply and Update
operations over codec dicts; ``objects`` the same over typed messages, for
the apiserver. All pure: no I/O, no clock (``now`` is passed).
"""

from .apply import ApplyConflict, ApplyError, apply, update_managed
from .fieldsets import FieldSet, Path, decode_fields_v1, encode_fields_v1, path_string
from .objects import apply_object, conflict_error, manager_name, parse_applied, record_update
from .schema import ListKindFn, table_list_kind

__all__ = [
    "ApplyConflict",
    "ApplyError",
    "FieldSet",
    "ListKindFn",
    "Path",
    "apply",
    "apply_object",
    "conflict_error",
    "decode_fields_v1",
    "encode_fields_v1",
    "manager_name",
    "parse_applied",
    "path_string",
    "record_update",
    "table_list_kind",
    "update_managed",
]
