"""Items linked through shared keys (a conversation, a topic, a source sentence) form one
group: the split keeps a group on one side, cross-validation keeps it in one fold."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def linked(keys: Sequence[Iterable[str]]) -> list[int]:
    """For each item, given by its keys, the index of its group's first-seen member: items
    that share a key, directly or through other items, get the same one (union-find)."""
    parent = list(range(len(keys)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for index, item_keys in enumerate(keys):
        for key in item_keys:
            if key in owner:
                parent[find(index)] = find(owner[key])
            else:
                owner[key] = index
    return [find(i) for i in range(len(keys))]
