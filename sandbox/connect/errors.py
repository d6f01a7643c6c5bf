"""Service errors as botocore's restJson parser reads them: status + x-amzn-ErrorType + message."""

from __future__ import annotations

from sandbox.httpkit import HttpError

_STATUS = {
    "AccessDeniedException": 403,
    "ValidationException": 400,
    "InvalidParameterException": 400,
    "InvalidRequestException": 400,
    "ResourceNotFoundException": 404,
    "ConflictException": 409,
    "ServiceQuotaExceededException": 402,
    "LimitExceededException": 429,
    "ThrottlingException": 429,
    "InternalServerException": 500,
}


class ConnectError(HttpError):
    def __init__(self, code: str, message: str):
        super().__init__(_STATUS[code], {"Message": message, "message": message}, {"x-amzn-ErrorType": code})
        self.code = code


def access_denied(message: str = "Access denied") -> ConnectError:
    return ConnectError("AccessDeniedException", message)


def validation(message: str) -> ConnectError:
    return ConnectError("ValidationException", message)


def chat_ended() -> ConnectError:
    # What Connect answers to any participant call once the chat is over (docs/reference/connect-chat.md).
    return access_denied("Access denied: the chat has already been terminated")
