"""The seeded organisations: Australian companies with Xero's standard AU chart and GST tax rates (region "AU", the
default: the Cliniko practice's books), or US firms in USD with New York sales tax rates (region "US": the Clio law
firm's books). The region is chosen when the state file is first created; every organisation of the catalogue
(`catalogue.py`) connected later is seeded in the same region, with its own record, chart ids and tax rates."""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from typing import Any

from .catalogue import FIRST, SANDBOX_ORGANISATIONS, SANDBOX_TENANT_ID, SandboxOrganisation, scoped
from .state import Store, Tx

SANDBOX_CLIENT_ID = "sandbox-client-id"
SANDBOX_CLIENT_SECRET = "sandbox-client-secret"
SANDBOX_REFRESH_TOKEN = "sandbox-refresh-token-0"
_NS = uuid.UUID("6f1c1d7e-0b7a-4d8e-9e3f-5c2b1a0d9e8f")

# (code, name, type, tax type, system account, status, enable payments)
_ACCOUNTS: list[tuple[str, str, str, str, str, str, bool]] = [
    ("090", "Business Bank Account", "BANK", "BASEXCLUDED", "", "ACTIVE", False),
    ("091", "Business Savings Account", "BANK", "BASEXCLUDED", "", "ACTIVE", False),
    ("200", "Sales", "REVENUE", "OUTPUT", "", "ACTIVE", False),
    ("260", "Other Revenue", "REVENUE", "OUTPUT", "", "ACTIVE", False),
    ("270", "Interest Income", "REVENUE", "OUTPUT", "", "ACTIVE", False),
    ("299", "Old Consulting Income", "REVENUE", "OUTPUT", "", "ARCHIVED", False),
    ("310", "Cost of Goods Sold", "DIRECTCOSTS", "INPUT", "", "ACTIVE", False),
    ("400", "Advertising", "EXPENSE", "INPUT", "", "ACTIVE", False),
    ("404", "Bank Fees", "EXPENSE", "EXEMPTEXPENSES", "", "ACTIVE", False),
    ("408", "Cleaning", "EXPENSE", "INPUT", "", "ACTIVE", False),
    ("412", "Consulting & Accounting", "EXPENSE", "INPUT", "", "ACTIVE", False),
    ("416", "Depreciation", "DEPRECIATN", "BASEXCLUDED", "", "ACTIVE", False),
    ("420", "Entertainment", "EXPENSE", "BASEXCLUDED", "", "ACTIVE", False),
    ("425", "Freight & Courier", "EXPENSE", "INPUT", "", "ACTIVE", False),
    ("429", "General Expenses", "EXPENSE", "INPUT", "", "ACTIVE", False),
    ("433", "Insurance", "EXPENSE", "INPUT", "", "ACTIVE", False),
    ("437", "Interest Expense", "EXPENSE", "EXEMPTEXPENSES", "", "ACTIVE", False),
    ("441", "Legal expenses", "EXPENSE", "INPUT", "", "ACTIVE", False),
    ("445", "Light, Power, Heating", "EXPENSE", "INPUT", "", "ACTIVE", False),
    ("449", "Motor Vehicle Expenses", "EXPENSE", "INPUT", "", "ACTIVE", False),
    ("453", "Office Expenses", "EXPENSE", "INPUT", "", "ACTIVE", False),
    ("461", "Printing & Stationery", "EXPENSE", "INPUT", "", "ACTIVE", False),
    ("469", "Rent", "EXPENSE", "INPUT", "", "ACTIVE", False),
    ("473", "Repairs and Maintenance", "EXPENSE", "INPUT", "", "ACTIVE", False),
    ("477", "Wages and Salaries", "EXPENSE", "BASEXCLUDED", "", "ACTIVE", False),
    ("478", "Superannuation", "EXPENSE", "BASEXCLUDED", "", "ACTIVE", False),
    ("485", "Subscriptions", "EXPENSE", "INPUT", "", "ACTIVE", False),
    ("489", "Telephone & Internet", "EXPENSE", "INPUT", "", "ACTIVE", False),
    ("493", "Travel - National", "EXPENSE", "INPUT", "", "ACTIVE", False),
    ("494", "Travel - International", "EXPENSE", "EXEMPTEXPENSES", "", "ACTIVE", False),
    ("497", "Bank Revaluations", "EXPENSE", "BASEXCLUDED", "BANKCURRENCYGAIN", "ACTIVE", False),
    ("498", "Unrealised Currency Gains", "EXPENSE", "BASEXCLUDED", "UNREALISEDCURRENCYGAIN", "ACTIVE", False),
    ("499", "Realised Currency Gains", "EXPENSE", "BASEXCLUDED", "REALISEDCURRENCYGAIN", "ACTIVE", False),
    ("505", "Income Tax Expense", "EXPENSE", "BASEXCLUDED", "", "ACTIVE", False),
    ("610", "Accounts Receivable", "CURRENT", "BASEXCLUDED", "DEBTORS", "ACTIVE", False),
    ("620", "Prepayments", "CURRENT", "BASEXCLUDED", "", "ACTIVE", False),
    ("630", "Inventory", "INVENTORY", "BASEXCLUDED", "", "ACTIVE", False),
    ("710", "Office Equipment", "FIXED", "INPUT", "", "ACTIVE", False),
    ("711", "Less Accumulated Depreciation on Office Equipment", "FIXED", "BASEXCLUDED", "", "ACTIVE", False),
    ("720", "Computer Equipment", "FIXED", "INPUT", "", "ACTIVE", False),
    (
        "721",
        "Less Accumulated Depreciation on Computer Equipment",
        "FIXED",
        "BASEXCLUDED",
        "",
        "ACTIVE",
        False,
    ),
    ("800", "Accounts Payable", "CURRLIAB", "BASEXCLUDED", "CREDITORS", "ACTIVE", False),
    ("801", "Unpaid Expense Claims", "CURRLIAB", "BASEXCLUDED", "UNPAIDEXPCLM", "ACTIVE", False),
    ("804", "Wages Payable - Payroll", "CURRLIAB", "BASEXCLUDED", "WAGEPAYABLES", "ACTIVE", False),
    ("820", "GST", "CURRLIAB", "BASEXCLUDED", "GST", "ACTIVE", False),
    ("825", "PAYG Withholdings Payable", "CURRLIAB", "BASEXCLUDED", "", "ACTIVE", False),
    ("826", "Superannuation Payable", "CURRLIAB", "BASEXCLUDED", "", "ACTIVE", False),
    ("830", "Income Tax Payable", "CURRLIAB", "BASEXCLUDED", "", "ACTIVE", False),
    ("840", "Historical Adjustment", "CURRLIAB", "BASEXCLUDED", "HISTORICAL", "ACTIVE", False),
    ("850", "Suspense", "CURRLIAB", "BASEXCLUDED", "", "ACTIVE", False),
    ("860", "Rounding", "CURRLIAB", "BASEXCLUDED", "ROUNDING", "ACTIVE", False),
    ("877", "Tracking Transfers", "CURRLIAB", "BASEXCLUDED", "TRACKINGTRANSFERS", "ACTIVE", False),
    ("880", "Owner A Drawings", "CURRLIAB", "BASEXCLUDED", "", "ACTIVE", False),
    ("881", "Owner A Funds Introduced", "CURRLIAB", "BASEXCLUDED", "", "ACTIVE", True),
    ("900", "Loan", "TERMLIAB", "BASEXCLUDED", "", "ACTIVE", False),
    ("960", "Retained Earnings", "EQUITY", "BASEXCLUDED", "RETAINEDEARNINGS", "ACTIVE", False),
    ("970", "Owner A Share Capital", "EQUITY", "BASEXCLUDED", "", "ACTIVE", False),
]

