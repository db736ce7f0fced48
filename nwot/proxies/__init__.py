"""Zero-cost proxies: one file per proxy under one interface (:mod:`nwot.proxies.base`).

    from nwot.proxies import Batch, score_proxies, list_proxies, get_proxy
    results = score_proxies(build_model, Batch(images, labels, 10), "snip,synflow,naswot")
    results["snip"].value, results["snip"].status

Population-level aggregates (AZ-NAS, TE-NAS, VKDNW_agg): :mod:`nwot.proxies.population`.
"""
from nwot.proxies.base import (  # noqa: F401
    MODES,
    Batch,
    Direction,
    Needs,
    Paper,
    Proxy,
    ProxyFailure,
    ProxyResult,
    Status,
    get_proxy,
    list_proxies,
    register_proxy,
)
from nwot.proxies.run import resolve_names, score_proxies  # noqa: F401
