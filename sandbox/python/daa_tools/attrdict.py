"""daa_tools/attrdict.py — the base of the results daa_tools returns: a plain
dict (so it crosses msgpack/JSON unchanged) whose keys read as attributes."""


class AttrDict(dict):
    """A dict whose keys are attributes too (result.scores, summary.report)."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None