_CLASS = {
    "BANK": "ASSET",
    "CURRENT": "ASSET",
    "FIXED": "ASSET",
    "INVENTORY": "ASSET",
    "NONCURRENT": "ASSET",
    "PREPAYMENT": "ASSET",
    "CURRLIAB": "LIABILITY",
    "LIABILITY": "LIABILITY",
    "TERMLIAB": "LIABILITY",
    "PAYG": "LIABILITY",
    "EQUITY": "EQUITY",
    "DEPRECIATN": "EXPENSE",
    "DIRECTCOSTS": "EXPENSE",
    "EXPENSE": "EXPENSE",
    "OVERHEADS": "EXPENSE",
    "REVENUE": "REVENUE",
    "SALES": "REVENUE",
    "OTHERINCOME": "REVENUE",
}

# (tax type, name, rate %, report tax type, applies to: Assets, Equity, Expenses, Liabilities, Revenue)
_TAX_RATES: list[tuple[str, str, str, str, str]] = [
    ("OUTPUT", "GST on Income", "10", "OUTPUT", "AEL R"),
    ("EXEMPTOUTPUT", "GST Free Income", "0", "EXEMPTOUTPUT", "AEL R"),
    ("INPUT", "GST on Expenses", "10", "INPUT", "AEXL "),
    ("EXEMPTEXPENSES", "GST Free Expenses", "0", "EXEMPTEXPENSES", "AEXL "),
    ("BASEXCLUDED", "BAS Excluded", "0", "BASEXCLUDED", "AEXLR"),
    ("GSTONIMPORTS", "GST on Imports", "0", "GSTONIMPORTS", "   L "),
    ("CAPEXINPUT", "GST on Capital", "10", "CAPEXINPUT", "AE L "),
    ("EXEMPTCAPITAL", "GST Free Capital", "0", "EXEMPTCAPITAL", "AE L "),
    ("EXEMPTEXPORT", "GST Free Exports", "0", "EXEMPTEXPORT", "AEL R"),
    ("INPUTTAXED", "Input Taxed", "0", "INPUTTAXED", "AEXLR"),
    ("GSTONCAPIMPORTS", "GST on Capital Imports", "0", "GSTONCAPIMPORTS", "   L "),
]


