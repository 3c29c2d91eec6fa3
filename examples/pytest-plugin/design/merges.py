"""Our merge for nicknames (design/nickname-merge.toml): keep the longer
name, the alphabetically first of two of the same length."""


def longest(local, remote):
    if local is None:
        return remote
    if remote is None:
        return local
    return min(local, remote, key=lambda s: (-len(s), s))
