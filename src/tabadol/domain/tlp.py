"""TLP 2.0 markings as STIX 2.1 marking-definition ids, ordered from open to strict.

The ids are the published OASIS ones (TLP 2.0 extension-definition--60a3c5c5…); TLP 1.0 ids
that STIX 2.1 predefines are read as their 2.0 counterparts (WHITE is CLEAR).
"""

from __future__ import annotations

from enum import IntEnum

from tabadol.domain.errors import UnknownTLP


class TLP(IntEnum):
    """A TLP 2.0 level; a larger value is stricter."""

    CLEAR = 0
    GREEN = 1
    AMBER = 2
    AMBER_STRICT = 3
    RED = 4

    @property
    def label(self) -> str:
        return "TLP:" + self.name.replace("_", "+")

    @property
    def marking_id(self) -> str:
        return TLP2_MARKING_IDS[self]

    @classmethod
    def parse(cls, text: str) -> TLP:
        """Read `TLP:AMBER+STRICT`, `amber+strict`, `AMBER_STRICT`, `white` …"""
        name = text.strip().upper().removeprefix("TLP:").replace("+", "_").replace("-", "_")
        if name == "WHITE":
            return cls.CLEAR
        try:
            return cls[name]
        except KeyError:
            raise UnknownTLP(f"unknown TLP level {text!r}") from None


TLP2_MARKING_IDS: dict[TLP, str] = {
    TLP.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    TLP.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    TLP.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    TLP.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    TLP.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

_TLP1_MARKING_IDS: dict[str, TLP] = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": TLP.CLEAR,
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": TLP.GREEN,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": TLP.AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": TLP.RED,
}

TLP_BY_MARKING_ID: dict[str, TLP] = {
    **{marking: level for level, marking in TLP2_MARKING_IDS.items()},
    **_TLP1_MARKING_IDS,
}


def strictest_tlp(marking_refs: object) -> TLP | None:
    """The strictest TLP among an object's `object_marking_refs`, or None if it has none."""
    if not isinstance(marking_refs, list):
        return None
    levels = [TLP_BY_MARKING_ID[ref] for ref in marking_refs if ref in TLP_BY_MARKING_ID]
    return max(levels) if levels else None
