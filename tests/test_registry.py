import pytest

from nwot.errors import NwotError
from nwot.registry import Registry


def test_register_get_and_duplicates():
    reg = Registry("widget")

    @reg.register("a")
    def make_a(x=1):
        return ("a", x)

    assert reg.create("a", x=3) == ("a", 3)
    assert reg.names() == ["a"] and "a" in reg
    with pytest.raises(NwotError, match="'a' is already registered"):
        reg.register("a")(make_a)
    with pytest.raises(NwotError, match=r"unknown widget 'b'; allowed: a"):
        reg.get("b")
