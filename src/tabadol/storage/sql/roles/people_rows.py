"""How the people tables are read into records: a person's listing fields are computed from
its secrets' columns (whether each is set), never the secrets themselves."""

from __future__ import annotations

from tabadol.domain.model import Role
from tabadol.domain.people import (
    EnrolmentLink,
    Factor,
    LinkPurpose,
    Passkey,
    Person,
    PersonSession,
    PersonStatus,
    SessionStage,
)
from tabadol.storage.sql.rows import RowMap


def person_map(table: str) -> RowMap[Person]:
    """A person read from `people` under the alias `table`."""
    return RowMap(
        Person,
        table=table,
        sql={
            "has_password": f"{table}.password_hash IS NOT NULL",
            "totp_enabled": f"{table}.totp_wrapped IS NOT NULL",
            "passkey_count": (
                f"(SELECT count(*) FROM passkeys pk WHERE pk.person_id = {table}.id)"
            ),
        },
        convert={
            "role": Role,
            "status": PersonStatus,
            "has_password": bool,
            "totp_enabled": bool,
            "passkey_count": int,
        },
    )


PERSON = person_map("p")
SESSION = RowMap(PersonSession, table="s", convert={"stage": SessionStage, "factor": Factor})
LINK = RowMap(EnrolmentLink, table="l", convert={"purpose": LinkPurpose})
PASSKEY = RowMap(Passkey, convert={"credential_id": bytes, "public_key": bytes})
