"""Subset comparison of payloads: JSON paths, lists, types, dotted keys and JSON Schemas."""

from __future__ import annotations

from harness.expectations import MISSING, subset_diff
from harness.expectations.payload import join_path


def paths(expected, actual, root: str = "body") -> list[tuple[str, object, object]]:
    return [(d.path, d.expected, d.actual) for d in subset_diff(expected, actual, root)]


def test_subset_passes_with_extra_actual_keys() -> None:
    actual = {"a": 1, "z": 0, "b": {"c": [1, {"d": "x", "e": 2}]}}
    assert subset_diff({"a": 1, "b": {"c": [1, {"d": "x"}]}}, actual) == []


def test_differences_carry_json_paths() -> None:
    assert paths({"a": {"b": [1, {"c": "x"}]}, "odd key": 1}, {"a": {"b": [2, {"c": "y"}]}}) == [
        ("body.a.b[0]", 1, 2),
        ("body.a.b[1].c", "x", "y"),
        ('body["odd key"]', 1, MISSING),
    ]


def test_lists_compare_element_wise_and_by_length() -> None:
    (length, first) = subset_diff([1, 2], [3], "items")
    assert (length.path, length.reason) == ("items", "expected 2 item(s), got 1")
    assert (first.path, first.expected, first.actual) == ("items[0]", 1, 3)
    assert paths([1], "x") == [("body", [1], "x")]


def test_types_are_strict_with_a_hint() -> None:
    (difference,) = subset_diff({"n": 2}, {"n": "2"}, "m")
    assert difference.reason == "a string vs a number/boolean: quote the value in YAML to expect text"
    assert paths({"flag": True}, {"flag": 1}) == [("body.flag", True, 1)]
    assert subset_diff({"n": 2}, {"n": 2.0}) == []  # numbers are numbers


def test_dotted_keys_walk_objects_and_lists() -> None:
    actual = {"order": {"items": [{"name": "towel"}]}, "a.b": "literal"}
    assert subset_diff({"order.items.0.name": "towel", "a.b": "literal"}, actual) == []
    (missing,) = subset_diff({"order.items.1.name": "soap"}, actual, "memory")
    assert (missing.path, missing.actual) == ("memory.order.items[1].name", MISSING)
    assert missing.reason == "memory.order.items[1] is missing (memory.order.items has: a list of 1)"


def test_schema_values_and_schema_keys() -> None:
    actual = {"phone": "+15551234", "memory": {"room": 12}}
    assert subset_diff({"phone": {"$schema": {"type": "string", "pattern": "^\\+1"}}}, actual) == []
    (bad,) = subset_diff({"phone": {"$schema": {"type": "string", "pattern": "^\\+44"}}}, actual, "attrs")
    assert (bad.path, bad.actual) == ("attrs.phone", "+15551234")
    assert str(bad.expected) == 'pattern "^\\\\+44" (schema)'
    # a `<name>_schema` key validates `<name>`
    (room,) = subset_diff({"memory_schema": {"properties": {"room": {"type": "string"}}}}, actual, "attrs")
    assert (room.path, room.actual, room.reason) == ("attrs.memory.room", 12, "12 is not of type 'string'")
    # an object with a dialect URI is itself the schema
    dialect = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "required": ["x"]}
    (required,) = subset_diff(dialect, actual, "attrs")
    assert (required.path, required.actual) == ("attrs.x", MISSING)


def test_the_top_level_key_is_kept_to_place_the_difference() -> None:
    differences = subset_diff({"a": 1, "b.c": 2}, {"a": 0, "b": {"c": 3}})
    assert [d.key for d in differences] == ["a", "b.c"]


def test_join_path() -> None:
    assert join_path("", "a") == "a"
    assert join_path("m", 0) == "m[0]"
    assert join_path("m", "a-b_c") == "m.a-b_c"
    assert join_path("m", "a b") == 'm["a b"]'
