"""Pure-logic API machinery shared by every Pinnace component.

Nothing here does I/O or imports a component: the modules are
`codec` (dict/JSON/YAML <-> protobuf), `labels` and `fields` (selectors),
`quantity` (resource quantities), `intstr` (int-or-percent values),
`validation` (field paths, field errors, name/label validators) and
`timeutil` (RFC 3339 times and an injectable clock).
"""
