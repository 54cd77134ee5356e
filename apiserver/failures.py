"""What a client is told when serving its request failed for a reason that
is not an ApiError: the same at both doors.

etcd out of reach (no member answers, or the one answering has lost its
quorum) is 503 ServiceUnavailable / UNAVAILABLE, and a call that ran out
of time 504 Timeout / DEADLINE_EXCEEDED, as kube-apiserver answers them;
anything else is an InternalError, logged with its traceback.
"""

from __future__ import annotations

import logging

from apiserver.etcd.errors import EtcdTimeout, EtcdUnavailable
from pinnace.machinery import errors

__all__ = ["api_error"]

log = logging.getLogger(__name__)


def api_error(e: Exception, what: str) -> errors.ApiError:
    """The ApiError to answer ``what`` (a request, for the log) with."""
    if isinstance(e, EtcdUnavailable):
        log.warning("%s: etcd is unavailable: %s", what, e)
        return errors.Unavailable(f"etcd is unavailable: {e}")
    if isinstance(e, EtcdTimeout):
        log.warning("%s: etcd timed out: %s", what, e)
        return errors.Timeout(f"etcd did not answer in time: {e}")
    log.error("%s failed", what, exc_info=e)
    return errors.InternalError(f"internal error: {type(e).__name__}: {e}")
