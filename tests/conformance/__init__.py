"""STIX conformance of everything the server emits (issue 13): the reference tools' verdict on
each object (`check`), the recording of what servers emit and what producers posted
(`recording`, `instrument`), and the pytest plugin that judges the whole session (`plugin`)."""
