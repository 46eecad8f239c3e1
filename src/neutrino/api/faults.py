"""Domain errors → HTTP status and Neutron fault body, in one table."""

from __future__ import annotations

from starlette.responses import JSONResponse

from neutrino import errors

STATUS_BY_CATEGORY: tuple[tuple[type[errors.NeutrinoError], int], ...] = (
    (errors.BadRequest, 400),
    (errors.NotAuthorized, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.PreconditionFailed, 412),
    (errors.BackendUnavailable, 503),
    (errors.ServiceUnavailable, 503),
)


def status_for(exc: errors.NeutrinoError) -> int:
    for category, status in STATUS_BY_CATEGORY:
        if isinstance(exc, category):
            return status
    return 500


def fault_response(exc: errors.NeutrinoError) -> JSONResponse:
    return neutron_fault(status_for(exc), exc.type, exc.message)


def neutron_fault(status: int, fault_type: str, message: str) -> JSONResponse:
    body = {"NeutronError": {"type": fault_type, "message": message, "detail": ""}}
    return JSONResponse(body, status_code=status)
