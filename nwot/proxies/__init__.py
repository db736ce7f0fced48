"""Zero-cost proxies behind one interface: :mod:`.naswot` (the NASWOT kernel and score)."""
