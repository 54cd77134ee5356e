"""Validation of CronJob schedules, worded as Kubernetes words it.

Kubernetes parses `spec.schedule` with robfig/cron v3's ParseStandard: five
fields (minute hour day-of-month month day-of-week), or a descriptor
(@yearly @annually @monthly @weekly @daily @midnight @hourly, "@every <d>"),
optionally prefixed with "TZ=<zone> " or "CRON_TZ=<zone> ". `?` means `*`.
`schedule_error` returns robfig's error text (what Kubernetes shows after
"Invalid value: ...:") or None for a valid schedule. The TZ prefix is
accepted here; the CronJob strategy rejects it separately, as Kubernetes does.
"""

from __future__ import annotations

import re
import zoneinfo

__all__ = ["schedule_error", "time_zone_error"]

DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")

# (minimum, maximum, names) per field, robfig's bounds.
_MONTHS = {
    m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())
}
_DAYS = {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())}
_FIELDS = ((0, 59, {}), (0, 23, {}), (1, 31, {}), (1, 12, _MONTHS), (0, 6, _DAYS))
_GO_DURATION = re.compile(r"([0-9]*(\.[0-9]*)?(ns|us|µs|ms|s|m|h))+")


def schedule_error(spec: str) -> str | None:
    """robfig/cron's ParseStandard error for `spec`, or None if it parses."""
    if not spec:
        return "empty spec string"
    if spec.startswith(("TZ=", "CRON_TZ=")):
        head, _, rest = spec.partition(" ")
        zone = head.partition("=")[2]
        if time_zone_error(zone) is not None and zone != "Local":
            return f"provided bad location {zone}: unknown time zone {zone}"
        spec = rest.strip()
    if spec.startswith("@"):
        return _descriptor_error(spec)
    fields = spec.split()
    if len(fields) != 5:
        shown = "[" + " ".join(fields) + "]"
        return f"expected exactly 5 fields, found {len(fields)}: {shown}"
    for text, (lo, hi, names) in zip(fields, _FIELDS, strict=True):
        err = _field_error(text, lo, hi, names)
        if err:
            return err
    return None


def _descriptor_error(spec: str) -> str | None:
    if spec in DESCRIPTORS:
        return None
    if spec.startswith("@every "):
        duration = spec[len("@every ") :]
        if duration == "0" or _GO_DURATION.fullmatch(duration):
            return None
        return f'failed to parse duration {spec}: time: invalid duration "{duration}"'
    return f"unrecognized descriptor: {spec}"


def _field_error(field: str, lo: int, hi: int, names: dict[str, int]) -> str | None:
    for expr in field.split(","):
        err = _range_error(expr, lo, hi, names)
        if err:
            return err
    return None


def _range_error(expr: str, lo: int, hi: int, names: dict[str, int]) -> str | None:
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    single = len(low_and_high) == 1
    if low_and_high[0] in ("*", "?"):
        start, end = lo, hi
    else:
        start, err = _int_or_name(low_and_high[0], names)
        if err:
            return err
        end = start
        if len(low_and_high) == 2:
            end, err = _int_or_name(low_and_high[1], names)
            if err:
                return err
        elif len(low_and_high) > 2:
            return f"too many hyphens: {expr}"
    if len(range_and_step) == 2:
        step, err = _int(range_and_step[1])
        if err:
            return err
        if single and low_and_high[0] not in ("*", "?"):
            end = hi  # "N/step" means N-max/step
        if step == 0:
            return f"step of range should be a positive number: {expr}"
    elif len(range_and_step) > 2:
        return f"too many slashes: {expr}"
    if start < lo:
        return f"beginning of range ({start}) below minimum ({lo}): {expr}"
    if end > hi:
        return f"end of range ({end}) above maximum ({hi}): {expr}"
    if start > end:
        return f"beginning of range ({start}) beyond end of range ({end}): {expr}"
    return None


def _int_or_name(text: str, names: dict[str, int]) -> tuple[int, str | None]:
    if text.lower() in names:
        return names[text.lower()], None
    return _int(text)


def _int(text: str) -> tuple[int, str | None]:
    try:
        value = int(text, 10)
    except ValueError:
        return 0, f'failed to parse int from {text}: strconv.Atoi: parsing "{text}": invalid syntax'
    if value < 0:
        return 0, f"negative number ({value}) not allowed: {text}"
    return value, None


def time_zone_error(name: str) -> str | None:
    """Go's time.LoadLocation error for an IANA zone name, or None."""
    if name in ("", "UTC"):
        return None
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return f"unknown time zone {name}"
    return None
