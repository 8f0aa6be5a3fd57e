"""Syndication groups brought up to date after a write, at the cost of what it changed.

A group is a connected component of the graph that joins two articles when the LSH index
proposes the pair (they share a band) and their estimated Jaccard reaches the threshold
(rag.ingest.syndication); its id is its smallest document id, and an article with no copy has
none. Grouping every stored signature after each ingest cost time in proportion to the whole
archive. When the store keeps band keys (rag.store.base.SignatureKeys), only these are grouped:

    S = the articles not keyed yet (added in this write, or stored before keys were kept)
      + every article of a group that lost a member in this write
      + every article of a group, or lone article, that shares a key with one not keyed yet

Whether two articles are joined depends on their two signatures alone. So a join between an
article in S and one outside it would be either between two articles that were joined before
(but S holds whole former groups) or between a new article and one it shares a key with (in S
by construction). S is therefore a union of whole new groups: grouping S alone finds them, and
no group outside S changed. A full regroup is the same grouping over everything
(tests/test_grouping.py checks that both agree over random adds, updates and removals).
"""

from __future__ import annotations

from collections.abc import Mapping

from rag.ingest.syndication import SyndicationIndex, signature_from_bytes
from rag.store.base import StoreWriter


def full_groups(signatures: Mapping[int, bytes]) -> dict[int, int | None]:
    """Each document's group among these: the smallest id of its copies, None when alone."""
    index = SyndicationIndex()
    for document_id in sorted(signatures):
        index.add_signature(document_id, signatures[document_id])
    groups: dict[int, int | None] = dict.fromkeys(signatures)
    for members in index.groups():
        for member in members:
            groups[member] = min(members)  # type: ignore[type-var]
    return groups


def regroup(writer: StoreWriter) -> int:
    """Record the syndication groups as they stand after this write's adds and deletions;
    returns how many documents were grouped (all with a signature, without band keys)."""
    keys = writer.signature_keys()
    if keys is None:
        groups = full_groups(writer.signatures())
        writer.set_groups(groups)
        return len(groups)
    bands = SyndicationIndex()
    unkeyed = {d: bands.band_keys(signature_from_bytes(sig)) for d, sig in keys.unkeyed().items()}
    keys.store_keys(unkeyed)
    current = keys.sharing({k for found in unkeyed.values() for k in found})  # the unkeyed themselves too
    touched = keys.broken_groups() | {g for g in current.values() if g is not None}
    current.update(keys.members(touched))
    groups = full_groups(keys.signatures_of(current))
    writer.set_groups({d: g for d, g in groups.items() if current.get(d) != g})
    return len(groups)
