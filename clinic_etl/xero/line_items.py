"""Line items a column at a time: each distinct line (its text, its amounts as written, its account and tracking) is
worked out once by the one-invoice code (`line_rules`), and each invoice's total and tax, in integer cents, are
spread over its lines' rounded cents as `allocate` spreads them (largest remainder first)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from clinic_etl.ledger.money import first_positions, rounded_cents, whole_cents, written_rows
from clinic_etl.xero.document_hash import _CANONICAL
from clinic_etl.xero.line_rules import LINE_FIELDS, ZERO_TAX, MappingProblem, _fitted_items, _line_items, _Rules
from clinic_etl.xero.lines import inclusive_tax

AMOUNT_FIELDS = ("quantity", "unit_price", "tax_rate", "total", "tax")


def _text_codes(values: np.ndarray, none: bool) -> tuple[np.ndarray, np.ndarray]:
    """Codes of `values` (an object array: str, and None where `none`), and which values are of another kind (each
    given a code of its own: the exact path takes their invoices). Equal codes, equal values."""
    codes, _ = pd.factorize(values)  # a missing value (None, NaN) -> -1
    missing = np.flatnonzero(codes < 0)
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):  # only the missing may be odd
        other = np.zeros(len(values), dtype=bool)
        other[missing] = [not none or values[n] is not None for n in missing.tolist()]
    else:
        other = np.array([not (isinstance(v, str) or (none and v is None)) for v in values], dtype=bool)
    top = int(codes.max(initial=-1)) + 1
    codes[missing] = top  # None
    if other.any():
        codes[other] = top + 1 + np.arange(int(other.sum()))
    return codes, other


def _combined(*codes: np.ndarray) -> np.ndarray:
    """One code per row for the rows' tuples of `codes` (ints), numbered in order of appearance."""
    out = pd.factorize(codes[0])[0]
    for more in codes[1:]:
        if len(more) and (more.min() < 0 or more.max() >= len(more)):
            more = pd.factorize(more)[0]
        out = pd.factorize(out.astype(np.int64) * (int(more.max(initial=0)) + 1) + more)[0]
    return out


