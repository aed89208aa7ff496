"""The ledger's contacts as Xero contacts: names from first and last name, fields fitted to Xero's limits, two
people of one name kept apart (the later id appended), the contacts that cannot be sent set aside with the reason."""

from __future__ import annotations

import numpy as np
import pandas as pd

from clinic_etl.xero.document_hash import _hashes, _json_documents, content_hash
from clinic_etl.xero.fitting import _fitted, _frame_of, _one_line, _one_lines, _unfitted

CONTACT_COLUMNS = ["contact_key", "Name", "FirstName", "LastName", "EmailAddress", "content_hash", "day"]


def contact_name(first: object, last: object, fallback: str) -> str:
    name = " ".join(_one_line(p) for p in (first, last) if isinstance(p, str) and _one_line(p))
    return name or fallback


def _contacts_in_order(contacts: pd.DataFrame) -> np.ndarray:
    """Positions of `contacts` by (length, contact_key), ties in frame order (as `sorted` gives them)."""
    keys = contacts["contact_key"].to_numpy(dtype=object)
    lengths = np.fromiter(map(len, keys), dtype=np.int64, count=len(keys))
    ranks = pd.factorize(keys, sort=True)[0]  # the keys' order as str compare
    return np.lexsort((ranks, lengths))


def contacts_frame(contacts: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Xero contacts (fields cleaned and cut to Xero's limits), and the contacts that cannot be sent, by key."""
    if contacts.empty or pd.api.types.infer_dtype(contacts["contact_key"], skipna=False) != "string":
        return _contacts_frame_rows(contacts)
    order = _contacts_in_order(contacts)  # the lower id keeps the plain name, deterministically
    keys, first, last, email = (
        contacts[c].to_numpy(dtype=object)[order].tolist() for c in ("contact_key", "first_name", "last_name", "email")
    )
    names = [
        f"{a} {b}" if a and b else a or b or key
        for a, b, key in zip(_one_lines(first), _one_lines(last), keys, strict=True)
    ]  # contact_name, a column at a time
    element = {
        "ContactNumber": keys,
        "Name": names,
        "FirstName": [v or None for v in first],
        "LastName": [v or None for v in last],
        "EmailAddress": [(v or None) if isinstance(v, str) else None for v in email],
    }
    problems = {}
    unfitted = _unfitted(element, "Contact")
    for n in [] if unfitted is None else np.flatnonzero(unfitted).tolist():  # `_fitted` where it changes something
        fitted_row, too_long = _fitted("Contact", {name: values[n] for name, values in element.items()})
        if too_long:
            problems[keys[n]] = "; ".join(too_long)
        for name, values in element.items():
            if values is keys:
                element[name] = values = list(keys)
            values[n] = fitted_row[name]
    frame = _frame_of({"contact_key": element.pop("ContactNumber"), **element}, CONTACT_COLUMNS[:-2])
    # The hash covers the source's fields (the plain name), not a disambiguation that depends on which patients
    # a run happens to hold: a day re-run alone after a month's run must find every contact unchanged.
    frame["content_hash"] = _hashes(
        _json_documents({c: frame[c].tolist() for c in ("Name", "FirstName", "LastName", "EmailAddress")})
    )
    # Xero contact names are unique: two patients with one name stay two contacts, the later id disambiguated
    names, numbers = frame["Name"].tolist(), frame["contact_key"].tolist()
    again = pd.Series(list(map(str.casefold, names)), dtype=object).duplicated().to_numpy()
    for n in np.flatnonzero(again).tolist():
        names[n] = disambiguated(names[n], numbers[n])
    frame["Name"] = names
    return frame, problems


def _contacts_frame_rows(contacts: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """`contacts_frame` one contact at a time (no contact, or keys that are not all str)."""
    rows, problems = [], {}
    ordered = sorted(contacts.itertuples(index=False), key=lambda c: (len(c.contact_key), c.contact_key))
    for c in ordered:  # the lower id keeps the plain name, deterministically
        element, too_long = _fitted(
            "Contact",
            {
                "ContactNumber": c.contact_key,
                "Name": contact_name(c.first_name, c.last_name, c.contact_key),
                "FirstName": (c.first_name or None),
                "LastName": (c.last_name or None),
                "EmailAddress": (c.email or None) if isinstance(c.email, str) else None,
            },
        )
        if too_long:
            problems[c.contact_key] = "; ".join(too_long)
        rows.append({"contact_key": element.pop("ContactNumber"), **element})
    frame = pd.DataFrame(rows, columns=CONTACT_COLUMNS[:-2])
    frame["content_hash"] = [content_hash(r) for r in frame.drop(columns="contact_key").to_dict("records")]
    seen: set[str] = set()
    names = []
    for name, key in zip(frame["Name"], frame["contact_key"], strict=True):
        names.append(disambiguated(name, key) if name.casefold() in seen else name)
        seen.add(name.casefold())
    frame["Name"] = names
    return frame, problems


def disambiguated(name: str, contact_key: str) -> str:
    suffix = f" ({contact_key.rsplit(':', 1)[-1]})"
    return name[: 255 - len(suffix)] + suffix
