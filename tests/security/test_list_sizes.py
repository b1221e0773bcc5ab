"""Lists bounded by arguments other than ``first`` count the rows those arguments imply
(schema/extensions/list_sizes.py), and introspection counts too (QA session 26: 30 aliases of
a 1 999-bucket hourly trend, 5.8 MB, or of ``__schema``, 2.9 MB, each stalled the hub for
seconds while the estimate let them through)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    get_introspection_query,
    get_named_type,
    parse,
)

from hub.settings import Settings
from resolvers.social import MAX_BRANDS, MAX_BUCKETS, MAX_TOP_POSTS
from schema.extensions.limits import build_validator
from schema.extensions.list_sizes import NOT_SIZED, SIZED_LISTS, WINDOW
from schema.extensions.shape import LIST_ESTIMATE, Pages, Shape, measure
from schema.root import build_schema

PAGES = Pages(default=20, maximum=100)
# The QA request: 1 999 hourly buckets, six values each.
HOURLY = (
    'sentimentTrend(from: "2026-08-01T00:00:00Z", to: "2026-10-23T07:00:00Z", interval: HOUR, '
    'brand: "招商银行") { start count positive neutral negative avgScore }'
)
FULL_TYPE = (
    "types { name description fields { name description args { name description type { name "
    "ofType { name ofType { name } } } } type { name ofType { name ofType { name } } } } }"
)


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings(data_dir="/tmp/c360-shape-unused", introspection=True)


@pytest.fixture(scope="module")
def schema(settings: Settings) -> GraphQLSchema:
    return build_schema(settings)._schema


def shape(schema: GraphQLSchema, query: str) -> Shape:
    [(_, result)] = measure(schema, parse(query), PAGES)
    return result


def error_codes(settings: Settings, schema: GraphQLSchema, query: str) -> list[str]:
    errors = build_validator(settings).validate(schema, parse(query))
    return [(e.extensions or {}).get("code", e.message) for e in errors]


def test_a_trend_counts_the_buckets_its_window_implies(schema: GraphQLSchema) -> None:
    assert shape(schema, "{ " + HOURLY + " }").cost == 1 + MAX_BUCKETS * 6
    week = '{ sentimentTrend(from: "2026-08-03", to: "2026-08-10", interval: DAY) { count } }'
    assert shape(schema, week).cost == 1 + 8 * 1  # 7 days and one cut at an end
    weeks = '{ sentimentTrend(from: "2026-01-01", to: "2026-12-31", interval: WEEK) { count } }'
    assert shape(schema, weeks).cost == 1 + 53 * 1
    # A window the arguments do not tell (a variable) counts as the most buckets there can be.
    variable = "query($f: DateTime!) { sentimentTrend(from: $f, to: $f, interval: HOUR) { count } }"
    assert shape(schema, variable).cost == 1 + MAX_BUCKETS
    by_variable = (
        'query($i: Interval!) { sentimentTrend(from: "2026-08-03", to: "2026-08-10", '
        "interval: $i) { count } }"
    )
    assert shape(schema, by_variable).cost == 1 + MAX_BUCKETS


def test_a_window_given_by_variables_counts_the_buckets_they_span(
    settings: Settings, schema: GraphQLSchema
) -> None:
    """Clients send windows as variables: the count reads them (the cached rules cannot)."""
    q = (
        "query($f: DateTime!, $t: DateTime!, $i: Interval!, $n: Int!) { a: sentimentTrend("
        "from: $f, to: $t, interval: $i) { count } b: brandAlerts(from: $f, to: $t, "
        "topPosts: $n) { insufficientHistory alerts { topPosts { id } } } }"
    )
    week = {"f": "2026-08-03T00:00:00Z", "t": "2026-08-10T00:00:00Z", "i": "DAY", "n": 2}
    [(_, given)] = measure(schema, parse(q), PAGES, week)
    # brandAlerts' interval is DAY when not given.
    assert given.cost == (1 + 8 * 1) + (1 + 8 + (1 + LIST_ESTIMATE * (1 + 2 * 1)))
    [(_, unknown)] = measure(schema, parse(q), PAGES, {})
    assert unknown.cost == (1 + MAX_BUCKETS) + (
        1 + MAX_BUCKETS + (1 + LIST_ESTIMATE * (1 + MAX_TOP_POSTS))
    )
    hourly = (
        "query($f: DateTime!, $t: DateTime!) { "
        + " ".join(
            f"a{i}: sentimentTrend(from: $f, to: $t, interval: HOUR) {{ start count negative }}"
            for i in range(30)
        )
        + " }"
    )
    validator = build_validator(settings)
    window = {"f": "2026-08-01T00:00:00Z", "t": "2026-10-23T07:00:00Z"}
    errors = validator.validate(schema, parse(hourly), window)
    assert [(e.extensions or {}).get("code") for e in errors] == ["QUERY_TOO_COSTLY"]
    day = {"f": "2026-10-22T00:00:00Z", "t": "2026-10-23T00:00:00Z"}
    assert validator.validate(schema, parse(hourly), day) == []


def test_thirty_aliased_hourly_trends_are_too_costly_and_a_dashboard_is_not(
    settings: Settings, schema: GraphQLSchema
) -> None:
    flood = "{ " + " ".join(f"a{i}: {HOURLY}" for i in range(30)) + " }"
    assert error_codes(settings, schema, flood) == ["QUERY_TOO_COSTLY"]
    dashboard = " ".join(
        f'a{i}: sentimentTrend(from: "2026-07-01", to: "2026-10-01", interval: DAY, '
        f'brand: "b{i}") {{ start count positive neutral negative avgScore }}'
        for i in range(10)
    )
    assert error_codes(settings, schema, "{ " + dashboard + " }") == []


def test_buckets_of_share_of_voice_and_alert_reports_count_too(schema: GraphQLSchema) -> None:
    window = 'from: "2026-08-01T00:00:00Z", to: "2026-10-23T07:00:00Z", interval: HOUR'
    voice = (
        f'{{ shareOfVoice(brands: ["a", "b"], {window}) {{ buckets {{ brands {{ count }} }} }} }}'
    )
    # shareOfVoice 1 + buckets (1 + 2 000 x (brands 1 + 2 brands x 1))
    assert shape(schema, voice).cost == 1 + (1 + MAX_BUCKETS * (1 + 2 * 1))
    history = f"{{ brandAlerts({window}) {{ insufficientHistory }} }}"
    assert shape(schema, history).cost == 1 + MAX_BUCKETS  # a list of bucket starts
    # Alerts are the buckets that spike (the data decides how many): an estimate, but what
    # each holds is sized by its arguments.
    alerts = f"{{ brandAlerts({window}, topPosts: 5) {{ alerts {{ topPosts {{ id }} }} }} }}"
    assert shape(schema, alerts).cost == 1 + (1 + LIST_ESTIMATE * (1 + 5 * 1))
    most = f'{{ sentimentAlerts(brand: "a", {window}) {{ topPosts {{ id }} }} }}'
    assert shape(schema, most).cost == 1 + LIST_ESTIMATE * (1 + 3 * 1)  # topPosts' default
    asked = (
        f"query($n: Int!, $b: [String!]!) {{ shareOfVoice(brands: $b, {window}) "
        f"{{ brands {{ count }} }} brandAlerts({window}, topTerms: $n) "
        "{ alerts { topTerms { term } } } }"
    )
    assert shape(schema, asked).cost == (1 + (1 + MAX_BRANDS)) + (
        1 + (1 + LIST_ESTIMATE * (1 + MAX_TOP_POSTS))
    )


def test_a_fragment_counts_the_buckets_of_each_window_it_is_used_in(
    schema: GraphQLSchema,
) -> None:
    fragment = " fragment F on SentimentBucket { count negative }"
    day = 'a: sentimentTrend(from: "2026-08-03", to: "2026-08-10", interval: DAY) { ...F }'
    hour = 'b: sentimentTrend(from: "2026-08-03", to: "2026-08-10", interval: HOUR) { ...F }'
    assert shape(schema, "{ " + day + " " + hour + " }" + fragment).cost == (1 + 8 * 2) + (
        1 + (7 * 24 + 1) * 2
    )


def _lists_of(object_type: GraphQLObjectType) -> list[tuple[str, str, GraphQLOutputType]]:
    out = []
    for name, field in object_type.fields.items():
        field_type = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
        if isinstance(field_type, GraphQLList):
            out.append((object_type.name, name, field.type))
    return out


def test_every_list_of_a_windowed_field_is_sized_or_known_not_to_be(
    schema: GraphQLSchema,
) -> None:
    """A new list on a trend, share-of-voice or alert type must say what bounds it: in
    SIZED_LISTS (and counted so), or in NOT_SIZED (a handful: LIST_ESTIMATE)."""
    assert schema.query_type is not None
    seen: list[tuple[str, str]] = []
    todo = []
    for name, field in schema.query_type.fields.items():
        if all(argument in field.args for argument in WINDOW):
            if isinstance(field.type.of_type, GraphQLList):
                seen.append(("Query", name))
            todo.append(get_named_type(field.type))
    while todo:
        named = todo.pop()
        if not isinstance(named, GraphQLObjectType):
            continue
        for parent, name, field_type in _lists_of(named):
            seen.append((parent, name))
            if get_named_type(field_type).name != "Post":  # a post's lists hold the post's
                todo.append(get_named_type(field_type))
        for field in named.fields.values():
            inner = get_named_type(field.type)
            if isinstance(inner, GraphQLObjectType) and not isinstance(
                field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type,
                GraphQLList,
            ):
                todo.append(inner)
    unclassified = [key for key in seen if key not in SIZED_LISTS and key not in NOT_SIZED]
    assert unclassified == []
    assert set(seen) >= set(SIZED_LISTS) | NOT_SIZED
    assert LIST_ESTIMATE < MAX_BUCKETS


def test_the_schema_is_asked_for_once_per_operation(
    settings: Settings, schema: GraphQLSchema
) -> None:
    one = "{ __schema { " + FULL_TYPE + " } }"
    assert error_codes(settings, schema, one) == []
    thirty = "{ " + " ".join(f"a{i}: __schema {{ {FULL_TYPE} }}" for i in range(30)) + " }"
    errors = build_validator(settings).validate(schema, parse(thirty))
    assert [(e.extensions or {}).get("code") for e in errors] == ["QUERY_TOO_COSTLY"]
    assert (errors[0].extensions or {})["schemas"] == 30
    assert "once per operation" in errors[0].message
    # Aliases inside one __schema are copies too, and so are fragment uses.
    inner = "{ __schema { a: " + FULL_TYPE + " b: " + FULL_TYPE + " } }"
    assert error_codes(settings, schema, inner) == ["QUERY_TOO_COSTLY"]
    spread = "{ ...S ...T } fragment S on Query { __schema { types { name } } } "
    spread += "fragment T on Query { s: __schema { types { name } } }"
    assert error_codes(settings, schema, spread) == ["QUERY_TOO_COSTLY"]


def test_graphiqls_introspection_query_passes(settings: Settings, schema: GraphQLSchema) -> None:
    for descriptions in (True, False):
        query = get_introspection_query(
            descriptions=descriptions,
            specified_by_url=True,
            directive_is_repeatable=True,
            schema_description=True,
            input_value_deprecation=True,
        )
        assert error_codes(settings, schema, query) == []


def test_type_lookups_count_their_lists(settings: Settings, schema: GraphQLSchema) -> None:
    one = '{ __type(name: "Query") { fields { name args { name } } } }'
    # __type 1 + fields (1 + 10 fields x (name 1 + args (1 + 10 args x name 1)))
    expected = 1 + (1 + LIST_ESTIMATE * (1 + 1 + LIST_ESTIMATE))
    assert shape(schema, one) == Shape(depth=0, aliases=0, cost=expected)
    big = (
        '__type(name: "Query") { fields { name description args { name description type { '
        "name ofType { name } } } type { name ofType { name ofType { name } } } } }"
    )
    many = "{ " + " ".join(f"a{i}: {big}" for i in range(30)) + " }"
    # The biggest type's answer (Query's fields) is 651 values: the estimate is not below it.
    single = shape(schema, "{ " + big + " }").cost
    assert single > 651
    assert shape(schema, many).cost == 30 * single


def test_the_shape_is_kept_by_text_only_when_no_variable_bounds_a_list(
    settings: Settings, schema: GraphQLSchema
) -> None:
    # Measured on every request, a 360 document's shape cost ~0.5 ms of the hub's ~2.5 ms CPU
    # (bench/cprofile_360.py): kept by text when its variables bound no list (``$id``), asked
    # again when they do (a trend's window), so one window's answer never serves another's.
    validator = build_validator(settings)
    measured: list[str] = []
    check = validator.shape

    def counted(
        schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any] | None
    ) -> list[GraphQLError]:
        measured.append("x")
        return check(schema, document, variables)

    validator.shape = counted
    profile = (
        "query P($id: ID!) { customer(id: $id) { id transactions(first: 20) { totalCount } } }"
    )
    for cid in ("C000001", "C000002", "C000003"):
        assert validator.shape_errors(profile, schema, parse(profile), {"id": cid}) == []
    assert len(measured) == 1
    trend = (
        "query T($from: DateTime!, $to: DateTime!) { a: sentimentTrend(from: $from, to: $to, "
        'interval: HOUR, brand: "招商银行") { start count } '
        + " ".join(
            f"a{i}: sentimentTrend(from: $from, to: $to, interval: HOUR) {{ start count }}"
            for i in range(29)
        )
        + " }"
    )
    day = {"from": "2026-08-01T00:00:00Z", "to": "2026-08-02T00:00:00Z"}
    months = {"from": "2026-08-01T00:00:00Z", "to": "2026-10-23T07:00:00Z"}
    assert validator.shape_errors(trend, schema, parse(trend), day) == []
    refused = validator.shape_errors(trend, schema, parse(trend), months)
    assert [(e.extensions or {}).get("code") for e in refused] == ["QUERY_TOO_COSTLY"]
    assert validator.shape_errors(trend, schema, parse(trend), day) == []
