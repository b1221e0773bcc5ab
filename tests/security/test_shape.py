"""The shape measure behind the depth/alias/cost rule: exact figures, linear in the document."""

from __future__ import annotations

import pytest
from graphql import GraphQLSchema, parse

from hub.settings import Settings
from schema.extensions.limits import build_validator
from schema.extensions.shape import LIST_ESTIMATE, SCAN_ESTIMATE, Pages, Shape, measure
from schema.root import build_schema
from tests.security.chains import fragment_chain

PAGES = Pages(default=20, maximum=100)


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema(Settings(data_dir="/tmp/c360-shape-unused"))._schema


def shape(schema: GraphQLSchema, query: str) -> Shape:
    [(_, result)] = measure(schema, parse(query), PAGES)
    return result


def test_plain_fields_cost_one_each(schema: GraphQLSchema) -> None:
    assert shape(schema, '{ customer(id: "x") { id name } }') == Shape(depth=1, aliases=0, cost=3)


def test_pages_multiply_what_is_under_them(schema: GraphQLSchema) -> None:
    q = "{ customers(first: 7) { totalCount edges { node { id name } } } }"
    # customers 1 + 7 x (totalCount 1 + edges (1 + node (1 + 2)))
    assert shape(schema, q).cost == 1 + 7 * (1 + 1 + 1 + 2)
    default = shape(schema, "{ customers { edges { node { id } } } }").cost
    assert default == 1 + 20 * (1 + 1 + 1)
    variable = shape(schema, "query Q($n: Int) { customers(first: $n) { edges { node { id } } } }")
    assert variable.cost == 1 + 100 * 3  # a variable counts as the largest page


def test_unpaged_lists_count_an_estimate(schema: GraphQLSchema) -> None:
    q = '{ customer(id: "x") { accounts { id } } }'
    assert shape(schema, q).cost == 1 + (1 + LIST_ESTIMATE * 1)


def test_aliases_and_fragment_uses_all_count(schema: GraphQLSchema) -> None:
    q = '{ a: customer(id: "x") { ...F ...F } b: customer(id: "y") { ...F } } ' + (
        "fragment F on Customer { i: id }"
    )
    assert shape(schema, q) == Shape(depth=1, aliases=2 + 3, cost=2 * 1 + 3)


def test_fragment_chains_are_measured_once_per_fragment(schema: GraphQLSchema) -> None:
    # 2**150 fields once expanded (the token limit allows ~200 fragments): only memoisation
    # makes this finish at all.
    assert shape(schema, fragment_chain(150)).cost == 1 + 2**150


def test_a_chain_too_deep_to_measure_is_refused_not_a_crash(schema: GraphQLSchema) -> None:
    validator = build_validator(Settings(data_dir="/tmp/c360-shape-unused"))
    errors = validator.validate(schema, parse(fragment_chain(2000)))
    assert "QUERY_TOO_DEEP" in [(e.extensions or {}).get("code") for e in errors]


def test_fragment_cycles_do_not_loop(schema: GraphQLSchema) -> None:
    q = '{ customer(id: "x") { ...A } } fragment A on Customer { id ...B } '
    q += "fragment B on Customer { name ...A }"
    assert shape(schema, q).cost >= 3  # the cycle itself is graphql-core's error to report


def test_depth_ignores_introspection(schema: GraphQLSchema) -> None:
    assert (
        shape(schema, "{ __schema { types { fields { type { ofType { name } } } } } }").depth == 0
    )


def test_validator_is_built_once_and_caches_by_text(schema: GraphQLSchema) -> None:
    validator = build_validator(Settings(data_dir="/tmp/c360-shape-unused"))
    query = fragment_chain(30)
    assert validator.cached(query) is None
    errors = validator.validate(schema, parse(query))
    assert [e.extensions["code"] for e in errors] == ["QUERY_TOO_COSTLY"]
    validator.remember(query, errors)
    assert validator.cached(query) == errors


def test_a_listing_that_scans_counts_its_scan_whatever_its_page(schema: GraphQLSchema) -> None:
    page = "{ totalCount }"
    plain = shape(schema, "{ customers(first: 1) " + page + " }").cost
    for args in ('search: "王0"', "segment: HIGH", "orderBy: NAME", "search: $q"):
        q = "query Q($q: String) { customers(" + args + ", first: 1) " + page + " }"
        assert shape(schema, q).cost == plain + SCAN_ESTIMATE, args
    for args in ('search: ""', "search: null", "orderBy: ID"):
        assert shape(schema, "{ customers(" + args + ", first: 1) " + page + " }").cost == plain