# the US firm: the same chart, in USD, with sales tax rates (tax type, name, rate %)
_US_TAX_RATES: list[tuple[str, str, str]] = [
    ("NONE", "Tax Exempt", "0"),
    ("TAX001", "NY Sales Tax", "8.875"),
    ("TAX002", "Administrative Surcharge", "2.5"),
    ("TAX003", "NY Sales Tax and Surcharge", "11.375"),
]
REGIONS = ("AU", "US")
US_ORG = {
    "Version": "US",
    "BaseCurrency": "USD",
    "CountryCode": "US",
    "TaxNumber": "12-3456789",
    "FinancialYearEndDay": 31,
    "FinancialYearEndMonth": 12,
    "DefaultSalesTax": "Tax Exclusive",
    "Timezone": "EASTERNSTANDARDTIME",
    "LineOfBusiness": "Legal services",
}


def stable_id(*parts: str) -> str:
    return str(uuid.uuid5(_NS, "/".join(parts)))


def organisation(created_ms: int, region: str = "AU", org: SandboxOrganisation = FIRST) -> dict[str, Any]:
    """The Organisation record of `org` (the first of the catalogue unless told)."""
    if region == "US":
        named = {"Name": org.law_firm_name, "LegalName": org.law_firm_name}
        return _au_organisation(created_ms, org) | US_ORG | named
    return _au_organisation(created_ms, org)


def _au_organisation(created_ms: int, org: SandboxOrganisation) -> dict[str, Any]:
    index = SANDBOX_ORGANISATIONS.index(org)
    return {
        "APIKey": f"SANDBOXAPIKEY{index:016d}",
        "Name": org.name,
        "LegalName": org.name,
        "PaysTax": True,
        "Version": "AU",
        "OrganisationType": "COMPANY",
        "BaseCurrency": "AUD",
        "CountryCode": "AU",
        "IsDemoCompany": False,
        "OrganisationStatus": "ACTIVE",
        "RegistrationNumber": "",
        "TaxNumber": "11 222 333 444",
        "FinancialYearEndDay": 30,
        "FinancialYearEndMonth": 6,
        "SalesTaxBasis": "ACCRUALS",
        "SalesTaxPeriod": "QUARTERLY1",
        "DefaultSalesTax": "Tax Exclusive",
        "DefaultPurchasesTax": "Tax Inclusive",
        "CreatedDateUTC": f"/Date({created_ms})/",
        "OrganisationEntityType": "COMPANY",
        "Timezone": "AUSEASTERNSTANDARDTIME",
        "ShortCode": org.short_code,
        "OrganisationID": org.tenant_id,
        "Edition": "BUSINESS",
        "Class": "STANDARD",
        "LineOfBusiness": "Allied health",
        "Addresses": [],
        "Phones": [],
        "ExternalLinks": [],
        "PaymentTerms": {},
    }


