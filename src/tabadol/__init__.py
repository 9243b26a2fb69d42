"""tabadol: a node through which member organizations exchange STIX 2.1 over TAXII 2.1."""

__version__ = "0.1.0"
