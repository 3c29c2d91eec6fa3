"""Example custom merge functions for ``merge = "examples.merges:<name>"``.

A merge function takes the value a leader holds (``local``) and the value
of a conflicting incoming write (``remote``) — each a ``str``, or ``None``
when the key is absent or deleted — and returns the value to keep (``str``
or ``None``).  replcheck runs it only with ``--allow-python``.
"""


def concat_titles(local, remote):
    """Keep both conflicting titles by joining them: "A | B".

    Not commutative ("A | B" != "B | A"), so leaders that see the two edits
    in different orders end with different titles: the checker finds the
    divergence.
    """
    if local is None:
        return remote
    if remote is None:
        return local
    return f"{local} | {remote}"


def sorted_union_titles(local, remote):
    """Join the distinct titles in sorted order: commutative, associative and
    idempotent on the titles it builds, so it converges."""
    if local is None:
        return remote
    if remote is None:
        return local
    parts = sorted(set(local.split(" | ")) | set(remote.split(" | ")))
    return " | ".join(parts)