def accounts(region: str = "AU", tenant: str = SANDBOX_TENANT_ID) -> list[dict[str, Any]]:
    """The chart of accounts of the organisation `tenant` (the same chart for each, with AccountIDs of its own)."""
    out = []
    for code, name, type_, tax, system, status, enable in _ACCOUNTS:
        acct: dict[str, Any] = {
            "AccountID": stable_id(scoped(tenant, "account", code)),
            "Code": code,
            "Name": name,
            "Status": status,
            "Type": type_,
            "TaxType": tax,
            "Class": _CLASS[type_],
            "EnablePaymentsToAccount": enable,
            "ShowInExpenseClaims": _CLASS[type_] == "EXPENSE",
            "BankAccountType": "",
            "ReportingCode": "",
            "HasAttachments": False,
            "AddToWatchlist": False,
        }
        if system:
            acct["SystemAccount"] = system
        if type_ == "BANK":
            currency = "USD" if region == "US" else "AUD"
            acct.update(BankAccountNumber=f"06200010000{code}", BankAccountType="BANK", CurrencyCode=currency)
        out.append(acct)
    return out


def tax_rates(region: str = "AU") -> list[dict[str, Any]]:
    out = []
    rates = [(t, n, r, "OUTPUT", "AEXLR") for t, n, r in _US_TAX_RATES] if region == "US" else _TAX_RATES
    for tax_type, name, rate, report, applies in rates:
        out.append(
            {
                "Name": name,
                "TaxType": tax_type,
                "ReportTaxType": report,
                "CanApplyToAssets": applies[0] == "A",
                "CanApplyToEquity": applies[1] == "E",
                "CanApplyToExpenses": applies[2] == "X",
                "CanApplyToLiabilities": applies[3] == "L",
                "CanApplyToRevenue": applies[4] == "R",
                "DisplayTaxRate": rate,
                "EffectiveRate": rate,
                "Status": "ACTIVE",
                "TaxComponents": [{"Name": "GST", "Rate": rate, "IsCompound": False, "IsNonRecoverable": False}],
            }
        )
    return out


def seed(conn: sqlite3.Connection, now: float | None = None, region: str = "AU") -> None:
    """Insert the first organisation (its record, chart of accounts and tax rates) and the first refresh token."""
    if region not in REGIONS:
        raise ValueError(f"unknown sandbox Xero region {region!r} (one of {', '.join(REGIONS)})")
    now = time.time() if now is None else now
    ms = int(now * 1000)
    tx = Tx(conn)
    seed_organisation(tx, FIRST, region, ms)
    conn.execute(
        "INSERT OR IGNORE INTO tokens (token, kind, client_id, scope, created_at, expires_at) "
        "VALUES (?, 'refresh', ?, ?, ?, NULL)",
        (
            SANDBOX_REFRESH_TOKEN,
            SANDBOX_CLIENT_ID,
            "offline_access accounting.transactions accounting.contacts accounting.settings",
            now,
        ),
    )
    tx.meta_set("created_ms", str(ms))


def seed_organisation(tx: Tx, org: SandboxOrganisation, region: str, ms: int) -> None:
    """Insert one organisation's record, chart of accounts and tax rates."""
    tenant = org.tenant_id
    tx.put("org", tenant, tenant, organisation(ms, region, org), updated_ms=ms)
    for acct in accounts(region, tenant):
        tx.put(
            "account",
            tenant,
            acct["AccountID"],
            {**acct, "UpdatedDateUTC": ms},
            updated_ms=ms,
            key1=acct["Code"].lower(),
        )
    for rate in tax_rates(region):
        rate_id = scoped(tenant, rate["TaxType"])
        tx.put("taxrate", tenant, rate_id, rate, updated_ms=ms, key1=rate["TaxType"])


def add_tracking_category(
    state_path: str | os.PathLike[str],
    name: str,
    options: list[str],
    *,
    status: str = "ACTIVE",
    tenant: str = SANDBOX_TENANT_ID,
) -> dict[str, Any]:
    """Test helper: add a tracking category with options to a connected organisation (the first unless told; none
    is seeded)."""
    store = Store(state_path, seed)
    category_id = stable_id(scoped(tenant, "tracking", name))
    category = {
        "TrackingCategoryID": category_id,
        "Name": name,
        "Status": status,
        "Options": [
            {
                "TrackingOptionID": stable_id(scoped(tenant, "tracking", name, opt)),
                "Name": opt,
                "Status": "ACTIVE",
                "HasValidationErrors": False,
                "IsDeleted": False,
                "IsArchived": False,
                "IsActive": True,
            }
            for opt in options
        ],
    }
    with store.write() as tx:
        if tx.get("org", tenant, tenant) is None:
            raise ValueError(f"no sandbox Xero organisation {tenant} in {state_path} (connect it first)")
        tx.put("tracking", tenant, category_id, category, updated_ms=int(time.time() * 1000), key1=name.lower())
    return category
