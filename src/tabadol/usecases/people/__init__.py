"""People of the orgs: invited, enrolled by a one-time link, signed in (password, then a
second factor) into server-side sessions, holding personal tokens; each named in the audit
log. No HTTP here: the web and CLI adapters call these functions."""
