"""Mailchimp as a resource: the API key (through Dagster EnvVar; its `-usN` suffix picks the data centre) and the
audience the debtors are members of."""

from __future__ import annotations

import httpx

from clinic_etl.engage.mailchimp.client import MailchimpClient
from clinic_etl.resources.engage import HttpApiResource


class MailchimpResource(HttpApiResource):
    api_key: str
    audience_id: str
    base_url: str | None = None  # default: https://<dc>.api.mailchimp.com/3.0 from the key

    def _open(self, transport: httpx.BaseTransport | None) -> MailchimpClient:
        return MailchimpClient(self.api_key, self.base_url, transport=transport)
