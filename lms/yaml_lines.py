"""YAML loading that remembers the line of every mapping and scalar, so problems can name their line."""

from __future__ import annotations

from typing import Any

import yaml


class LineDict(dict[str, Any]):
    line: int = 0
    key_lines: dict[str, int]


class LineStr(str):
    line: int = 0


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        result[str(key)] = loader.construct_object(value_node, deep=True)
        result.key_lines[str(key)] = key_node.start_mark.line + 1
    return result


def _construct_str(loader: _LineLoader, node: yaml.ScalarNode) -> LineStr:
    value = LineStr(loader.construct_scalar(node))
    value.line = node.start_mark.line + 1
    return value


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:str", _construct_str)


def load_yaml_with_lines(text: str) -> Any:
    return yaml.load(text, Loader=_LineLoader)  # noqa: S506  # a SafeLoader subclass


def line_of(container: Any, key: str | None = None, default: int = 1) -> int:
    """Best known line of a key in a mapping, or of the mapping/scalar itself."""
    if key is not None and isinstance(container, LineDict):
        return container.key_lines.get(key, container.line or default)
    return getattr(container, "line", default) or default