def _sums(values: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The sum of `values[starts[i]:ends[i]]` for every i (int64, exact)."""
    running = np.concatenate(([0], np.cumsum(values, dtype=np.int64)))
    return running[ends] - running[starts]


def _in_cents(amount: int) -> Decimal:
    """An amount of cents as `allocate` leaves it: 2 decimal places (a zero it reaches by a spread cent is 0.00)."""
    return Decimal(amount).scaleb(-2)


def _ranks(values: list[Decimal | None]) -> np.ndarray:
    """Each value's rank among `values` (equal values one rank; None: 0)."""
    order = {v: n for n, v in enumerate(sorted({v for v in values if v is not None}))}
    return np.array([0 if v is None else order[v] for v in values], dtype=np.int64)


def _spread(owner: np.ndarray, ranks: np.ndarray, residual: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """What `allocate` adds to each rounded part (in cents) so that its invoice's parts add up: `residual[i]` cents
    over invoice i's lines (`owner`: each line's invoice, lines grouped by invoice), a cent each to the lines of the
    largest remainder first (`ranks`; ties: the earlier line), round after round."""
    added = np.zeros(len(owner), dtype=np.int64)
    residual_of = residual[owner]
    lines = np.flatnonzero(residual_of != 0)
    if not len(lines):
        return added
    sign = np.sign(residual_of[lines])
    lines = lines[np.lexsort((lines, -ranks[lines] * sign, owner[lines]))]
    sign, invoice = np.sign(residual_of[lines]), owner[lines]
    first = np.concatenate(([True], invoice[1:] != invoice[:-1]))
    rank = np.arange(len(lines)) - np.maximum.accumulate(np.where(first, np.arange(len(lines)), 0))
    size, wanted = counts[invoice], np.abs(residual[invoice])
    added[lines] = sign * (wanted // size + (rank < wanted % size))
    return added


class _Items:
    """Every invoice's line items at once: per invoice (in the ledger's order), its items as its document holds them
    (`fitted`), their JSON (the inside of the document's `[...]`: `texts`), the problems of fitting them, or the
    mapping problem that holds it back. What `_line_items` and `_fitted_invoice` give, invoice by invoice."""

    def __init__(self, invoices: pd.DataFrame, lines: pd.DataFrame, rules: _Rules) -> None:
        n = len(invoices)
        self.items: list[list[dict] | None] = [None] * n
        # an invoice's items' JSON: flat[text_start[i]:text_end[i]] joined by ", " (an item's JSON, or an invoice's)
        self.flat: list[str] = []
        self.text_start = np.zeros(n, dtype=np.int64)
        self.text_end = np.zeros(n, dtype=np.int64)
        self.fitting: dict[int, list[str]] = {}  # invoice position -> its line items' fitting problems
        self.refused: dict[int, MappingProblem] = {}  # invoice position -> why it is held back
        self.rules = rules
        self.invoices = {c: invoices[c].to_numpy(dtype=object) for c in invoices.columns}
        if not n:  # no invoice (its frame may lack columns); the lines' own are read as one invoice at a time would
            lines.sort_values("line_no")[[*LINE_FIELDS, "tax"]]
            return
        live = self.invoices["status"] != "deleted"
        keys = pd.Index(self.invoices["invoice_key"])
        if not keys.is_unique:  # two invoices of one key: each takes every line of the key, one at a time
            self._by_key(lines, live)
        else:
            self._by_invoice(keys, lines, live)
        for i in np.flatnonzero(~live).tolist():  # deleted: no line
            self._made(i, [], "")

    def _by_invoice(self, keys: pd.Index, lines: pd.DataFrame, live: np.ndarray) -> None:
        # the lines in invoice order, each invoice's in line_no order (ties: ledger order), as one sort gives them
        owners = keys.get_indexer(lines["invoice_key"].to_numpy(dtype=object))
        by_number = lines["line_no"].reset_index(drop=True).sort_values(kind="stable").index.to_numpy()
        owners = owners[by_number]
        taken = owners >= 0
        taken[taken] = live[owners[taken]]
        order, owners = by_number[taken], owners[taken]
        regroup = np.argsort(owners, kind="stable")
        self.order, self.owner = order[regroup], owners[regroup]
        counts = np.bincount(self.owner, minlength=len(keys))
        ends = np.cumsum(counts)
        starts = ends - counts
        self.lines, self.starts, self.ends = lines, starts, ends
        fast = live & self._line_sums(self.owner, starts, ends)
        self._fast(fast, counts)
        self._exact(np.flatnonzero(live & ~fast))

    def _made(self, i: int, items: list[dict], text: str) -> None:
        self.items[i] = items
        self.text_start[i] = len(self.flat)
        self.flat.append(text)
        self.text_end[i] = len(self.flat)

    def texts(self, which: list[int]) -> list[str]:
        """The items' JSON of the invoices `which`."""
        flat = self.flat
        spans = zip(self.text_start[which].tolist(), self.text_end[which].tolist(), strict=True)
        return [flat[a] if b - a == 1 else ", ".join(flat[a:b]) for a, b in spans]

    def field(self, name: str) -> np.ndarray:
        """A line field, in `order`."""
        return self.lines[name].to_numpy(dtype=object)[self.order]

    def _line_sums(self, owner: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Works out each distinct line's item (`codes`, `templates`, `fragments`: per line, its item and JSON), and
        returns which invoices take them as they are: no mapping problem, no value of another kind, and a total and
        tax in whole cents, over which `allocate`'s spread of the rounded lines (largest remainder first) is worked
        out here in integer cents."""
        rules, mapping = self.rules, self.rules.mapping
        n = len(starts)
        amount_codes, amounts = written_rows([self.field(name) for name in AMOUNT_FIELDS])
        other = np.array([w is None for w in amounts], dtype=bool)[amount_codes]
        descriptions, tax_names, item_codes = (self.field(c) for c in ("description", "tax_name", "item_code"))
        description_codes, odd = _text_codes(descriptions, none=False)
        other |= odd
        name_codes, odd = _text_codes(tax_names, none=True)
        other |= odd
        item_code_codes, odd_item_codes = _text_codes(item_codes, none=True)
        other |= odd_item_codes
        # the invoice's practitioner and business, where the mapping's accounts or tracking depend on them
        practitioners, businesses = self.invoices["practitioner_id"], self.invoices["business_id"]
        by_person = bool(mapping.accounts.by_practitioner or mapping.accounts.by_business or mapping.tracking)
        invoice_ok = np.ones(n, dtype=bool)
        if by_person:
            person_codes, odd = _text_codes(practitioners, none=True)
            business_codes, odd_business = _text_codes(businesses, none=True)
            invoice_ok &= ~(odd | odd_business)
            persons = _combined(person_codes, business_codes)
        else:
            persons = np.zeros(n, dtype=np.int64)

        def head(i: int) -> dict:
            return {"practitioner_id": practitioners[i], "business_id": businesses[i]}

        trackings: list[list[dict] | None] = []
        for i in first_positions(persons).tolist():  # tracking per practitioner and business
            try:
                trackings.append(rules.tracking(head(i)))
            except MappingProblem:
                trackings.append(None)
        invoice_ok &= np.array([t is not None for t in trackings], dtype=bool)[persons]
        line_persons = persons[owner]
        # an account per item code (and practitioner and business, where the mapping looks at them)
        by_account = bool(mapping.accounts.by_practitioner or mapping.accounts.by_business)
        account_keys = _combined(item_code_codes, line_persons if by_account else np.zeros_like(item_code_codes))
        answers: dict[str, int] = {}
        accounts: list[str | None] = []  # per answer id: the account, None for a problem
        account_ids = np.empty(int(account_keys.max(initial=-1)) + 1, dtype=np.int64)
        for key, r in enumerate(first_positions(account_keys).tolist()):
            try:
                if odd_item_codes[r]:
                    raise MappingProblem("an item code of another kind: the exact path")
                account = rules.account(item_codes[r], head(owner[r]))
            except MappingProblem:
                account_ids[key] = len(accounts)
                accounts.append(None)
                continue
            if account not in answers:
                answers[account] = len(accounts)
                accounts.append(account)
            account_ids[key] = answers[account]
        line_accounts = account_ids[account_keys]
        tracked = line_persons if mapping.tracking else np.zeros_like(line_persons)
        signature = _combined(description_codes, name_codes, amount_codes, line_accounts, tracked)
        # each distinct line's item, worked out as `_line_items` works out a line whose amounts need no spreading
        firsts = first_positions(signature).tolist()
        k = len(firsts)
        line_cents, line_tax = np.zeros(k, dtype=np.int64), np.zeros(k, dtype=np.int64)
        exact = np.zeros(k, dtype=bool)
        templates: list[dict | None] = [None] * k
        fragments: list[str | None] = [None] * k
        inputs: list[tuple | None] = [None] * k  # what a line's item is made of, its amounts apart
        rounded_amounts: list[tuple[Decimal, Decimal] | None] = [None] * k  # its total and tax to the cent
        remainders: list[tuple[Decimal, Decimal] | None] = [None] * k  # part - rounded: who gets a spread cent
        for s, r in enumerate(firsts):
            account = accounts[line_accounts[r]]
            tracking = trackings[line_persons[r]]
            if other[r] or account is None or tracking is None:
                continue
            quantity, unit, rate, total, tax = amounts[amount_codes[r]]
            rounded, rounded_tax = rounded_cents(total), rounded_cents(tax)
            if rounded is None or rounded_tax is None or not all(v.is_finite() for v in (quantity, unit, rate)):
                continue
            inputs[s] = (descriptions[r], tax_names[r], quantity, unit, rate, account, tracking)
            rounded_amounts[s] = (rounded[0], rounded_tax[0])
            made = self._item(*inputs[s], *rounded_amounts[s])
            if made is not None:
                templates[s], fragments[s] = made
                (line_cents[s], line_tax[s]), exact[s] = (rounded[1], rounded_tax[1]), True
                remainders[s] = (total - rounded[0], tax - rounded_tax[0])
        # per invoice: every line has its item, and the rounded cents land on the total and the tax, or `allocate`
        # spreads the difference (largest remainder first)
        itemised = _sums((~exact[signature]).astype(np.int64), starts, ends) == 0
        (totals, taxes), (totals_ok, taxes_ok) = whole_cents([self.invoices["total"], self.invoices["tax_total"]])
        spreadable = invoice_ok & itemised & totals_ok & taxes_ok
        counts = ends - starts
        spread = [
            _spread(owner, _ranks([r and r[m] for r in remainders])[signature], residual, counts)
            for m, residual in enumerate(
                (
                    np.where(spreadable, totals - _sums(line_cents[signature], starts, ends), 0),
                    np.where(spreadable, taxes - _sums(line_tax[signature], starts, ends), 0),
                )
            )
        ]
        self.codes, self.templates, self.fragments = signature, templates, fragments
        if spread[0].any() or spread[1].any():  # lines with a cent more or less: their items too
            self.codes = _combined(signature, *spread)
            self.templates, self.fragments = [], []
            for r in first_positions(self.codes).tolist():
                s, more, more_tax = signature[r], int(spread[0][r]), int(spread[1][r])
                made = (templates[s], fragments[s])
                if (more or more_tax) and inputs[s] is not None:
                    amount, tax = rounded_amounts[s]  # as they are (a -0.00 stays -0.00) unless a cent is spread
                    made = self._item(
                        *inputs[s],
                        _in_cents(int(line_cents[s]) + more) if more else amount,
                        _in_cents(int(line_tax[s]) + more_tax) if more_tax else tax,
                    )
                    made = (None, None) if made is None else made
                self.templates.append(made[0])
                self.fragments.append(made[1])
            made_all = np.array([t is not None for t in self.templates], dtype=bool)
            itemised = _sums((~made_all[self.codes]).astype(np.int64), starts, ends) == 0
        none = starts == ends  # no line: no item, whatever the total (`allocate` of no part)
        return invoice_ok & itemised & (none | (totals_ok & taxes_ok))

    def _item(
        self, description: str, tax_name: str | None, quantity: Decimal, unit: Decimal, rate: Decimal,
        account: str, tracking: list[dict], amount: Decimal, tax: Decimal,
    ) -> tuple[dict, str] | None:  # fmt: skip
        """A line's item (as `_line_items` and `_fitted_invoice` make it) once `allocate` gave it `amount` and `tax`,
        and its JSON; None when the exact path must make it."""
        rules = self.rules
        try:
            priced = rules.priced(quantity, unit, rate, amount)
            if priced["Quantity"] != quantity:
                description = f"{description} (x{quantity.normalize()})"
            item = {
                "Description": description[:4000],
                **priced,
                "LineAmount": amount,
                "AccountCode": account,
                "TaxType": rules.tax_type(tax_name, rate),
            }
            if tax != (inclusive_tax(amount, rate) if rate else ZERO_TAX):
                item["TaxAmount"] = tax
        except (MappingProblem, ArithmeticError):
            return None
        if tracking:
            item["Tracking"] = tracking
        (item,), problems = _fitted_items([item])
        return None if problems else (item, _CANONICAL.encode(item))

    def _fast(self, fast: np.ndarray, counts: np.ndarray) -> None:
        """The items of the `fast` invoices: a copy of each of their lines' item (a dict of its own per line, as
        `_line_items` gives), and their JSON."""
        if not fast.any():
            return
        signature = self.codes[fast[self.owner]]
        templates = np.empty(len(self.templates), dtype=object)
        templates[:] = self.templates
        chosen = templates[signature]
        if any(t is not None and "Tracking" in t for t in self.templates):
            flat = [{**t, "Tracking": [dict(option) for option in t["Tracking"]]} if "Tracking" in t else t.copy()
                    for t in chosen]  # fmt: skip
        else:
            flat = list(map(dict.copy, chosen))
        del chosen
        fragments = np.empty(len(self.fragments), dtype=object)
        fragments[:] = self.fragments
        at = len(self.flat)
        self.flat += fragments[signature].tolist()
        ends = np.cumsum(counts[fast])
        starts = ends - counts[fast]
        self.text_start[fast], self.text_end[fast] = starts + at, ends + at
        items = [flat[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
        if fast.all():
            self.items = items
            return
        for i, these in zip(np.flatnonzero(fast).tolist(), items, strict=True):
            self.items[i] = these

    def _exact(self, which: np.ndarray, positions: dict[int, np.ndarray] | None = None) -> None:
        """`_line_items` and `_fitted_items`, one invoice at a time, for the invoices `which` (positions in the
        ledger's invoices); `positions`: each one's lines (positions in the ledger's lines, in line order), else its
        range of `order`."""
        if not len(which):
            return
        if positions is None:
            positions = {i: self.order[self.starts[i] : self.ends[i]] for i in which.tolist()}
        taken = np.concatenate([positions[i] for i in which.tolist()]).astype(np.int64)
        columns = {f: self.lines[f].to_numpy(dtype=object)[taken].tolist() for f in (*LINE_FIELDS, "tax")}
        names = list(self.invoices)
        at = 0
        for i in which.tolist():
            count = len(positions[i])
            invoice = {name: self.invoices[name][i] for name in names}
            try:
                raw = _line_items(invoice, list(range(at, at + count)), columns, self.rules)
            except MappingProblem as problem:
                self.refused[i] = problem
            else:
                items, problems = _fitted_items(raw)
                self._made(i, items, ", ".join(map(_CANONICAL.encode, items)))
                if problems:
                    self.fitting[i] = problems
            at += count

    def _by_key(self, lines: pd.DataFrame, live: np.ndarray) -> None:
        """Invoice keys that repeat: every live invoice the exact way, with all the lines of its key."""
        self.lines = lines
        by_number = lines["line_no"].reset_index(drop=True).sort_values(kind="stable").index.to_numpy()
        of_key: dict[str, list[int]] = {}
        for n, key in zip(by_number.tolist(), lines["invoice_key"].to_numpy(dtype=object)[by_number], strict=True):
            of_key.setdefault(key, []).append(n)
        which = np.flatnonzero(live)
        keys = self.invoices["invoice_key"]
        self._exact(which, {i: np.array(of_key.get(keys[i], []), dtype=np.int64) for i in which.tolist()})
