"""redis/FalkorDB replies about the server's state are GraphUnavailable, never a query error
(which the API would report as INTERNAL_SERVER_ERROR)."""

from __future__ import annotations

import pytest
import redis.exceptions as redis_errors

from graph.errors import GraphError, GraphLoading, GraphQueryError, GraphUnavailable
from graph.falkordb import _named_error, map_falkordb_errors

UNAVAILABLE = [
    redis_errors.ResponseError("MISCONF Errors writing to the AOF file: No space left on device"),
    # As redis-py's parser raises them: the READONLY / OOM prefix stripped.
    redis_errors.ReadOnlyError("You can't write against a read only replica."),
    redis_errors.OutOfMemoryError("command not allowed when used memory > 'maxmemory'."),
    redis_errors.ResponseError("ERR Error writing AOF: Input/output error"),
    redis_errors.ConnectionError("Connection closed by server."),
]


@pytest.mark.parametrize("error", UNAVAILABLE, ids=lambda e: str(e)[:20])
def test_server_state_errors_are_graph_unavailable(error: Exception) -> None:
    with pytest.raises(GraphUnavailable), map_falkordb_errors():
        raise error


def test_loading_is_its_own_kind_of_unavailable() -> None:
    with pytest.raises(GraphLoading), map_falkordb_errors():
        raise redis_errors.BusyLoadingError("LOADING Redis is loading the dataset in memory")


def test_a_bad_query_stays_a_query_error() -> None:
    with pytest.raises(GraphQueryError) as caught, map_falkordb_errors():
        raise redis_errors.ResponseError("errMsg: Invalid input 'X' errCtx: X line: 1")
    assert not isinstance(caught.value, GraphUnavailable)
    assert str(caught.value) == "Invalid input 'X'"
    assert isinstance(caught.value, GraphError)


@pytest.mark.parametrize(
    "reply",
    [
        "ERR max number of clients reached",
        "NOAUTH Authentication required.",
        "WRONGPASS invalid username-password pair or user is disabled.",
        "LOADING Redis is loading the dataset in memory",
    ],
)
def test_connection_replies_on_the_loop_are_unavailable(reply: str) -> None:
    """hiredis gives every error reply as a plain ResponseError (reads on the loop); those
    redis-py's parser makes connection errors are GraphUnavailable there too."""
    with pytest.raises(GraphUnavailable), map_falkordb_errors():
        raise _named_error(redis_errors.ResponseError(reply))


def test_a_query_error_reply_on_the_loop_keeps_its_text() -> None:
    with pytest.raises(GraphQueryError) as caught, map_falkordb_errors():
        raise _named_error(redis_errors.ResponseError("errMsg: Unknown function 'nope'"))
    assert not isinstance(caught.value, GraphUnavailable)
    assert str(caught.value) == "Unknown function 'nope'"
