"""TLP 2.0 markings as STIX 2.1 marking-definition ids, ordered from open to strict.

The ids are the published OASIS ones (TLP 2.0 extension-definition--60a3c5c5…); TLP 1.0 ids
that STIX 2.1 predefines are read as their 2.0 counterparts (WHITE is CLEAR).
"""

from __future__ import annotations

import copy
from enum import IntEnum
from typing import Any

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


def strictest_granular_tlp(granular_markings: object) -> TLP | None:
    """The strictest TLP among an object's `granular_markings[].marking_ref`, or None.

    A TLP on a part of an object bounds the whole object: the node stores, indexes and
    serves an object as one item, so a TLP:RED description in a `members` item would reach
    every member. The strictest TLP anywhere in the object decides its audience and sealing.
    """
    if not isinstance(granular_markings, list):
        return None
    refs = [g.get("marking_ref") for g in granular_markings if isinstance(g, dict)]
    return strictest_tlp(refs)


_TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"


def _tlp1(level: str, uuid: str) -> dict[str, Any]:
    """A TLP 1.0 marking-definition as STIX 2.1 section 7.2.1.4 predefines it."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": f"marking-definition--{uuid}",
        "created": "2017-01-20T00:00:00.000Z",
        "definition_type": "tlp",
        "name": f"TLP:{level.upper()}",
        "definition": {"tlp": level},
    }


def _tlp2(level: TLP) -> dict[str, Any]:
    """A TLP 2.0 marking-definition as the OASIS TLP 2.0 extension publishes it."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": level.marking_id,
        "created": "2022-10-01T00:00:00.000Z",
        "name": level.label,
        "extensions": {
            _TLP2_EXTENSION: {
                "extension_type": "property-extension",
                "tlp_2_0": level.label.removeprefix("TLP:").lower(),
            }
        },
    }


# The nine standard TLP marking-definitions, by id: the node's, never a member's. Each is
# served from here exactly as its specification defines it (tests compare the TLP 1.0 ones
# with the `stix2` package's constants and the TLP 2.0 ones with the OASIS documents).
STANDARD_MARKINGS: dict[str, dict[str, Any]] = {
    **{
        obj["id"]: obj
        for obj in (
            _tlp1("white", "613f2e26-407d-48c7-9eca-b8e91df99dc9"),
            _tlp1("green", "34098fce-860f-48ae-8e50-ebd3cc5e41da"),
            _tlp1("amber", "f88d31f6-486f-44da-b317-01333bde0b82"),
            _tlp1("red", "5e57c739-391a-4eb3-b6be-7d15ca92d5ed"),
        )
    },
    **{level.marking_id: _tlp2(level) for level in TLP},
}


def standard_marking(stix_id: str) -> dict[str, Any] | None:
    """A fresh copy of the standard TLP marking-definition with this id, or None."""
    obj = STANDARD_MARKINGS.get(stix_id)
    return copy.deepcopy(obj) if obj is not None else None
