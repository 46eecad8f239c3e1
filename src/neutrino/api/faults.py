"""Domain errors → HTTP status and Neutron fault body, in one table."""

from __future__ import annotations

from starlette.responses import JSONResponse

from neutrino import errors
from neutrino.api.payload import RequestEntityTooLarge
from neutrino.api.text import shorten

STATUS_BY_CATEGORY: tuple[tuple[type[errors.NeutrinoError], int], ...] = (
    (errors.BadRequest, 400),
    (errors.NotAuthorized, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.PreconditionFailed, 412),
    (RequestEntityTooLarge, 413),
    (errors.BackendUnavailable, 503),
    (errors.ServiceUnavailable, 503),
)

# The client may still be sending the body we refused: closing spares reading the rest.
CLOSE_AFTER: tuple[type[errors.NeutrinoError], ...] = (RequestEntityTooLarge,)

INTERNAL_ERROR = ("HTTPInternalServerError",
                  "Request failed: internal server error while processing your request.")

# A safety net: messages echo request values through previews, but no fault may carry more.
MAX_MESSAGE_CHARS = 1024


def status_for(exc: errors.NeutrinoError) -> int:
    for category, status in STATUS_BY_CATEGORY:
        if isinstance(exc, category):
            return status
    return 500


def fault_response(exc: errors.NeutrinoError) -> JSONResponse:
    headers = {"Connection": "close"} if isinstance(exc, CLOSE_AFTER) else None
    return neutron_fault(status_for(exc), exc.type, exc.message, headers)


def neutron_fault(status: int, fault_type: str, message: str,
                  headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"NeutronError": {"type": fault_type, "message": shorten(message, MAX_MESSAGE_CHARS),
                             "detail": ""}}
    return JSONResponse(body, status_code=status, headers=headers)
