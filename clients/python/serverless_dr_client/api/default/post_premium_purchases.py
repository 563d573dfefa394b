from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.premium_session_request import PremiumSessionRequest
from ...models.purchase import Purchase
from ...models.write_accepted import WriteAccepted
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: PremiumSessionRequest,
    authorization: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(authorization, Unset):
        headers["Authorization"] = authorization

    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/premium/purchases",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | Purchase | WriteAccepted | None:
    if response.status_code == 201:
        response_201 = Purchase.from_dict(response.json())

        return response_201

    if response.status_code == 202:
        response_202 = WriteAccepted.from_dict(response.json())

        return response_202

    if response.status_code == 400:
        response_400 = Error.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Error.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = Error.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = Error.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Error.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = Error.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = Error.from_dict(response.json())

        return response_429

    if response.status_code == 503:
        response_503 = Error.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Error | Purchase | WriteAccepted]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: PremiumSessionRequest,
    authorization: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Response[Error | Purchase | WriteAccepted]:
    """
    Args:
        authorization (str | Unset): Bearer <the reader's ID token>
        idempotency_key (str | Unset):
        body (PremiumSessionRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Purchase | WriteAccepted]
    """

    kwargs = _get_kwargs(
        body=body,
        authorization=authorization,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: PremiumSessionRequest,
    authorization: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Error | Purchase | WriteAccepted | None:
    """
    Args:
        authorization (str | Unset): Bearer <the reader's ID token>
        idempotency_key (str | Unset):
        body (PremiumSessionRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Purchase | WriteAccepted
    """

    return sync_detailed(
        client=client,
        body=body,
        authorization=authorization,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: PremiumSessionRequest,
    authorization: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Response[Error | Purchase | WriteAccepted]:
    """
    Args:
        authorization (str | Unset): Bearer <the reader's ID token>
        idempotency_key (str | Unset):
        body (PremiumSessionRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Purchase | WriteAccepted]
    """

    kwargs = _get_kwargs(
        body=body,
        authorization=authorization,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: PremiumSessionRequest,
    authorization: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Error | Purchase | WriteAccepted | None:
    """
    Args:
        authorization (str | Unset): Bearer <the reader's ID token>
        idempotency_key (str | Unset):
        body (PremiumSessionRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Purchase | WriteAccepted
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            authorization=authorization,
            idempotency_key=idempotency_key,
        )
    ).parsed
