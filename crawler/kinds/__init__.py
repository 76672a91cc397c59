"""Source kinds, a registry of plug-ins by name: see :mod:`crawler.kinds.base`.

The built-in kinds are modules of this package (:mod:`crawler.kinds.html`,
:mod:`crawler.kinds.govuk`, :mod:`crawler.kinds.feed_items`, :mod:`crawler.kinds.federalregister`,
:mod:`crawler.kinds.ukparliament`); a new kind is one module that registers a :class:`Kind`,
plus its tests.
"""

from crawler.kinds.base import (
    BUILTIN,
    Extract,
    Extracted,
    Fetched,
    Kind,
    Method,
    Parsed,
    Walk,
    kind_of,
    kinds,
    one_by_one,
    register,
    template_fetch_url,
    unregister,
    with_extra_keys,
)

__all__ = [
    "BUILTIN",
    "Extract",
    "Extracted",
    "Fetched",
    "Kind",
    "Method",
    "Parsed",
    "Walk",
    "kind_of",
    "kinds",
    "one_by_one",
    "register",
    "template_fetch_url",
    "unregister",
    "with_extra_keys",
]
