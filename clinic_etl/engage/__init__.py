"""Outbound beyond the ledger: new patients into GoHighLevel (`gohighlevel/`), overdue invoices followed up through
Mailchimp (`mailchimp/`). Each is off unless the mapping file has its section.

Both follow the sync's shape: a client on the shared retrying HTTP core and call budgets, pure transforms, and load
logic that plans against the state store (`engage_contacts`, `engage_follow_ups`) so that a re-run sends nothing.
Personal data (names, e-mails, phones) goes to those systems, never into logs, Dagster metadata or exception texts.
"""
